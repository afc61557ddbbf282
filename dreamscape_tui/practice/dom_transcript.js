// ChatGPT's second 2026 DOM ("transcript"): data attributes, no data-testid anywhere.
//
// A plain textarea composer (#mobile-composer-prompt, Enter sends), one submit
// button that turns into the stop control while an answer streams, an <ol> of
// <li> messages whose streaming/complete state is in data attributes, and code
// blocks as the CodeMirror viewer (codeviews.js).

import { CONFIG, Conversation, MODEL, el, uuid } from './conversation.js';
import { copyText, viewerCodeBlock } from './codeviews.js';
import { renderMarkdown } from './markdown.js';
import { PASTED_NAME, Uploads, overPasteLimit, renderChips } from './uploads.js';

const ICONS = {
  send: '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><path d="M10 3l6 6-1.4 1.4L11 6.8V17H9V6.8L5.4 10.4 4 9z"/></svg>',
  stop: '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><rect x="5" y="5" width="10" height="10" rx="1.5"/></svg>',
  plus: '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><path d="M9 4h2v5h5v2h-5v5H9v-5H4V9h5z"/></svg>',
  copy: '<svg viewBox="0 0 20 20" fill="none" stroke="currentColor" stroke-width="1.6" aria-hidden="true"><rect x="7" y="7" width="9" height="9" rx="2"/><path d="M13 7V5a1 1 0 0 0-1-1H5a1 1 0 0 0-1 1v7a1 1 0 0 0 1 1h2"/></svg>',
  close: '<svg viewBox="0 0 20 20" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true"><path d="M5 5l10 10M15 5L5 15"/></svg>',
};

export function start(root) {
  new TranscriptPage(root).show();
}

class TranscriptPage {
  constructor(root) {
    this.root = root;
    this.conversation = new Conversation(this);
    this.uploads = new Uploads(() => { this.renderAttachments(); this.update(); });
    this.input = null;
    this.submitButton = null;
  }

  show() {
    const loggedIn = CONFIG.loggedIn !== false;
    document.documentElement.toggleAttribute('data-logged-out', !loggedIn);
    if (!loggedIn && !CONFIG.loggedOutComposer) this.showLoggedOut();
    else this.showChat(loggedIn);
  }

  header(loggedIn) {
    const right = el('div', { class: 't-auth' });
    if (!loggedIn) {
      const next = encodeURIComponent(location.pathname + location.search);
      for (const [attr, text] of [['data-login-button', 'Log in'], ['data-signup-button', 'Sign up for free']]) {
        const b = el('button', { type: 'button', [attr]: true, class: attr === 'data-login-button' ? 'btn-primary' : 'btn-secondary', text });
        b.addEventListener('click', () => { location.href = `/auth/login?next=${next}`; });
        right.appendChild(b);
      }
    }
    return el('header', { class: 'page-header' }, [
      el('button', { type: 'button', class: 'model-switcher', 'data-model-switcher': true, 'aria-label': `Model selector, current model is ${MODEL}` }, [
        'ChatGPT', el('span', { class: 'model-name', text: MODEL }),
      ]),
      right,
    ]);
  }

  showLoggedOut() {
    this.input = null;
    this.submitButton = null;
    document.documentElement.setAttribute('data-logged-out', '');
    const wall = el('div', { class: 'login-wall' }, [
      el('h1', { text: 'Welcome back' }),
      el('p', { text: 'Log in or sign up to get smarter responses, upload files and images, and more.' }),
    ]);
    this.root.replaceChildren(this.header(false), el('main', { class: 'thread' }, [wall]));
  }

  showChat(loggedIn) {
    this.transcript = el('ol', { class: 't-transcript', 'data-conversation-transcript': true });
    this.input = el('textarea', {
      id: 'mobile-composer-prompt', class: 't-input', rows: '1', placeholder: 'Ask anything',
      'aria-label': 'Chat with ChatGPT', autocomplete: 'off', spellcheck: 'false',
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener('input', () => this.update());
    this.input.addEventListener('paste', (e) => this.onPaste(e));
    const fileInput = el('input', { type: 'file', multiple: true, hidden: true, tabindex: '-1' });
    fileInput.addEventListener('change', () => {
      this.uploads.addFiles(fileInput.files);
      fileInput.value = '';
    });
    const plus = el('button', { type: 'button', class: 'composer-btn secondary', 'data-composer-add-files': true, 'aria-label': 'Add files', html: ICONS.plus });
    plus.addEventListener('click', () => fileInput.click());
    this.submitButton = el('button', { type: 'submit', class: 'composer-btn', 'data-composer-submit': true });
    this.submitButton.addEventListener('click', (e) => {
      e.preventDefault();
      if (this.submitButton.hasAttribute('data-stop-generating')) this.conversation.stop();
      else this.submit();
    });
    this.chips = el('div', { class: 'composer-attachments', 'data-composer-attachments': true });
    const form = el('form', { class: 'composer', 'data-composer': true }, [
      this.chips,
      el('div', { class: 'composer-row' }, [plus, fileInput, el('div', { class: 't-input-wrap' }, [this.input]), this.submitButton]),
    ]);
    form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    this.notices = el('div', { class: 'composer-notices' });
    this.root.replaceChildren(
      this.header(loggedIn),
      el('main', { class: 'thread', id: 'thread' }, [el('div', { class: 'thread-inner' }, [this.transcript])]),
      el('div', { class: 'composer-wrap' }, [this.notices, form]),
    );
    this.renderAttachments();
    this.update();
    this.input.focus();
  }

  onPaste(e) {
    const data = e.clipboardData;
    if (data && data.files && data.files.length) {
      e.preventDefault();
      this.uploads.addFiles(data.files);
      return;
    }
    const text = data ? data.getData('text/plain') : '';
    if (overPasteLimit(text, CONFIG.pasteLimit)) {
      e.preventDefault();
      this.uploads.add(PASTED_NAME, text);
    }
    // otherwise the textarea inserts the paste itself
  }

  // -- composer ---------------------------------------------------------------------

  hasText() {
    return Boolean(this.input) && this.input.value.trim() !== '';
  }

  submit() {
    if (!this.input || this.uploads.uploading()) return;
    if (!this.hasText() && !this.uploads.ready().length) return;
    const text = this.input.value;
    const attachments = this.uploads.take();
    this.input.value = '';
    this.conversation.submit(text, attachments);
    this.input.focus();
  }

  /** One button: stop (data-stop-generating) while streaming, else send (disabled when empty). */
  update() {
    const button = this.submitButton;
    if (!button) return;
    const stop = this.conversation.stopShown();
    const ready = (this.hasText() || this.uploads.items.length > 0) && !this.uploads.uploading();
    button.toggleAttribute('data-stop-generating', stop);
    button.disabled = !stop && !ready;
    button.setAttribute('aria-label', stop ? 'Stop generating' : 'Send prompt');
    const icon = stop ? 'stop' : 'send';
    if (button.dataset.icon !== icon) {
      button.innerHTML = ICONS[icon];
      button.dataset.icon = icon;
    }
  }

  renderAttachments() {
    if (!this.chips) return;
    renderChips(this.chips, this.uploads, { 'data-remove-attachment': true, html: ICONS.close },
      (item, remove) => el('div', { class: 'attachment-chip', 'data-composer-attachment': true, 'data-upload-state': item.state }, [
        el('span', { class: 'chip-name', text: item.name }), remove,
      ]));
  }

  toast(message) {
    const note = el('div', { class: 'toast', role: 'status', 'data-toast': true, text: message });
    document.body.appendChild(note);
    setTimeout(() => note.remove(), 2500);
  }

  // -- conversation view --------------------------------------------------------------

  addTurn(turn) {
    const user = el('li', { class: 't-user', 'data-message-role': 'user', 'data-message-id': uuid() });
    for (const a of turn.attachments) user.appendChild(el('div', { class: 'file-tile', 'data-message-attachment': true, text: a.name }));
    if (turn.text) user.appendChild(el('div', { class: 'user-bubble', 'data-user-message': true, text: turn.text }));
    turn.markdown = el('div', { class: 'markdown', 'data-assistant-markdown': true });
    turn.item = el('li', {
      class: 't-assistant', 'data-message-role': 'assistant', 'data-message-id': uuid(),
      'data-message-model-slug': turn.model, 'data-message-streaming': true,
    }, [turn.markdown]);
    this.transcript.append(user, turn.item);
    this.scrollToBottom();
  }

  modelChanged(turn, notice) {
    turn.item.setAttribute('data-message-model-slug', turn.model);
    if (notice) this.notices.replaceChildren(el('div', { class: 'downgrade-notice', role: 'status', 'data-model-notice': true, text: notice }));
  }

  renderThinking(turn) {
    if (!turn.preamble) {
      turn.preamble = el('button', { type: 'button', class: 'thinking-preamble', 'data-reasoning': true, 'aria-expanded': 'false' });
      turn.item.insertBefore(turn.preamble, turn.markdown);
    }
    const { done, seconds } = turn.thinking;
    turn.preamble.dataset.state = done ? 'done' : 'thinking';
    turn.preamble.textContent = done ? `Thought for ${seconds}s` : 'Thinking';
    this.scrollToBottom();
  }

  renderAnswer(turn) {
    renderMarkdown(turn.markdown, turn.answer, viewerCodeBlock);
    this.scrollToBottom();
  }

  showError(turn, message) {
    turn.item.appendChild(el('div', { class: 'error-box', role: 'alert', 'data-message-error': true, text: message }));
    this.scrollToBottom();
  }

  /** Streaming ends; a complete (or stopped) answer gets data-message-complete and its actions. */
  finish(turn, outcome) {
    turn.item.removeAttribute('data-message-streaming');
    if (outcome === 'error') return;
    turn.item.setAttribute('data-message-complete', '');
    const copy = el('button', { type: 'button', class: 'turn-action', 'data-copy-message': true, 'aria-label': 'Copy', html: ICONS.copy });
    copy.addEventListener('click', () => { copyText(turn.answer); this.toast('Copied!'); });
    turn.item.appendChild(el('div', { class: 'turn-actions', 'data-message-actions': true }, [copy]));
  }

  loggedOut() {
    this.showLoggedOut();
  }

  scrollToBottom() {
    const main = document.getElementById('thread');
    if (main) main.scrollTop = main.scrollHeight;
  }
}
