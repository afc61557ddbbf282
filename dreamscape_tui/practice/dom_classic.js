// ChatGPT's classic DOM (2025) and, with its CodeMirror code viewer, the 2026 variant.
//
// The two differ only in how code blocks render (codeviews.js); everything here is
// the same: data-testid everywhere, a ProseMirror composer, one trailing composer
// button (send / stop / voice), articles per turn, the turn action bar once an
// answer is complete, attachments in the composer, the Free-plan notice above it.

import { CONFIG, Conversation, MODEL, el, installExecCommand, uuid } from './conversation.js';
import { classicCodeBlock, copyText, viewerCodeBlock } from './codeviews.js';
import { PromptEditor } from './editor.js';
import { renderMarkdown } from './markdown.js';
import { PASTED_NAME, Uploads, overPasteLimit, renderChips } from './uploads.js';

const ICONS = {
  send: '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><path d="M10 3l6 6-1.4 1.4L11 6.8V17H9V6.8L5.4 10.4 4 9z"/></svg>',
  stop: '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><rect x="5" y="5" width="10" height="10" rx="1.5"/></svg>',
  voice: '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><rect x="3" y="8" width="2" height="4"/><rect x="7" y="5" width="2" height="10"/><rect x="11" y="3" width="2" height="14"/><rect x="15" y="7" width="2" height="6"/></svg>',
  plus: '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><path d="M9 4h2v5h5v2h-5v5H9v-5H4V9h5z"/></svg>',
  copy: '<svg viewBox="0 0 20 20" fill="none" stroke="currentColor" stroke-width="1.6" aria-hidden="true"><rect x="7" y="7" width="9" height="9" rx="2"/><path d="M13 7V5a1 1 0 0 0-1-1H5a1 1 0 0 0-1 1v7a1 1 0 0 0 1 1h2"/></svg>',
  good: '<svg viewBox="0 0 20 20" fill="none" stroke="currentColor" stroke-width="1.6" aria-hidden="true"><path d="M6 9l3-6a2 2 0 0 1 2 2v3h4l-1.5 8H6z"/></svg>',
  bad: '<svg viewBox="0 0 20 20" fill="none" stroke="currentColor" stroke-width="1.6" aria-hidden="true"><path d="M6 11l3 6a2 2 0 0 0 2-2v-3h4L13.5 4H6z"/></svg>',
  file: '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><path d="M5 2h7l4 4v12H5z"/></svg>',
  close: '<svg viewBox="0 0 20 20" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true"><path d="M5 5l10 10M15 5L5 15"/></svg>',
};

export function start(root, dom) {
  new ClassicPage(root, dom === 'codemirror' ? viewerCodeBlock : classicCodeBlock).show();
}

class ClassicPage {
  constructor(root, codeBlock) {
    this.root = root;
    this.codeBlock = codeBlock;
    this.conversation = new Conversation(this);
    this.editor = null;
    this.uploads = new Uploads(() => { this.renderAttachments(); this.update(); });
    this.button = null;
    installExecCommand(() => this.editor);
  }

  show() {
    if (CONFIG.loggedIn === false && !CONFIG.loggedOutComposer) this.showLoginWall();
    else this.showChat(CONFIG.loggedIn !== false);
  }

  header(loggedIn) {
    const right = loggedIn
      ? el('span', { class: 'practice-badge', text: 'Practice page (offline)' })
      : el('div', { class: 'auth-buttons' }, [
        el('button', { class: 'btn-primary', 'data-testid': 'login-button', text: 'Log in' }),
        el('button', { class: 'btn-secondary', 'data-testid': 'signup-button', text: 'Sign up for free' }),
      ]);
    const next = encodeURIComponent(location.pathname + location.search);
    right.querySelectorAll('button').forEach((b) => {
      b.addEventListener('click', () => { location.href = `/auth/login?next=${next}`; });
    });
    return el('header', { class: 'page-header' }, [
      el('button', { class: 'model-switcher', 'data-testid': 'model-switcher-dropdown-button', 'aria-label': `Model selector, current model is ${MODEL}` }, [
        'ChatGPT', el('span', { class: 'model-name', text: MODEL }),
      ]),
      right,
    ]);
  }

  /** The logged-out state: no composer at all, only the ways in. */
  showLoginWall() {
    this.editor = null;
    this.actions = null;
    const wall = el('div', { class: 'login-wall', 'data-testid': 'login-wall' }, [
      el('h1', { text: 'Welcome back' }),
      el('p', { text: 'Log in or sign up to get smarter responses, upload files and images, and more.' }),
    ]);
    this.root.replaceChildren(this.header(false), el('main', { class: 'thread' }, [wall]));
  }

  showChat(loggedIn) {
    this.thread = el('div', { class: 'thread-inner', 'data-testid': 'conversation' });
    const input = el('div', {
      id: 'prompt-textarea', contenteditable: 'true', translate: 'no', class: 'ProseMirror',
      role: 'textbox', 'aria-multiline': 'true', 'aria-label': 'Message ChatGPT', tabindex: '0',
    });
    // ChatGPT keeps a hidden fallback textarea next to its editor; so do we, so
    // that a client looking for "a textarea" fails here as it would there.
    const fallback = el('textarea', { name: 'prompt-textarea', class: 'hidden', placeholder: 'Ask anything', 'aria-hidden': 'true', tabindex: '-1' });
    const fileInput = el('input', { type: 'file', multiple: true, class: 'hidden', tabindex: '-1', id: 'upload-files' });
    fileInput.addEventListener('change', () => {
      this.uploads.addFiles(fileInput.files);
      fileInput.value = '';
    });
    const plus = el('button', { type: 'button', class: 'composer-btn secondary', 'data-testid': 'composer-plus-btn', 'aria-label': 'Add photos and files', html: ICONS.plus });
    plus.addEventListener('click', () => fileInput.click());
    this.chips = el('div', { class: 'composer-attachments' });
    this.actions = el('div', { class: 'composer-trailing', 'data-testid': 'composer-trailing-actions' });
    const form = el('form', { class: 'composer', 'data-type': 'unified-composer' }, [
      this.chips,
      el('div', { class: 'composer-row' }, [
        el('div', { class: 'composer-leading' }, [plus, fileInput]),
        el('div', { class: 'prosemirror-parent' }, [fallback, input]),
        this.actions,
      ]),
    ]);
    form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    this.notices = el('div', { class: 'composer-notices' });
    this.root.replaceChildren(
      this.header(loggedIn),
      el('main', { class: 'thread', id: 'thread' }, [this.thread]),
      el('div', { class: 'composer-wrap' }, [this.notices, form]),
    );
    this.editor = new PromptEditor(input, {
      onChange: () => this.update(),
      onSubmit: () => this.submit(),
      onPasteText: (text) => this.pasteAsFile(text),
      onFiles: (files) => this.uploads.addFiles(files),
    });
    this.renderAttachments();
    this.update();
    this.editor.focus();
  }

  pasteAsFile(text) {
    if (!overPasteLimit(text, CONFIG.pasteLimit)) return false;
    this.uploads.add(PASTED_NAME, text);
    return true;
  }

  // -- composer ---------------------------------------------------------------------

  submit() {
    if (!this.editor || this.uploads.uploading()) return;
    if (!this.editor.hasText() && !this.uploads.ready().length) return;
    const text = this.editor.text;
    const attachments = this.uploads.take();
    this.editor.setText('');
    this.conversation.submit(text, attachments);
  }

  /** Exactly one trailing button, as on ChatGPT: stop while streaming, else send or voice. */
  update() {
    if (!this.actions || !this.editor) return;
    const filled = this.editor.hasText() || this.uploads.items.length > 0;
    let want = this.conversation.stopShown() ? 'stop' : filled ? 'send' : 'voice';
    if (want === 'send' && this.uploads.uploading()) want = 'send-disabled';
    if (want === this.button) return;
    this.button = want;
    let button;
    if (want === 'stop') {
      button = el('button', { type: 'button', id: 'composer-submit-button', class: 'composer-btn', 'data-testid': 'stop-button', 'aria-label': 'Stop streaming', html: ICONS.stop });
      button.addEventListener('click', () => this.conversation.stop());
    } else if (want.startsWith('send')) {
      button = el('button', {
        type: 'button', id: 'composer-submit-button', class: 'composer-btn', 'data-testid': 'send-button',
        'aria-label': 'Send prompt', html: ICONS.send, disabled: want === 'send-disabled',
      });
      button.addEventListener('click', () => { this.submit(); this.editor.focus(); });
    } else {
      button = el('button', { type: 'button', class: 'composer-btn secondary', 'data-testid': 'composer-speech-button', 'aria-label': 'Start voice mode', html: ICONS.voice });
      button.addEventListener('click', () => this.toast('Voice mode is not available on the practice page.'));
    }
    this.actions.replaceChildren(button);
  }

  renderAttachments() {
    if (!this.chips) return;
    renderChips(this.chips, this.uploads, { html: ICONS.close }, (item, remove) => el('div', {
      class: 'attachment-chip', 'data-testid': 'composer-attachment', 'data-upload-state': item.state,
    }, [el('span', { class: 'chip-icon', html: ICONS.file }), el('span', { class: 'chip-name', text: item.name }), remove]));
  }

  toast(message) {
    const note = el('div', { class: 'toast', role: 'status', 'data-testid': 'toast', text: message });
    document.body.appendChild(note);
    setTimeout(() => note.remove(), 2500);
  }

  // -- conversation view --------------------------------------------------------------

  article(role, index) {
    const n = index * 2 - (role === 'user' ? 1 : 0);
    const node = el('article', { 'data-testid': `conversation-turn-${n}`, 'data-turn': role });
    this.thread.appendChild(node);
    return node;
  }

  addTurn(turn) {
    const tiles = turn.attachments.map((a) => el('div', { class: 'file-tile', 'data-testid': 'attachment-tile' }, [
      el('span', { class: 'chip-icon', html: ICONS.file }), el('span', { text: a.name }),
    ]));
    const message = el('div', { 'data-message-author-role': 'user', 'data-message-id': uuid() }, tiles);
    if (turn.text) message.appendChild(el('div', { class: 'user-bubble whitespace-pre-wrap', text: turn.text }));
    this.article('user', turn.index).appendChild(message);
    turn.agent = this.article('assistant', turn.index);
    this.scrollToBottom();
  }

  /** The assistant message, created by the first thing the stream shows. */
  message(turn) {
    if (!turn.message) {
      turn.markdown = el('div', { class: 'markdown prose w-full break-words result-streaming' });
      turn.message = el('div', {
        'data-message-author-role': 'assistant', 'data-message-id': `msg-${turn.index}`, 'data-message-model-slug': turn.model,
      }, [turn.markdown]);
      turn.agent.appendChild(turn.message);
    }
    return turn.message;
  }

  modelChanged(turn, notice) {
    if (turn.message) turn.message.setAttribute('data-message-model-slug', turn.model);
    if (notice && this.notices) {
      this.notices.replaceChildren(el('div', {
        class: 'downgrade-notice', 'data-testid': 'model-downgrade-notice', role: 'status', text: notice,
      }));
    }
  }

  renderThinking(turn) {
    const message = this.message(turn);
    if (!turn.preamble) {
      turn.preamble = el('div', { class: 'thinking-preamble', role: 'button', tabindex: '0', 'aria-expanded': 'false' });
      message.insertBefore(turn.preamble, turn.markdown);
    }
    const { done, seconds } = turn.thinking;
    turn.preamble.dataset.state = done ? 'done' : 'thinking';
    turn.preamble.textContent = done ? `Thought for ${seconds}s` : 'Thinking';
    this.scrollToBottom();
  }

  renderAnswer(turn) {
    this.message(turn);
    renderMarkdown(turn.markdown, turn.answer, this.codeBlock);
    this.scrollToBottom();
  }

  /** ChatGPT shows failures inside the assistant's turn, in its error colour. */
  showError(turn, message) {
    turn.agent.appendChild(el('div', { class: 'error-box' }, [
      el('div', { class: 'text-token-text-error', 'data-testid': 'error-message', text: message }),
    ]));
    this.scrollToBottom();
  }

  /** The turn action bar appears only once the answer is complete (or stopped). */
  finish(turn, outcome) {
    if (turn.markdown) turn.markdown.classList.remove('result-streaming');
    if (outcome === 'error' || (outcome === 'stopped' && !turn.message)) return;
    this.message(turn).querySelector('.markdown').classList.remove('result-streaming');
    const button = (testid, label, icon, onClick) => {
      const b = el('button', { type: 'button', class: 'turn-action', 'data-testid': testid, 'aria-label': label, html: icon });
      b.addEventListener('click', onClick);
      return b;
    };
    const thanks = () => this.toast('Thank you for your feedback!');
    turn.agent.appendChild(el('div', { class: 'turn-actions', 'data-testid': 'turn-actions' }, [
      button('copy-turn-action-button', 'Copy', ICONS.copy, () => { copyText(turn.answer); this.toast('Copied!'); }),
      button('good-response-turn-action-button', 'Good response', ICONS.good, thanks),
      button('bad-response-turn-action-button', 'Bad response', ICONS.bad, thanks),
    ]));
  }

  loggedOut() {
    this.showLoginWall();
  }

  scrollToBottom() {
    const main = document.getElementById('thread');
    if (main) main.scrollTop = main.scrollHeight;
  }
}
