// Open WebUI (0.11/0.12) chat page, after its own Svelte source (docs/openwebui-dom.md).
//
// TipTap composer #chat-input (owui_editor.js), #send-message-button only while
// there is something to send, button[aria-label="Stop"] for the whole generation
// (no gap while thinking), messages as div[role=listitem] in ul[role=log], the
// answer in .chat-assistant #response-content-container .markdown-prose, words in
// span.fade-in-token while streaming, the action buttons (copy-response-button,
// Regenerate, ...) once the message is done, CodeMirror code blocks (owui_code.js),
// svelte-sonner toasts, and the /auth page when logged out.

import { CONFIG, Conversation, MODEL, el, installExecCommand, uuid } from './conversation.js';
import { copyText } from './codeviews.js';
import { renderMarkdown } from './markdown.js';
import { owuiCodeBlock } from './owui_code.js';
import { TipTapInput } from './owui_editor.js';
import { Uploads, overPasteLimit } from './uploads.js';

const SVG = (d, extra = '') => `<svg xmlns="http://www.w3.org/2000/svg" fill="none" viewBox="0 0 24 24" stroke-width="2" stroke="currentColor" class="size-4" aria-hidden="true" ${extra}><path stroke-linecap="round" stroke-linejoin="round" d="${d}"/></svg>`;
const ICONS = {
  send: SVG('M4.5 10.5 12 3m0 0 7.5 7.5M12 3v18'),
  stop: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="currentColor" class="size-5"><path fill-rule="evenodd" d="M2.25 12c0-5.385 4.365-9.75 9.75-9.75s9.75 4.365 9.75 9.75-4.365 9.75-9.75 9.75S2.25 17.385 2.25 12zm6-2.438c0-.724.588-1.312 1.313-1.312h4.874c.725 0 1.313.588 1.313 1.313v4.874c0 .725-.588 1.313-1.313 1.313H9.564a1.312 1.312 0 01-1.313-1.313V9.564z" clip-rule="evenodd"/></svg>',
  voice: SVG('M12 18.75a6 6 0 0 0 6-6v-1.5m-6 7.5a6 6 0 0 1-6-6v-1.5m6 7.5v3.75'),
  plus: SVG('M12 4.5v15m7.5-7.5h-15'),
  edit: SVG('m16.862 4.487 1.687-1.688a1.875 1.875 0 1 1 2.652 2.652L6.832 19.82'),
  copy: SVG('M15.666 3.888A2.25 2.25 0 0 0 13.5 2.25h-3c-1.03 0-1.9.693-2.166 1.638'),
  speak: SVG('M19.114 5.636a9 9 0 0 1 0 12.728M16.463 8.288a5.25 5.25 0 0 1 0 7.424'),
  good: SVG('M6.633 10.25c.806 0 1.533-.446 2.031-1.08'),
  bad: SVG('M7.498 15.25H4.372c-1.026 0-1.945-.694-2.054-1.715'),
  more: SVG('M5.25 5.653c0-.856.917-1.398 1.667-.986l11.54 6.347'),
  regen: SVG('M16.023 9.348h4.992v-.001M2.985 19.644v-4.992'),
  chevron: SVG('m19.5 8.25-7.5 7.5-7.5-7.5'),
  info: SVG('m11.25 11.25.041-.02a.75.75 0 0 1 1.063.852l-.708 2.836'),
  close: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 20" fill="currentColor" class="w-4 h-4"><path d="M6.28 5.22a.75.75 0 00-1.06 1.06L8.94 10l-3.72 3.72a.75.75 0 101.06 1.06L10 11.06l3.72 3.72a.75.75 0 101.06-1.06L11.06 10l3.72-3.72a.75.75 0 00-1.06-1.06L10 8.94 6.28 5.22z"/></svg>',
};
const SPINNER = (size) => `<div class="flex justify-center text-center"><svg class="${size}" viewBox="0 0 24 24" fill="currentColor" xmlns="http://www.w3.org/2000/svg"><path d="M12,1A11,11,0,1,0,23,12,11,11,0,0,0,12,1Zm0,19a8,8,0,1,1,8-8A8,8,0,0,1,12,20Z" opacity=".25"/><path d="M10.14,1.16a11,11,0,0,0-9,8.92A1.59,1.59,0,0,0,2.46,12,1.52,1.52,0,0,0,4.11,10.7a8,8,0,0,1,6.66-6.61A1.42,1.42,0,0,0,12,2.69h0A1.57,1.57,0,0,0,10.14,1.16Z" class="spinner_ajPY"/></svg></div>`;
const UPLOADING = 'Oops! There are files still uploading. Please wait for the upload to complete.';
const COPIED = 'Copying to clipboard was successful!';
const FAILED = 'Uh-oh! There was an issue with the response.';

export function start(root) {
  document.title = 'Open WebUI';
  const sheet = document.querySelector('link[rel="stylesheet"]');
  if (sheet) sheet.href = '/cdn/assets/openwebui.css';
  new OpenWebUIPage(root).show();
}

/** svelte-sonner: section > ol[data-sonner-toaster] > li[data-sonner-toast], only while toasts exist. */
function toast(type, message) {
  let section = document.querySelector('section[aria-label="Notifications alt+T"]');
  if (!section) {
    section = el('section', { 'aria-label': 'Notifications alt+T', tabindex: '-1', 'aria-live': 'polite', 'aria-relevant': 'additions text', 'aria-atomic': 'false' }, [
      el('ol', { 'data-sonner-toaster': true, dir: 'ltr', 'data-theme': 'light', 'data-rich-colors': 'true', 'data-y-position': 'top', 'data-x-position': 'right', class: 'toaster' }),
    ]);
    document.body.appendChild(section);
  }
  const close = el('button', { 'aria-label': 'Close toast', 'data-close-button': true, html: ICONS.close });
  const item = el('li', { 'data-sonner-toast': true, 'data-type': type, 'data-styled': 'true', 'data-mounted': 'true', 'data-visible': 'true', role: 'status', tabindex: '0' }, [
    close, el('div', { 'data-icon': true, html: ICONS.info }), el('div', { 'data-content': true }, [el('div', { 'data-title': true, text: message })]),
  ]);
  const remove = () => {
    item.remove();
    if (!section.querySelector('[data-sonner-toast]')) section.remove();
  };
  close.addEventListener('click', remove);
  section.firstChild.appendChild(item);
  setTimeout(remove, 4000);
}

function formatFileSize(size) {
  if (!size) return '0 B';
  const units = ['B', 'KB', 'MB', 'GB'];
  const i = Math.min(units.length - 1, Math.floor(Math.log(size) / Math.log(1024)));
  return `${(size / 1024 ** i).toFixed(i ? 1 : 0)} ${units[i]}`;
}

class OpenWebUIPage {
  constructor(root) {
    this.root = root;
    this.conversation = new Conversation(this);
    this.uploads = new Uploads(() => { this.renderFiles(); this.update(); });
    this.editor = null;
    this.chatId = uuid();
    this.state = null;
    installExecCommand(() => this.editor);
  }

  show() {
    if (CONFIG.tokenLogin) this.loginFromToken();
    else if (CONFIG.loggedIn === false) this.showAuth();
    else this.showChat();
  }

  /** Open WebUI trusts localStorage.token once GET /api/v1/auths/ accepts it; its
   *  session cookie is httpOnly, so a browser with only the cookie stays signed out. */
  async loginFromToken() {
    const token = localStorage.getItem('token');
    // the real page passes through a form-less #auth-page while it signs in
    this.root.replaceChildren(el('div', { id: 'auth-page', text: 'Signing in to Open WebUI' }));
    await new Promise((resolve) => setTimeout(resolve, 400));
    if (token) {
      const reply = await fetch('/api/v1/auths/', { headers: { Authorization: `Bearer ${token}` } });
      if (reply.ok) { this.showChat(); return; }
    }
    this.showAuth();
  }

  /** Logged out: Open WebUI sends the browser to /auth?redirect=... */
  showAuth() {
    this.editor = null;
    this.actions = null;
    const here = location.pathname.startsWith('/auth') ? new URLSearchParams(location.search).get('redirect') || '/' : location.pathname + location.search;
    const dom = new URLSearchParams(location.search).get('dom');
    history.replaceState(null, '', `/auth?redirect=${encodeURIComponent(here)}${dom ? `&dom=${encodeURIComponent(dom)}` : ''}`);
    const field = (id, type, label, autocomplete) => el('div', { class: 'mb-2' }, [
      el('label', { for: id, class: 'text-sm font-medium text-left mb-1 block', text: label }),
      el('input', { id, type, name: id, autocomplete, class: 'my-0.5 w-full text-sm outline-hidden bg-transparent', placeholder: `Enter Your ${label}`, required: true }),
    ]);
    const form = el('form', { class: 'flex flex-col justify-center', method: 'post', action: `/auth/login?next=${encodeURIComponent(here)}` }, [
      el('div', { class: 'mb-1' }, [el('div', { class: 'text-2xl font-medium', text: 'Sign in to Open WebUI' })]),
      el('div', { class: 'flex flex-col mt-4' }, [field('email', 'email', 'Email', 'email'), field('password', 'password', 'Password', 'current-password')]),
      el('div', { class: 'mt-5' }, [el('button', { type: 'submit', class: 'bg-gray-700/5 w-full rounded-full font-medium text-sm py-2.5', text: 'Sign in' })]),
    ]);
    this.root.replaceChildren(el('div', { id: 'auth-page', class: 'bg-white w-full h-screen' }, [
      el('div', { id: 'auth-container', class: 'w-full h-full flex justify-center items-center' }, [
        el('div', { id: 'auth-login-card', class: 'w-full max-w-md px-10' }, [form]),
      ]),
    ]));
  }

  showChat() {
    this.log = el('ul', { role: 'log', class: 'messages-list' });
    this.scroller = el('div', { id: 'messages-container', class: 'h-full w-full flex flex-col overflow-auto z-10' }, [
      el('div', { class: 'h-full w-full flex flex-col pt-2' }, [this.log]),
    ]);
    const input = el('div', {
      id: 'chat-input', contenteditable: 'true', translate: 'no', class: 'tiptap ProseMirror',
      role: 'textbox', 'aria-label': 'Send a Message', tabindex: '0',
    });
    this.fileInput = el('input', { type: 'file', hidden: true, multiple: true });
    this.fileInput.addEventListener('change', () => {
      this.uploads.addFiles(this.fileInput.files);
      this.fileInput.value = '';
    });
    this.files = el('div', { class: 'mx-2 mt-2 pb-1 flex items-center flex-wrap gap-1.5' });
    this.actions = el('div', { class: 'self-end flex space-x-1 mr-1 shrink-0' });
    const menuButton = el('button', { type: 'button', id: 'input-menu-button', class: 'bg-transparent rounded-full p-1.5', 'aria-label': 'More', html: ICONS.plus });
    const menu = el('div', { role: 'menu', class: 'input-menu', hidden: true }, [el('div', { role: 'menuitem', class: 'flex gap-2 items-center px-3 py-1.5 text-sm cursor-pointer', text: 'Upload Files' })]);
    menuButton.addEventListener('click', () => { menu.hidden = !menu.hidden; });
    menu.firstChild.addEventListener('click', () => { menu.hidden = true; this.fileInput.click(); });
    const form = el('form', { class: 'w-full flex gap-1.5' }, [
      el('div', { id: 'message-input-container', class: 'flex-1 flex flex-col relative w-full shadow-lg rounded-3xl border px-1' }, [
        this.files,
        el('div', { id: 'chat-input-container', class: 'px-2.5 scrollbar-hidden text-left overflow-auto' }, [
          el('div', { class: 'relative w-full min-w-full input-prose' }, [input]),
        ]),
        el('div', { class: 'flex justify-between mt-0.5 mb-2.5 mx-0.5 max-w-full' }, [
          el('div', { class: 'ml-1 self-end flex items-center' }, [menuButton, menu]), this.actions,
        ]),
      ]),
    ]);
    form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    this.root.replaceChildren(el('div', { class: 'owui h-screen max-h-dvh w-full flex flex-col' }, [
      el('nav', { class: 'sticky top-0 z-30 w-full px-1.5 py-1.5 navbar' }, [
        el('button', { type: 'button', class: 'model-selector', 'aria-label': 'Select a model', text: MODEL }),
      ]),
      this.scroller,
      el('div', { class: 'pb-2 message-input-wrap' }, [this.fileInput, form]),
    ]));
    this.editor = new TipTapInput(input, {
      onChange: () => this.update(),
      onEnter: () => this.submit(),
      onPaste: (e) => this.onPaste(e),
    });
    input.addEventListener('keydown', (e) => { if (e.key === 'Escape') this.conversation.stop(); });
    this.renderFiles();
    this.update();
    input.focus();
  }

  /** Files pasted go up; long text only when "Paste Large Text as File" is on (?paste_limit=N). */
  onPaste(e) {
    const data = e.clipboardData;
    if (data && data.files && data.files.length) {
      this.uploads.addFiles(data.files);
      return true;
    }
    const text = data ? data.getData('text/plain') : '';
    if (!overPasteLimit(text, CONFIG.pasteLimit)) return false;
    this.uploads.add(`Pasted_Text_${Date.now()}.txt`, text);
    return true;
  }

  // -- composer ---------------------------------------------------------------------

  prompt() {
    return this.editor ? this.editor.md : '';
  }

  submit() {
    if (!this.editor) return;
    if (this.prompt() === '' && !this.uploads.items.length) return;
    if (this.uploads.uploading()) {
      toast('error', UPLOADING);
      return;
    }
    const text = this.prompt();
    const attachments = this.uploads.take();
    this.editor.clear();
    this.conversation.submit(text, attachments);
  }

  /** Send while there is something to send; else Stop while generating; else Voice mode. */
  update() {
    if (!this.actions || !this.editor) return;
    const filled = this.prompt() !== '' || this.uploads.items.length > 0;
    const want = filled ? `send${this.uploads.uploading() ? '-disabled' : ''}` : this.conversation.busy() ? 'stop' : 'voice';
    if (want === this.state) return;
    this.state = want;
    let button;
    if (want.startsWith('send')) {
      button = el('button', { id: 'send-message-button', type: 'submit', class: `bg-black text-white transition rounded-full p-1.5 self-center${want === 'send' ? '' : ' disabled'}`, disabled: want !== 'send', html: ICONS.send });
    } else if (want === 'stop') {
      button = el('button', { type: 'button', 'aria-label': 'Stop', class: 'bg-white hover:bg-gray-100 text-gray-800 transition rounded-full p-[5px]', html: ICONS.stop });
      button.addEventListener('click', () => this.conversation.stop());
    } else {
      button = el('button', { type: 'button', 'aria-label': 'Voice mode', class: 'bg-black text-white transition rounded-full p-1.5 self-center', html: ICONS.voice });
      button.addEventListener('click', () => toast('error', 'Voice mode is not available on the practice page.'));
    }
    this.actions.replaceChildren(button);
  }

  /** FileItem chips (small): a spinner while uploading, no data attributes. */
  renderFiles() {
    if (!this.files) return;
    this.files.hidden = !this.uploads.items.length;
    this.files.replaceChildren(...this.uploads.items.map((item) => {
      if (!item.node) {
        const remove = el('button', { type: 'button', 'aria-label': 'Remove File', class: 'bg-white text-black border rounded-full', html: ICONS.close });
        remove.addEventListener('click', (e) => { e.stopPropagation(); this.uploads.remove(item); });
        item.row = el('div', { class: 'text-sm flex justify-between items-center' }, [
          el('div', { class: 'font-normal line-clamp-1 flex-1', text: item.name }),
          el('div', { class: 'text-gray-500 text-xs capitalize shrink-0', text: formatFileSize(item.size) }),
        ]);
        item.node = el('button', { type: 'button', class: 'relative group p-1.5 w-60 flex items-center gap-1 bg-white border border-gray-50 rounded-xl text-left' }, [
          el('div', { class: 'flex flex-col justify-center -space-y-0.5 px-2.5 w-full' }, [item.row]),
          el('div', { class: 'absolute -top-1 -right-1' }, [remove]),
        ]);
      }
      const spinner = item.row.querySelector('.shrink-0.mr-2');
      if (item.state === 'uploading' && !spinner) item.row.prepend(el('div', { class: 'shrink-0 mr-2', html: SPINNER('size-4') }));
      if (item.state !== 'uploading' && spinner) spinner.remove();
      return item.node;
    }));
  }

  // -- messages --------------------------------------------------------------------------

  addTurn(turn) {
    const userId = uuid();
    const files = turn.attachments.map((a) => el('div', { class: 'self-end' }, [el('button', { type: 'button', class: 'relative group p-1.5 flex items-center gap-1 rounded-xl text-left' }, [
      el('div', { class: 'font-normal line-clamp-1 flex-1', text: a.name }),
    ])]));
    const user = el('div', { class: 'flex w-full user-message', id: `message-${userId}`, dir: 'ltr' }, [
      el('div', { class: 'flex-auto w-0 max-w-full pl-1' }, [
        ...(files.length ? [el('div', { class: 'mb-1 w-full flex flex-col justify-end overflow-x-auto gap-1 flex-wrap' }, files)] : []),
        el('div', { class: 'chat-user w-full flex justify-end pb-1' }, [
          el('div', { class: 'rounded-3xl max-w-[90%] px-5 py-2 bg-gray-50 whitespace-pre-wrap', text: turn.text }),
        ]),
      ]),
    ]);
    turn.id = uuid();
    turn.nameEl = el('span', { id: 'response-message-model-name', class: 'line-clamp-1 text-black', text: turn.model });
    turn.container = el('div', { id: 'response-content-container' });
    turn.buttons = el('div', { class: 'buttons flex justify-start overflow-x-auto text-gray-600' });
    const assistant = el('div', { class: `flex w-full message-${turn.id}`, id: `message-${turn.id}`, dir: 'ltr' }, [
      el('div', { class: 'shrink-0 mr-3 model-avatar' }),
      el('div', { class: 'flex-auto w-0 pl-1 relative' }, [
        el('div', { class: 'self-center font-semibold line-clamp-1 flex gap-1 items-center' }, [turn.nameEl]),
        el('div', { class: 'chat-assistant w-full min-w-full markdown-prose-container' }, [el('div', {}, [turn.container])]),
        turn.buttons,
      ]),
    ]);
    const item = (child) => el('div', { role: 'listitem', class: 'message-listitem', style: 'content-visibility: auto' }, [child]);
    this.log.append(item(user), item(assistant));
    this.renderContent(turn);
    this.scrollToBottom();
  }

  /** #response-content-container: skeleton, or the markdown with its reasoning block first. */
  renderContent(turn) {
    if (!turn.answer && !turn.thinking && !turn.done) {
      turn.container.replaceChildren(el('div', { class: 'w-full mt-2 mb-2 skeleton' }, [
        el('div', { class: 'flex gap-1 animate-pulse' }, [el('span', { class: 'dot' }), el('span', { class: 'dot' }), el('span', { class: 'dot' })]),
      ]));
      return;
    }
    const prose = el('div', { class: 'markdown-prose' });
    let token = 0;
    renderMarkdown(prose, turn.answer, (lang, code, open, fence) => owuiCodeBlock(`${this.chatId}-${turn.id}-${token++}`, lang, code, fence));
    if (turn.thinking) prose.prepend(this.reasoning(turn));
    if (!turn.done) fadeInTokens(prose);
    const children = [el('div', {}, [prose])];
    if (turn.error) {
      children.push(el('div', { class: 'my-1.5 flex w-full items-start gap-2 rounded-2xl bg-black/[0.03] px-3 py-2 text-gray-500' }, [
        el('span', { class: 'shrink-0', html: ICONS.info }),
        el('div', { class: 'min-w-0 break-words text-[0.8125rem] leading-5', text: `${FAILED}\n${turn.error}` }),
      ]));
    }
    turn.container.replaceChildren(...children);
  }

  /** The Collapsible Open WebUI shows for <details type="reasoning">. */
  reasoning(turn) {
    const { done, raw } = turn.thinking;
    let label = 'Thinking...';
    if (done) {
      const seconds = Math.round(raw);
      label = raw < 1 ? 'Thought for less than a second' : seconds < 60 ? `Thought for ${seconds} seconds` : `Thought for ${seconds < 90 ? 'a minute' : `${Math.round(seconds / 60)} minutes`}`;
    }
    return el('div', { class: 'w-full space-y-2' }, [
      el('button', { type: 'button', 'aria-expanded': 'false', class: 'w-fit py-0.5 text-[0.9375rem] text-gray-500 transition block text-start' }, [
        el('div', { class: `w-full flex items-center justify-between gap-2${done ? '' : ' shimmer'}` }, [
          ...(done ? [] : [el('div', { html: SPINNER('size-4') })]),
          el('div', { text: label }),
          el('div', { class: 'flex self-center translate-y-[1px]', html: ICONS.chevron }),
        ]),
      ]),
    ]);
  }

  modelChanged(turn) {
    turn.nameEl.textContent = turn.model;
  }

  renderThinking(turn) {
    this.renderContent(turn);
    this.scrollToBottom();
  }

  renderAnswer(turn) {
    this.renderContent(turn);
    this.scrollToBottom();
  }

  showError(turn, message) {
    turn.error = message;
    this.renderContent(turn);
    toast('error', message);
  }

  /** message.done: streaming tokens go, the action buttons come (after errors and stops too). */
  finish(turn) {
    turn.done = true;
    this.renderContent(turn);
    for (const old of this.log.querySelectorAll('#continue-response-button')) old.remove();
    for (const old of this.log.querySelectorAll('.buttons button')) old.classList.add('invisible', 'group-hover:visible');
    const button = (attrs, icon, onClick) => {
      const b = el('button', { type: 'button', class: 'p-1.5 rounded-lg transition', ...attrs, html: icon });
      if (onClick) b.addEventListener('click', onClick);
      return b;
    };
    turn.buttons.replaceChildren(
      button({ 'aria-label': 'Edit' }, ICONS.edit),
      button({ 'aria-label': 'Copy', class: 'p-1.5 rounded-lg transition copy-response-button' }, ICONS.copy, () => {
        copyText(turn.answer.trim());
        toast('success', COPIED);
      }),
      button({ 'aria-label': 'Read Aloud', id: `speak-button-${turn.id}` }, ICONS.speak),
      button({ 'aria-label': 'Good Response' }, ICONS.good),
      button({ 'aria-label': 'Bad Response' }, ICONS.bad),
      button({ 'aria-label': 'Continue Response', id: 'continue-response-button' }, ICONS.more),
      button({ class: 'hidden regenerate-response-button' }, ''),
      button({ 'aria-label': 'Regenerate' }, ICONS.regen),
    );
    this.scrollToBottom();
  }

  loggedOut() {
    this.showAuth();
  }

  scrollToBottom() {
    if (this.scroller) this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}

/** TextToken.svelte: while streaming, each word of text is a span.fade-in-token. */
function fadeInTokens(prose) {
  const walker = document.createTreeWalker(prose, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => (n.parentElement.closest('p, li, h1, h2, h3, h4, h5, h6') && !n.parentElement.closest('.cm-editor, button')
      ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT),
  });
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const parts = node.data.split(/(\s+)/).filter(Boolean)
      .map((part) => (/^\s+$/.test(part) ? document.createTextNode(part) : el('span', { class: 'fade-in-token', text: part })));
    node.replaceWith(...parts);
  }
}
