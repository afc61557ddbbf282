// The practice composer: a ProseMirror-looking contenteditable driven by a text model.
//
// Why a model: a contenteditable turns newlines into <p>/<br>, may collapse or
// convert spaces, and its innerText is not a faithful inverse. ChatGPT's
// ProseMirror keeps its own document model for the same reason. Here the model
// is a plain string plus a selection; every edit (typing, paste, execCommand,
// deletion) is applied to the string and the DOM is re-rendered from it, so what
// the page sends is byte-for-byte what was inserted.

const PLACEHOLDER = 'Ask anything';

/** Contenteditable prompt input whose source of truth is a JS string. */
export class PromptEditor {
  /**
   * @param {HTMLElement} element the contenteditable div (#prompt-textarea)
   * @param {{onChange: () => void, onSubmit: () => void,
   *          onPasteText?: (text: string) => boolean, onFiles?: (files: FileList) => void}} hooks
   *   onPasteText returns true when it took the pasted text (it is then not inserted);
   *   onFiles receives files pasted from the clipboard.
   */
  constructor(element, hooks) {
    this.el = element;
    this.hooks = hooks;
    this.text = '';
    this.sel = { start: 0, end: 0 };
    this.lineStarts = [0];
    this.composing = false;
    // Anything that changes the DOM behind our back (WebDriver's element clear,
    // native execCommand variants we do not model, IME) is read back from the DOM.
    this.observer = new MutationObserver(() => this.resyncFromDom());
    this.observer.observe(element, { childList: true, subtree: true, characterData: true });
    element.addEventListener('keydown', (e) => this.onKeyDown(e));
    element.addEventListener('beforeinput', (e) => this.onBeforeInput(e));
    element.addEventListener('paste', (e) => this.onPaste(e));
    element.addEventListener('drop', (e) => e.preventDefault());
    element.addEventListener('compositionstart', () => { this.composing = true; });
    element.addEventListener('compositionend', () => {
      this.composing = false;
      this.resyncFromDom();
    });
    document.addEventListener('selectionchange', () => {
      const live = this.liveSelection();
      if (live) this.sel = live;
    });
    this.render();
  }

  /** True when there is something worth sending (whitespace alone is not). */
  hasText() {
    return this.text.trim() !== '';
  }

  /** Replace the whole content, caret at the end. */
  setText(text) {
    this.text = text;
    this.sel = { start: text.length, end: text.length };
    this.render();
    this.hooks.onChange();
  }

  focus() {
    this.el.focus();
    this.applySelection();
  }

  /** Whether the document selection currently sits inside the editor. */
  ownsSelection() {
    const s = window.getSelection();
    return Boolean(s && s.rangeCount && this.el.contains(s.anchorNode));
  }

  /** Insert text at the selection, replacing it (the one edit primitive). */
  insert(text, range = this.currentRange()) {
    const start = Math.min(range.start, range.end);
    const end = Math.max(range.start, range.end);
    this.text = this.text.slice(0, start) + text + this.text.slice(end);
    const caret = start + text.length;
    this.sel = { start: caret, end: caret };
    this.render();
    this.hooks.onChange();
  }

  /**
   * execCommand entry point, so `document.execCommand('insertText', false, s)`
   * inserts `s` verbatim, newlines and all. Returns false for commands we leave
   * to the browser.
   */
  exec(command, value) {
    switch (command) {
      case 'inserttext':
        this.insert(String(value ?? ''));
        break;
      case 'insertlinebreak':
      case 'insertparagraph':
        this.insert('\n');
        break;
      case 'delete':
        this.deleteBy('deleteContentBackward', null);
        break;
      case 'forwarddelete':
        this.deleteBy('deleteContentForward', null);
        break;
      case 'selectall':
        this.sel = { start: 0, end: this.text.length };
        this.applySelection();
        return true;
      default:
        return false;
    }
    const inputType = { inserttext: 'insertText', delete: 'deleteContentBackward' }[command];
    this.el.dispatchEvent(new InputEvent('input', {
      bubbles: true, inputType: inputType ?? command, data: command === 'inserttext' ? String(value ?? '') : null,
    }));
    return true;
  }

  // -- events -------------------------------------------------------------------

  onKeyDown(e) {
    if (e.key !== 'Enter' || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    if (e.shiftKey) this.insert('\n');
    else this.hooks.onSubmit();  // like ChatGPT: Enter sends, Shift+Enter breaks the line
  }

  onPaste(e) {
    e.preventDefault();
    const files = e.clipboardData ? e.clipboardData.files : null;
    if (files && files.length && this.hooks.onFiles) {
      this.hooks.onFiles(files);
      return;
    }
    this.paste(e.clipboardData ? e.clipboardData.getData('text/plain') : '');
  }

  /** Pasted text: inserted as is, unless the page takes it (a paste over its limit). */
  paste(text, range = this.currentRange()) {
    if (this.hooks.onPasteText && this.hooks.onPasteText(text)) return;
    this.insert(text, range);
  }

  onBeforeInput(e) {
    if (this.composing || e.inputType === 'insertCompositionText') return;  // IME: resync later
    e.preventDefault();
    const range = this.targetRange(e);
    const type = e.inputType;
    if (type === 'insertText' || type === 'insertReplacementText') {
      this.insert(e.data ?? (e.dataTransfer ? e.dataTransfer.getData('text/plain') : ''), range);
    } else if (type === 'insertLineBreak' || type === 'insertParagraph') {
      this.insert('\n', range);
    } else if (type === 'insertFromPaste') {
      this.paste(e.dataTransfer ? e.dataTransfer.getData('text/plain') : (e.data ?? ''), range);
    } else if (type === 'insertFromDrop' || type === 'insertFromYank') {
      this.insert(e.dataTransfer ? e.dataTransfer.getData('text/plain') : (e.data ?? ''), range);
    } else if (type.startsWith('delete')) {
      this.deleteBy(type, range);
    }
    // formatting and history commands are ignored: the prompt is plain text
  }

  deleteBy(type, range) {
    let { start, end } = range ?? this.currentRange();
    if (start > end) [start, end] = [end, start];
    if (start === end) {
      if (type.endsWith('Backward') && start > 0) {
        start -= this.codePointBefore(start);
      } else if (type.endsWith('Forward') && end < this.text.length) {
        end += this.codePointAt(end);
      }
    }
    if (start !== end) this.insert('', { start, end });
  }

  codePointBefore(offset) {
    const code = this.text.charCodeAt(offset - 1);
    return code >= 0xdc00 && code <= 0xdfff && offset > 1 ? 2 : 1;
  }

  codePointAt(offset) {
    return (this.text.codePointAt(offset) ?? 0) > 0xffff ? 2 : 1;
  }

  // -- selection mapping -------------------------------------------------------

  currentRange() {
    return this.liveSelection() ?? this.sel;
  }

  targetRange(e) {
    const ranges = typeof e.getTargetRanges === 'function' ? e.getTargetRanges() : [];
    if (ranges.length) {
      const start = this.pointToOffset(ranges[0].startContainer, ranges[0].startOffset);
      const end = this.pointToOffset(ranges[0].endContainer, ranges[0].endOffset);
      if (start !== null && end !== null) return { start, end };
    }
    return this.currentRange();
  }

  liveSelection() {
    const s = window.getSelection();
    if (!s || !s.rangeCount) return null;
    const start = this.pointToOffset(s.anchorNode, s.anchorOffset);
    const end = this.pointToOffset(s.focusNode, s.focusOffset);
    return start === null || end === null ? null : { start, end };
  }

  /** DOM point -> model offset; null when the point is outside the editor. */
  pointToOffset(node, offset) {
    if (!node || !this.el.contains(node)) return null;
    const paras = this.el.children;
    if (node === this.el) {
      return offset >= paras.length ? this.text.length : this.lineStarts[offset] ?? this.text.length;
    }
    let p = node;
    while (p.parentNode !== this.el) p = p.parentNode;
    const index = Array.prototype.indexOf.call(paras, p);
    const start = this.lineStarts[index];
    if (start === undefined) return this.text.length;
    const lineEnd = index + 1 < this.lineStarts.length ? this.lineStarts[index + 1] - 1 : this.text.length;
    if (node.nodeType === Node.TEXT_NODE) return Math.min(start + offset, lineEnd);
    if (node === p) return offset === 0 ? start : lineEnd;
    return start;  // inside the <br> of an empty line
  }

  /** Model offset -> DOM point inside the rendered paragraphs. */
  offsetToPoint(offset) {
    let line = 0;
    while (line + 1 < this.lineStarts.length && this.lineStarts[line + 1] <= offset) line += 1;
    const p = this.el.children[line];
    const child = p.firstChild;
    if (child && child.nodeType === Node.TEXT_NODE) {
      return [child, Math.min(offset - this.lineStarts[line], child.length)];
    }
    return [p, 0];
  }

  applySelection() {
    if (document.activeElement !== this.el) return;  // never steal focus
    const s = window.getSelection();
    const [anchorNode, anchorOffset] = this.offsetToPoint(this.sel.start);
    const [focusNode, focusOffset] = this.offsetToPoint(this.sel.end);
    s.setBaseAndExtent(anchorNode, anchorOffset, focusNode, focusOffset);
  }

  // -- rendering -----------------------------------------------------------------

  /** Model -> DOM: one <p> per line, ProseMirror style; empty lines hold a <br>. */
  render() {
    const lines = this.text.split('\n');
    this.lineStarts = [];
    let pos = 0;
    const frag = document.createDocumentFragment();
    for (const line of lines) {
      this.lineStarts.push(pos);
      pos += line.length + 1;
      const p = document.createElement('p');
      if (line) {
        p.appendChild(document.createTextNode(line));
      } else {
        const br = document.createElement('br');
        br.className = 'ProseMirror-trailingBreak';
        p.appendChild(br);
      }
      frag.appendChild(p);
    }
    if (this.text === '') {
      frag.firstChild.className = 'placeholder';
      frag.firstChild.dataset.placeholder = PLACEHOLDER;
    }
    this.el.replaceChildren(frag);
    this.observer.takeRecords();  // our own mutations are not foreign edits
    this.applySelection();
  }

  /** DOM -> model, for edits that bypassed the model (lossy, but only a fallback). */
  resyncFromDom() {
    this.observer.takeRecords();
    if (this.composing) return;
    const text = domToText(this.el);
    if (text === this.text && this.el.children.length === this.lineStarts.length) return;
    this.text = text;
    this.sel = { start: text.length, end: text.length };
    this.render();
    this.hooks.onChange();
  }
}

const BLOCK = /^(P|DIV|LI|H[1-6]|PRE|BLOCKQUOTE|UL|OL)$/;

/** Best-effort plain text of arbitrary editable DOM: blocks and <br> become newlines. */
function domToText(root) {
  const lines = [];
  let current = null;  // text of the line being collected, null when none is open
  const flush = () => {
    if (current !== null) lines.push(current);
    current = null;
  };
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        current = (current ?? '') + child.data.replace(/\u00a0/g, ' ');
      } else if (child.nodeName === 'BR') {
        // A block's last <br> only keeps an empty line open; others are line breaks.
        const placeholder = !child.nextSibling && node !== root && BLOCK.test(node.nodeName);
        current = (current ?? '') + (placeholder ? '' : '\n');
      } else if (BLOCK.test(child.nodeName)) {
        flush();
        const before = lines.length;
        walk(child);
        if (current !== null || lines.length === before) {
          current = current ?? '';
          flush();
        }
      } else {
        walk(child);
      }
    }
  };
  walk(root);
  flush();
  return lines.join('\n');
}
