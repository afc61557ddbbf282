// The conversation engine every DOM shares: turns, the request, the event stream.
//
// A DOM module (dom_*.js) supplies a view that draws turns, buttons and errors in
// its own markup; this module decides what happens and when, so each DOM behaves
// the same way where the client depends on it: Enter while streaming queues the
// prompt, the stop control stays up through pauses, a stopped or failed stream
// ends its turn, a 401 logs the page out.
//
// View interface (all methods required):
//   addTurn(turn)              user message + assistant placeholder, at submit
//   modelChanged(turn, notice) the server answers as turn.model (Free-plan notice)
//   renderThinking(turn)       turn.thinking: {done: false} or {done: true, seconds, raw}
//   renderAnswer(turn)         turn.answer grew (markdown source so far)
//   showError(turn, message)   the turn failed with this text
//   finish(turn, outcome)      'done' | 'stopped' | 'error': the turn is over
//   update()                   busy/stop state changed: redraw the composer buttons
//   loggedOut()                the server answered 401

export const CONFIG = JSON.parse(document.getElementById('practice-config')?.textContent || '{}');
export const MODEL = new URLSearchParams(location.search).get('model') || 'auto';
export const GENERIC_ERROR = 'Something went wrong. If this issue persists please contact us through our help center.';

/** Delay after "Thinking" starts before the stop control vanishes until thinking ends. */
const STOP_HIDE_AFTER_MS = 300;

/** crypto.randomUUID needs a secure context; keep working if served on a LAN address. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) => (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
}

/** Build an element: attrs `text`/`html`/`class` are special, others are attributes. */
export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'html') node.innerHTML = value;
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children);
  return node;
}

/** "Thought for 3s" style duration: whole seconds, at least one. */
export function wholeSeconds(seconds) {
  return Math.max(1, Math.round(Number(seconds) || 0));
}

/** Route execCommand edits aimed at an editor through its text model (exact text). */
export function installExecCommand(getEditor) {
  const native = Document.prototype.execCommand;
  document.execCommand = function execCommand(command, showUI, value) {
    const editor = getEditor();
    if (editor && editor.ownsSelection() && editor.exec(String(command).toLowerCase(), value)) return true;
    return native.call(this, command, showUI, value);
  };
}

export class Conversation {
  constructor(view) {
    this.view = view;
    this.conversationId = null;
    this.parentId = uuid();
    this.pending = [];   // turns submitted but not yet requested (Enter while streaming queues)
    this.active = null;  // the turn whose answer is streaming
    this.turns = 0;
  }

  /** Something is queued or streaming. */
  busy() {
    return this.active !== null || this.pending.length > 0;
  }

  /** Whether the stop control should show: busy, except in a reasoning model's quiet spell. */
  stopShown() {
    return this.busy() && !(this.active && this.active.stopHidden);
  }

  /** Send `text` with uploaded `attachments` ([{id, name}]); queued while another streams. */
  submit(text, attachments = []) {
    this.turns += 1;
    const turn = {
      index: this.turns, text, attachments, answer: '', model: MODEL, thinking: null,
      controller: null, stopHidden: false, hideTimer: null, outcome: null,
    };
    this.view.addTurn(turn);
    this.pending.push(turn);
    this.view.update();
    this.pump();
    return turn;
  }

  stop() {
    if (this.active && this.active.controller) this.active.controller.abort();
  }

  async pump() {
    if (this.active || !this.pending.length) return;
    const turn = this.pending.shift();
    this.active = turn;
    this.view.update();
    try {
      turn.outcome = await this.run(turn);
    } catch (err) {
      this.view.showError(turn, GENERIC_ERROR);
      turn.outcome = 'error';
    } finally {
      clearTimeout(turn.hideTimer);
      turn.stopHidden = false;
      this.active = null;
      if (turn.outcome !== 'logged-out') this.view.finish(turn, turn.outcome || 'error');
      this.view.update();
      this.pump();
    }
  }

  /** One request/stream; resolves to the turn's outcome. */
  async run(turn) {
    turn.controller = new AbortController();
    const messageId = uuid();
    const body = {
      action: 'next',
      messages: [{
        id: messageId, author: { role: 'user' },
        content: { content_type: 'text', parts: [turn.text] },
        metadata: turn.attachments.length ? { attachments: turn.attachments.map((a) => ({ id: a.id, name: a.name })) } : {},
      }],
      conversation_id: this.conversationId,
      parent_message_id: this.parentId,
      model: MODEL,
      timezone_offset_min: new Date().getTimezoneOffset(),
    };
    this.parentId = messageId;
    let response;
    try {
      response = await fetch('/backend-api/conversation', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify(body),
        signal: turn.controller.signal,
        credentials: 'same-origin',
      });
    } catch (err) {
      if (err.name === 'AbortError') return 'stopped';
      this.view.showError(turn, GENERIC_ERROR);
      return 'error';
    }
    if (response.status === 401) {
      this.view.loggedOut();
      return 'logged-out';
    }
    if (!response.ok) {
      this.view.showError(turn, await errorMessage(response));
      return 'error';
    }
    this.conversationId = this.conversationId || uuid();
    let finished = false;
    try {
      finished = await this.read(turn, response.body.getReader());
    } catch (err) {
      if (err.name === 'AbortError' || turn.controller.signal.aborted) return 'stopped';
      this.view.showError(turn, GENERIC_ERROR);
      return 'error';
    }
    if (finished) return 'done';
    if (turn.controller.signal.aborted) return 'stopped';
    this.view.showError(turn, GENERIC_ERROR);
    return 'error';
  }

  /** Read SSE events until [DONE]; true if the stream completed normally. */
  async read(turn, reader) {
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      buffer += decoder.decode(value, { stream: true });
      let boundary;
      let grew = false;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        if (data === '[DONE]') {
          if (grew) this.view.renderAnswer(turn);
          return true;
        }
        if (!data) continue;
        const payload = JSON.parse(data);
        if (typeof payload.v === 'string') {
          turn.answer += payload.v;
          grew = true;
        } else if (payload.type === 'model') {
          turn.model = payload.model_slug || turn.model;
          this.view.modelChanged(turn, payload.notice || '');
        } else if (payload.type === 'reasoning') {
          this.reasoning(turn, payload);
        } else if (payload.error) {
          this.view.showError(turn, payload.error.message || GENERIC_ERROR);
        }
      }
      if (grew) this.view.renderAnswer(turn);
    }
  }

  /** "Thinking": after a moment the stop control disappears until the thought is done. */
  reasoning(turn, payload) {
    clearTimeout(turn.hideTimer);
    if (payload.status === 'start') {
      turn.thinking = { done: false, seconds: 0 };
      turn.hideTimer = setTimeout(() => {
        if (this.active === turn && !turn.thinking.done) {
          turn.stopHidden = true;
          this.view.update();
        }
      }, STOP_HIDE_AFTER_MS);
    } else {
      turn.thinking = { done: true, seconds: wholeSeconds(payload.seconds), raw: Number(payload.seconds) || 0 };
      turn.stopHidden = false;
      this.view.update();
    }
    this.view.renderThinking(turn);
  }
}

async function errorMessage(response) {
  try {
    const payload = await response.json();
    const detail = payload && payload.detail;
    if (detail && typeof detail.message === 'string') return detail.message;
  } catch (err) {
    // not JSON: fall through to the generic text
  }
  return GENERIC_ERROR;
}
