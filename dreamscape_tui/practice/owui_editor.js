// Open WebUI's composer: TipTap (ProseMirror) #chat-input whose prompt is turndown(HTML).
//
// The document is a list of blocks, {type: 'paragraph', text} or {type: 'codeBlock',
// language, text}, rendered as <p> and <pre><code>. What is sent is Open WebUI's
// `md`, rebuilt after every change exactly as its RichTextInput does (see
// toMarkdown): runs of 2+ spaces survive (as NBSP), any other whitespace run
// collapses to one space and is dropped at a paragraph's edges, paragraphs join
// with one newline, an empty paragraph is a "  " line, code blocks are fenced and
// kept exact. Pasting plain text makes one paragraph per line with runs of newlines
// collapsed (ProseMirror's parseFromClipboard), so blank lines vanish and leading
// tabs go. The exact channels are the real ones: a paste carrying
// `vscode-editor-data` (or text/html <pre><code>) becomes a code block, and files.
// Typed text gets TipTap Typography's input rules ("x" -> “x”, -- -> —, ...).

import { editorHandle, languageOf, parseHtml, toMarkdown, typography } from './owui_markdown.js';

const PLACEHOLDER = 'Send a Message';

// -- the editor ------------------------------------------------------------------------------

export class TipTapInput {
  /** @param {{onChange: () => void, onEnter: () => void, onPaste?: (e: ClipboardEvent) => boolean}} hooks
   *  onEnter: Enter outside a code block (send); onPaste returns true when it took the paste. */
  constructor(element, hooks) {
    this.el = element;
    this.hooks = hooks;
    this.blocks = [{ type: 'paragraph', text: '' }];
    this.caret = { b: 0, o: 0 };
    this.anchor = null;  // other end of a range selection, if any
    this.md = '';
    this.observer = new MutationObserver(() => this.resyncFromDom());
    this.observer.observe(element, { childList: true, subtree: true, characterData: true });
    element.addEventListener('keydown', (e) => this.onKeyDown(e));
    element.addEventListener('beforeinput', (e) => this.onBeforeInput(e));
    element.addEventListener('paste', (e) => this.onPaste(e));
    element.addEventListener('drop', (e) => e.preventDefault());
    document.addEventListener('selectionchange', () => this.readSelection());
    element.editor = editorHandle(this);  // TipTap sets view.dom.editor = the Editor
    this.render();
  }

  // -- model edits ---------------------------------------------------------------------

  block() { return this.blocks[this.caret.b]; }

  /** Delete the range selection, if any; the caret ends at its start. */
  deleteSelection() {
    if (!this.anchor) return;
    let [a, z] = [this.anchor, this.caret];
    if (a.b > z.b || (a.b === z.b && a.o > z.o)) [a, z] = [z, a];
    const first = this.blocks[a.b];
    first.text = first.text.slice(0, a.o) + this.blocks[z.b].text.slice(z.o);
    this.blocks.splice(a.b + 1, z.b - a.b);
    this.caret = { ...a };
    this.anchor = null;
  }

  insertText(text) {
    this.deleteSelection();
    const block = this.block();
    block.text = block.text.slice(0, this.caret.o) + text + block.text.slice(this.caret.o);
    this.caret.o += text.length;
  }

  /** Insert lines as paragraphs at the caret (a code block takes them as raw text). */
  insertLines(lines) {
    this.deleteSelection();
    if (this.block().type === 'codeBlock') {
      this.insertText(lines.join('\n'));
      return;
    }
    const block = this.block();
    const after = block.text.slice(this.caret.o);
    block.text = block.text.slice(0, this.caret.o) + lines[0];
    if (lines.length === 1) {
      block.text += after;
      this.caret.o += lines[0].length;
      return;
    }
    const rest = lines.slice(1).map((text) => ({ type: 'paragraph', text }));
    const last = rest[rest.length - 1];
    const caretOffset = last.text.length;
    last.text += after;
    this.blocks.splice(this.caret.b + 1, 0, ...rest);
    this.caret = { b: this.caret.b + rest.length, o: caretOffset };
  }

  /** Insert a code block at the caret (replacing an empty paragraph); caret at its end. */
  insertCodeBlock(language, text) {
    this.deleteSelection();
    const code = { type: 'codeBlock', language: language || '', text: text.replace(/\r\n?/g, '\n').replace(/\u00a0/g, ' ') };
    const block = this.block();
    if (block.type === 'paragraph' && block.text === '') {
      this.blocks.splice(this.caret.b, 1, code);
    } else {
      const after = block.text.slice(this.caret.o);
      block.text = block.text.slice(0, this.caret.o);
      const tail = after ? [{ type: block.type, language: block.language, text: after }] : [];
      this.blocks.splice(this.caret.b + 1, 0, code, ...tail);
      this.caret.b += 1;
    }
    this.caret.o = code.text.length;
  }

  /** Shift+Enter (and Enter where it does not send): split the block / newline in code. */
  enter() {
    this.deleteSelection();
    const block = this.block();
    if (block.type === 'codeBlock') {
      // TipTap's exitOnTripleEnter: a third Enter at the end leaves the block
      if (this.caret.o === block.text.length && block.text.endsWith('\n\n')) {
        block.text = block.text.slice(0, -2);
        this.blocks.splice(this.caret.b + 1, 0, { type: 'paragraph', text: '' });
        this.caret = { b: this.caret.b + 1, o: 0 };
      } else {
        this.insertText('\n');
      }
      return;
    }
    const after = block.text.slice(this.caret.o);
    block.text = block.text.slice(0, this.caret.o);
    this.blocks.splice(this.caret.b + 1, 0, { type: 'paragraph', text: after });
    this.caret = { b: this.caret.b + 1, o: 0 };
  }

  deleteBackward() {
    if (this.anchor) return this.deleteSelection();
    const { b, o } = this.caret;
    const block = this.block();
    if (o > 0) {
      const width = /[\udc00-\udfff]/.test(block.text[o - 1] || '') && o > 1 ? 2 : 1;
      block.text = block.text.slice(0, o - width) + block.text.slice(o);
      this.caret.o -= width;
    } else if (block.type === 'codeBlock' && block.text === '') {
      this.blocks[b] = { type: 'paragraph', text: '' };
    } else if (b > 0) {
      const prev = this.blocks[b - 1];
      this.caret = { b: b - 1, o: prev.text.length };
      prev.text += block.text;
      this.blocks.splice(b, 1);
    }
    return undefined;
  }

  deleteForward() {
    if (this.anchor) return this.deleteSelection();
    const { b, o } = this.caret;
    const block = this.block();
    if (o < block.text.length) {
      const width = (block.text.codePointAt(o) ?? 0) > 0xffff ? 2 : 1;
      block.text = block.text.slice(0, o) + block.text.slice(o + width);
    } else if (b + 1 < this.blocks.length) {
      block.text += this.blocks[b + 1].text;
      this.blocks.splice(b + 1, 1);
    }
    return undefined;
  }

  /** After each transaction: re-render, rebuild the md, tell the composer. */
  changed() {
    if (!this.blocks.length) this.blocks = [{ type: 'paragraph', text: '' }];
    this.render();
    this.md = toMarkdown(this.blocks);
    this.hooks.onChange();
  }

  setBlocks(blocks) {
    this.blocks = blocks.length ? blocks : [{ type: 'paragraph', text: '' }];
    const last = this.blocks.length - 1;
    this.caret = { b: last, o: this.blocks[last].text.length };
    this.anchor = null;
    this.changed();
  }

  clear() {
    this.setBlocks([]);
  }

  // -- events ----------------------------------------------------------------------------

  onKeyDown(e) {
    if (e.isComposing || e.keyCode === 229) return;
    const block = this.block();
    if (e.key === 'Enter') {
      e.preventDefault();
      // Enter sends (if there is something to send), except inside a code block
      if (!e.shiftKey && block.type !== 'codeBlock') {
        this.hooks.onEnter();
        return;
      }
      this.enter();
      this.changed();
    } else if (e.key === 'ArrowDown' && block.type === 'codeBlock' && this.caret.b === this.blocks.length - 1
               && this.caret.o === block.text.length) {
      e.preventDefault();  // TipTap's exitOnArrowDown
      this.blocks.push({ type: 'paragraph', text: '' });
      this.caret = { b: this.blocks.length - 1, o: 0 };
      this.changed();
    } else if (e.key === 'Tab') {
      // not insertable: Open WebUI only uses Tab for templates; the browser moves focus
    }
  }

  onBeforeInput(e) {
    if (e.inputType === 'insertCompositionText') return;
    e.preventDefault();
    this.readSelection(e);
    const type = e.inputType;
    if (type === 'insertText' || type === 'insertReplacementText') {
      this.typeText(e.data ?? (e.dataTransfer ? e.dataTransfer.getData('text/plain') : ''));
    } else if (type === 'insertParagraph' || type === 'insertLineBreak') {
      this.enter();
    } else if (type === 'insertFromPaste') {
      this.pastePlain(e.dataTransfer ? e.dataTransfer.getData('text/plain') : '');
    } else if (type.startsWith('delete')) {
      if (type.endsWith('Forward')) this.deleteForward();
      else this.deleteBackward();
    } else {
      return;
    }
    this.changed();
  }

  /** Typed (or execCommand-inserted) text: Typography rules run at its end, outside code. */
  typeText(text) {
    if (text.includes('\n')) {
      this.insertLines(text.split(/\r\n?|\n/));
      return;
    }
    this.insertText(text);
    const block = this.block();
    if (block.type === 'codeBlock') return;
    const before = block.text.slice(0, this.caret.o);
    const replaced = typography(before);
    block.text = replaced + block.text.slice(this.caret.o);
    this.caret.o = replaced.length;
  }

  onPaste(e) {
    e.preventDefault();
    if (this.hooks.onPaste && this.hooks.onPaste(e)) return;
    this.readSelection();
    const data = e.clipboardData;
    if (!data) return;
    const plain = data.getData('text/plain');
    const vscode = data.getData('vscode-editor-data');
    const html = data.getData('text/html');
    const parsed = html && this.block().type !== 'codeBlock' ? parseHtml(html) : [];
    if (vscode && plain && this.block().type !== 'codeBlock') {
      let mode = '';
      try { mode = JSON.parse(vscode).mode || ''; } catch (err) { mode = ''; }
      this.insertCodeBlock(mode, plain);  // TipTap CodeBlock's codeBlockVSCodeHandler
    } else if (parsed.length) {
      this.insertBlocks(parsed);  // ProseMirror prefers text/html to text/plain
    } else {
      this.pastePlain(plain);  // in a code block: the text as it is
    }
    this.changed();
  }

  /** A parsed slice: its first paragraph joins the caret's, its last takes the rest. */
  insertBlocks(blocks) {
    this.deleteSelection();
    const block = this.block();
    const after = block.text.slice(this.caret.o);
    const [first, ...rest] = blocks;
    let index = this.caret.b;
    if (first.type === 'paragraph') {
      block.text = block.text.slice(0, this.caret.o) + first.text;
    } else if (block.text === '' && block.type === 'paragraph') {
      this.blocks[index] = { ...first };
    } else {
      block.text = block.text.slice(0, this.caret.o);
      index += 1;
      this.blocks.splice(index, 0, { ...first });
    }
    for (const b of rest) {
      index += 1;
      this.blocks.splice(index, 0, { ...b });
    }
    const last = this.blocks[index];
    this.caret = { b: index, o: last.text.length };
    if (last.type === 'paragraph') last.text += after;
    else if (after) this.blocks.splice(index + 1, 0, { type: 'paragraph', text: after });
  }

  /** ProseMirror's plain-text paste: one paragraph per line, runs of newlines collapsed. */
  pastePlain(text) {
    if (this.block().type === 'codeBlock') this.insertText(text.replace(/\r\n?/g, '\n'));
    else this.insertLines(text.split(/(?:\r\n?|\n)+/));
  }

  /** document.execCommand routed here while the editor has the selection. */
  exec(command, value) {
    if (command === 'inserttext') this.typeText(String(value ?? ''));
    else if (command === 'insertparagraph' || command === 'insertlinebreak') this.enter();
    else if (command === 'delete') this.deleteBackward();
    else if (command === 'forwarddelete') this.deleteForward();
    else if (command === 'selectall') {
      this.anchor = { b: 0, o: 0 };
      const last = this.blocks.length - 1;
      this.caret = { b: last, o: this.blocks[last].text.length };
      this.applySelection();
      return true;
    } else return false;
    this.changed();
    return true;
  }

  ownsSelection() {
    const s = window.getSelection();
    return Boolean(s && s.rangeCount && this.el.contains(s.anchorNode));
  }

  // -- DOM <-> model ---------------------------------------------------------------------

  render() {
    const empty = this.blocks.length === 1 && this.blocks[0].type === 'paragraph' && this.blocks[0].text === '';
    const nodes = this.blocks.map((b) => {
      const trailing = () => Object.assign(document.createElement('br'), { className: 'ProseMirror-trailingBreak' });
      let host;
      let node;
      if (b.type === 'codeBlock') {
        node = document.createElement('pre');
        host = node.appendChild(document.createElement('code'));
        if (b.language) host.className = `language-${b.language}`;
      } else {
        node = host = document.createElement('p');
      }
      if (b.text) host.appendChild(document.createTextNode(b.text));
      if (!b.text || (b.type === 'codeBlock' && b.text.endsWith('\n'))) host.appendChild(trailing());
      return node;
    });
    if (empty) {
      nodes[0].className = 'is-empty is-editor-empty';
      nodes[0].dataset.placeholder = PLACEHOLDER;
    }
    this.el.replaceChildren(...nodes);
    this.observer.takeRecords();
    this.applySelection();
  }

  pointToPos(node, offset) {
    if (!node || !this.el.contains(node)) return null;
    if (node === this.el) {
      const b = Math.min(offset, this.blocks.length - 1);
      return { b, o: offset >= this.blocks.length ? this.blocks[b].text.length : 0 };
    }
    let top = node;
    while (top.parentNode !== this.el) top = top.parentNode;
    const b = Array.prototype.indexOf.call(this.el.children, top);
    if (b < 0 || b >= this.blocks.length) return null;
    const len = this.blocks[b].text.length;
    if (node.nodeType === Node.TEXT_NODE) return { b, o: Math.min(offset, len) };
    return { b, o: offset === 0 ? 0 : len };
  }

  readSelection(e) {
    const ranges = e && typeof e.getTargetRanges === 'function' ? e.getTargetRanges() : [];
    let start = null;
    let end = null;
    if (ranges.length) {
      start = this.pointToPos(ranges[0].startContainer, ranges[0].startOffset);
      end = this.pointToPos(ranges[0].endContainer, ranges[0].endOffset);
    } else {
      const s = window.getSelection();
      if (!s || !s.rangeCount) return;
      start = this.pointToPos(s.anchorNode, s.anchorOffset);
      end = this.pointToPos(s.focusNode, s.focusOffset);
    }
    if (!start || !end) return;
    this.caret = end;
    this.anchor = start.b === end.b && start.o === end.o ? null : start;
  }

  applySelection() {
    if (document.activeElement !== this.el) return;
    const point = ({ b, o }) => {
      const top = this.el.children[b];
      const host = top && top.tagName === 'PRE' ? top.firstChild : top;
      const text = host && host.firstChild;
      return text && text.nodeType === Node.TEXT_NODE ? [text, Math.min(o, text.length)] : [host, 0];
    };
    const [fn, fo] = point(this.caret);
    const [an, ao] = this.anchor ? point(this.anchor) : [fn, fo];
    window.getSelection().setBaseAndExtent(an, ao, fn, fo);
  }

  /** Edits that bypassed the model (WebDriver clear, IME): read the blocks back. */
  resyncFromDom() {
    this.observer.takeRecords();
    const blocks = Array.from(this.el.children, (node) => (node.tagName === 'PRE'
      ? { type: 'codeBlock', language: languageOf(node), text: node.textContent }
      : { type: 'paragraph', text: node.textContent }));
    const same = blocks.length === this.blocks.length && blocks.every((b, i) => b.text === this.blocks[i].text);
    if (!same) this.setBlocks(blocks);
  }
}
