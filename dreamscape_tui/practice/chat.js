// Practice ChatGPT page: conversation, composer buttons, streaming and error states.
//
// Mirrors the selectors and behaviour of the real web UI that the product's
// Selenium client depends on (see dreamscape_tui/practice/__init__.py for the
// contract), so a client that works here has been exercised against the same
// pitfalls: Enter sends, the stop button lingers through pauses, answers stream
// in pieces, code blocks carry label/button noise, errors replace answers.

import { PromptEditor } from './editor.js';
import { renderMarkdown } from './markdown.js';

const CONFIG = JSON.parse(document.getElementById('practice-config')?.textContent || '{}');
const MODEL = new URLSearchParams(location.search).get('model') || 'auto';
const GENERIC_ERROR = 'Something went wrong. If this issue persists please contact us through our help center.';

const ICONS = {
  send: '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><path d="M10 3l6 6-1.4 1.4L11 6.8V17H9V6.8L5.4 10.4 4 9z"/></svg>',
  stop: '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><rect x="5" y="5" width="10" height="10" rx="1.5"/></svg>',
  voice: '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><rect x="3" y="8" width="2" height="4"/><rect x="7" y="5" width="2" height="10"/><rect x="11" y="3" width="2" height="14"/><rect x="15" y="7" width="2" height="6"/></svg>',
};

const root = document.getElementById('__next');

/** crypto.randomUUID needs a secure context; keep working if served on a LAN address. */
function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) => (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
}
const state = {
  turnCount: 0,
  conversationId: null,
  parentId: uuid(),
  pending: [],      // turns submitted but not yet requested (Enter while streaming queues)
  active: null,     // the turn whose answer is streaming
  button: null,     // which composer button is shown: 'send' | 'stop' | 'voice'
};
let editor = null;
let thread = null;
let composerActions = null;

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'html') node.innerHTML = value;
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function header(loggedIn) {
  const right = loggedIn
    ? el('span', { class: 'practice-badge', text: 'Practice page (offline)' })
    : el('div', {}, [
      el('button', { class: 'btn-primary', 'data-testid': 'login-button', text: 'Log in' }),
      el('button', { class: 'btn-secondary', 'data-testid': 'signup-button', text: 'Sign up for free' }),
    ]);
  return el('header', { class: 'page-header' }, [
    el('button', { class: 'model-switcher', 'data-testid': 'model-switcher-dropdown-button', 'aria-label': `Model selector, current model is ${MODEL}` }, [
      'ChatGPT', el('span', { class: 'model-name', text: MODEL }),
    ]),
    right,
  ]);
}

/** The logged-out state: no composer at all, only the ways in. */
function showLoginWall() {
  editor = null;
  composerActions = null;
  const next = encodeURIComponent(location.pathname + location.search);
  const wall = el('div', { class: 'login-wall', 'data-testid': 'login-wall' }, [
    el('h1', { text: 'Welcome back' }),
    el('p', { text: 'Log in or sign up to get smarter responses, upload files and images, and more.' }),
  ]);
  root.replaceChildren(header(false), el('main', { class: 'thread' }, [wall]));
  root.querySelectorAll('[data-testid="login-button"], [data-testid="signup-button"]').forEach((b) => {
    b.addEventListener('click', () => { location.href = `/auth/login?next=${next}`; });
  });
}

function showChat() {
  thread = el('div', { class: 'thread-inner', 'data-testid': 'conversation' });
  const input = el('div', {
    id: 'prompt-textarea', contenteditable: 'true', translate: 'no', class: 'ProseMirror',
    role: 'textbox', 'aria-multiline': 'true', 'aria-label': 'Message ChatGPT', tabindex: '0',
  });
  // ChatGPT keeps a hidden fallback textarea next to its editor; so do we, so
  // that a client looking for "a textarea" fails here as it would there.
  const fallback = el('textarea', { name: 'prompt-textarea', class: 'hidden', placeholder: 'Ask anything', 'aria-hidden': 'true', tabindex: '-1' });
  composerActions = el('div', { class: 'composer-trailing', 'data-testid': 'composer-trailing-actions' });
  const form = el('form', { class: 'composer', 'data-type': 'unified-composer' }, [
    el('div', { class: 'prosemirror-parent' }, [fallback, input]),
    composerActions,
  ]);
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  root.replaceChildren(
    header(true),
    el('main', { class: 'thread', id: 'thread' }, [thread]),
    el('div', { class: 'composer-wrap' }, [form]),
  );
  editor = new PromptEditor(input, { onChange: updateButtons, onSubmit: submit });
  installExecCommand();
  updateButtons();
  editor.focus();
}

/** Route execCommand edits aimed at the composer through the text model (exact text). */
function installExecCommand() {
  const native = Document.prototype.execCommand;
  document.execCommand = function execCommand(command, showUI, value) {
    if (editor && editor.ownsSelection() && editor.exec(String(command).toLowerCase(), value)) return true;
    return native.call(this, command, showUI, value);
  };
}

// -- composer buttons ------------------------------------------------------------

function busy() {
  return state.active !== null || state.pending.length > 0;
}

/** Exactly one trailing button, as on ChatGPT: stop while busy, else send or voice. */
function updateButtons() {
  if (!composerActions) return;
  const want = busy() ? 'stop' : editor.hasText() ? 'send' : 'voice';
  if (want === state.button) return;
  state.button = want;
  let button;
  if (want === 'stop') {
    button = el('button', { type: 'button', id: 'composer-submit-button', class: 'composer-btn', 'data-testid': 'stop-button', 'aria-label': 'Stop streaming', html: ICONS.stop });
    button.addEventListener('click', stopStreaming);
  } else if (want === 'send') {
    button = el('button', { type: 'button', id: 'composer-submit-button', class: 'composer-btn', 'data-testid': 'send-button', 'aria-label': 'Send prompt', html: ICONS.send });
    button.addEventListener('click', () => { submit(); editor.focus(); });
  } else {
    button = el('button', { type: 'button', class: 'composer-btn secondary', 'data-testid': 'composer-speech-button', 'aria-label': 'Start voice mode', html: ICONS.voice });
    button.addEventListener('click', () => toast('Voice mode is not available on the practice page.'));
  }
  composerActions.replaceChildren(button);
}

function toast(message) {
  const note = el('div', { class: 'toast', role: 'status', text: message });
  document.body.appendChild(note);
  setTimeout(() => note.remove(), 2500);
}

// -- conversation ------------------------------------------------------------------

function article(role) {
  state.turnCount += 1;
  const node = el('article', { 'data-testid': `conversation-turn-${state.turnCount}`, 'data-turn': role });
  thread.appendChild(node);
  return node;
}

/** Enter / send button: post the composer text as it is, even mid-stream (queued). */
function submit() {
  if (!editor || !editor.hasText()) return;
  const text = editor.text;
  editor.setText('');
  const userArticle = article('user');
  userArticle.appendChild(el('div', { 'data-message-author-role': 'user', 'data-message-id': uuid() }, [
    el('div', { class: 'user-bubble whitespace-pre-wrap', text }),
  ]));
  state.pending.push({ text, agent: article('assistant'), answer: '', markdown: null, controller: null });
  scrollToBottom();
  updateButtons();
  pump();
}

async function pump() {
  if (state.active || !state.pending.length) return;
  const turn = state.pending.shift();
  state.active = turn;
  updateButtons();
  try {
    await runTurn(turn);
  } finally {
    state.active = null;
    updateButtons();
    pump();
  }
}

function stopStreaming() {
  if (state.active && state.active.controller) state.active.controller.abort();
}

async function runTurn(turn) {
  turn.controller = new AbortController();
  const messageId = uuid();
  const body = {
    action: 'next',
    messages: [{ id: messageId, author: { role: 'user' }, content: { content_type: 'text', parts: [turn.text] }, metadata: {} }],
    conversation_id: state.conversationId,
    parent_message_id: state.parentId,
    model: MODEL,
    timezone_offset_min: new Date().getTimezoneOffset(),
  };
  state.parentId = messageId;
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
    if (err.name !== 'AbortError') showError(turn, GENERIC_ERROR);
    return;
  }
  if (response.status === 401) {
    showLoginWall();
    return;
  }
  if (!response.ok) {
    showError(turn, await errorMessage(response));
    return;
  }
  state.conversationId = state.conversationId || uuid();
  let finished = false;
  try {
    finished = await readStream(turn, response.body.getReader());
  } catch (err) {
    if (err.name !== 'AbortError') showError(turn, GENERIC_ERROR);
    finishMessage(turn);
    return;
  }
  finishMessage(turn);
  if (!finished && !turn.controller.signal.aborted) showError(turn, GENERIC_ERROR);
}

/** Read SSE events until [DONE]; true if the stream completed normally. */
async function readStream(turn, reader) {
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
        if (grew) renderAnswer(turn);
        return true;
      }
      if (!data) continue;
      const payload = JSON.parse(data);
      if (typeof payload.v === 'string') {
        turn.answer += payload.v;
        grew = true;
      } else if (payload.error) {
        showError(turn, payload.error.message || GENERIC_ERROR);
      }
    }
    if (grew) renderAnswer(turn);
  }
}

/** Create the assistant message on the first delta, then re-render it as it grows. */
function renderAnswer(turn) {
  if (!turn.markdown) {
    turn.markdown = el('div', { class: 'markdown prose w-full break-words result-streaming' });
    turn.message = el('div', {
      'data-message-author-role': 'assistant', 'data-message-id': uuid(), 'data-message-model-slug': MODEL,
    }, [turn.markdown]);
    turn.agent.appendChild(turn.message);
  }
  renderMarkdown(turn.markdown, turn.answer);
  scrollToBottom();
}

function finishMessage(turn) {
  if (!turn.markdown) return;
  turn.markdown.classList.remove('result-streaming');
  const copy = el('button', { type: 'button', 'data-testid': 'copy-turn-action-button', 'aria-label': 'Copy', text: 'Copy' });
  copy.addEventListener('click', () => navigator.clipboard?.writeText(turn.answer).catch(() => {}));
  turn.agent.appendChild(el('div', { class: 'turn-actions' }, [copy]));
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

/** ChatGPT shows failures inside the assistant's turn, in its error colour. */
function showError(turn, message) {
  turn.agent.appendChild(el('div', { class: 'error-box' }, [
    el('div', { class: 'text-token-text-error', 'data-testid': 'error-message', text: message }),
  ]));
  scrollToBottom();
}

function scrollToBottom() {
  const main = document.getElementById('thread');
  if (main) main.scrollTop = main.scrollHeight;
}

if (CONFIG.loggedIn === false) showLoginWall();
else showChat();
