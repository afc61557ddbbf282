// Code block renderers, one per DOM, and the CodeMirror 6 look-alike they share.
//
// * classicCodeBlock: ChatGPT 2025. <pre> > header (language label + "Copy code")
//   > <code class="language-x"> whose textContent is the exact code.
// * viewerCodeBlock: ChatGPT 2026's read-only CodeMirror viewer. No <code> at all:
//   div#code-block-viewer.cm-editor > .cm-scroller > .cm-content holding one <span>
//   per line separated by <br> (an empty line is nothing between two <br>s), so the
//   content's textContent joins the lines. The exact code is only in the editor
//   state, reachable like CM6's: contentDOM.cmView.view.state.doc.toString().
// * owuiCodeBlock (owui_code.js): Open WebUI's editable CM6 editor with gutters,
//   rendering only the lines near the viewport.

const COPY_ICON = '<svg width="24" height="24" viewBox="0 0 24 24" fill="none" aria-hidden="true" class="icon-sm">'
  + '<rect x="8" y="8" width="12" height="12" rx="2" stroke="currentColor" stroke-width="2"/>'
  + '<path d="M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2" stroke="currentColor" stroke-width="2"/></svg>';

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Write `text` to the clipboard; headless Chromium may refuse, which is not an error here. */
export function copyText(text) {
  try {
    const done = navigator.clipboard && navigator.clipboard.writeText(text);
    if (done && done.catch) done.catch(() => {});
  } catch (err) {
    // no clipboard in this context
  }
}

// -- ChatGPT 2025 ---------------------------------------------------------------------

export function classicCodeBlock(lang, code) {
  const label = lang || 'plaintext';
  const { pre, body } = chatgptFrame(label, code, 'Copy code');
  const codeEl = el('code', `whitespace-pre hljs language-${label}`);
  if (isPython(label)) highlightPython(codeEl, code);
  else codeEl.textContent = code;
  body.appendChild(codeEl);
  return pre;
}

/** <pre> > div > [header: label + copy button, body]; shared by both ChatGPT code DOMs. */
function chatgptFrame(label, code, copyLabel) {
  const pre = el('pre', 'overflow-visible');
  const box = el('div', 'code-block contain-inline-size rounded-md');
  const header = el('div', 'code-header flex items-center text-token-text-secondary');
  header.appendChild(el('span', 'code-lang', label));
  const copy = el('button', 'copy-code flex gap-1 items-center');
  copy.type = 'button';
  copy.setAttribute('aria-label', 'Copy');
  copy.innerHTML = COPY_ICON;
  copy.appendChild(document.createTextNode(copyLabel));
  copy.addEventListener('click', () => {
    copyText(code);
    copy.lastChild.data = 'Copied!';
    setTimeout(() => { copy.lastChild.data = copyLabel; }, 2000);
  });
  header.appendChild(copy);
  const body = el('div', 'code-body overflow-y-auto p-4');
  body.dir = 'ltr';
  box.append(header, body);
  pre.appendChild(box);
  return { pre, body };
}

// -- ChatGPT 2026 CodeMirror viewer -----------------------------------------------------

export function viewerCodeBlock(lang, code) {
  const label = lang || 'plaintext';
  const { pre, body } = chatgptFrame(label, code, 'Copy');
  body.classList.add('cm-body');
  const editor = el('div', 'cm-editor ͼ1 ͼ2 ͼo');
  editor.id = 'code-block-viewer';
  editor.dir = 'ltr';
  const scroller = el('div', 'cm-scroller');
  const content = el('div', 'cm-content');
  content.setAttribute('contenteditable', 'false');
  content.setAttribute('role', 'textbox');
  content.setAttribute('aria-readonly', 'true');
  code.split('\n').forEach((line, i) => {
    if (i) content.appendChild(el('br'));
    if (line === '') return;
    const span = el('span');
    appendTokens(span, line, label);
    content.appendChild(span);
  });
  attachCmView(content, editor, code);
  scroller.appendChild(content);
  editor.appendChild(scroller);
  body.appendChild(editor);
  return pre;
}

// -- CodeMirror 6 state look-alike ----------------------------------------------------------

/** A read-only CM6 Text: what `view.state.doc` offers that clients use. */
export function makeDoc(code) {
  const lines = code.split('\n');
  const starts = [];
  let pos = 0;
  for (const line of lines) {
    starts.push(pos);
    pos += line.length + 1;
  }
  const line = (n) => {
    if (n < 1 || n > lines.length) throw new RangeError(`Invalid line number ${n} in ${lines.length}-line document`);
    const from = starts[n - 1];
    return { number: n, from, to: from + lines[n - 1].length, text: lines[n - 1], length: lines[n - 1].length };
  };
  return {
    length: code.length,
    lines: lines.length,
    toString: () => code,
    toJSON: () => lines.slice(),
    sliceString: (from = 0, to = code.length, sep = '\n') => code.slice(from, to).split('\n').join(sep),
    line,
    lineAt(at) {
      let n = 1;
      while (n < lines.length && starts[n] <= at) n += 1;
      return line(n);
    },
    *iterLines() { yield* lines; },
  };
}

/**
 * Give `content` (.cm-content) the expando CM6 puts there. Up to @codemirror/view 6.38
 * it is `cmView` (the DocView, whose `view` is the EditorView); from 6.39 it is
 * `cmTile` (the DocTile: `view`, and `root.view` as EditorView.findFromDOM reads it).
 */
export function attachCmView(content, editor, code, expando = 'cmView') {
  const doc = makeDoc(code);
  const state = { doc, sliceDoc: (from = 0, to = doc.length) => code.slice(from, to), readOnly: expando === 'cmView' };
  const view = { state, dom: editor, contentDOM: content, get scrollDOM() { return content.parentNode; } };
  if (expando === 'cmTile') {
    content.cmTile = { view, root: { view }, dom: content, length: doc.length };
  } else {
    content.cmView = { view, dom: content, length: doc.length };
    editor.cmView = { view };
  }
  return view;
}

// -- syntax highlighting --------------------------------------------------------------------

export function isPython(label) {
  return /^(python|py|python3)$/i.test(label);
}

const PY_TOKENS = new RegExp([
  '(#[^\\n]*)',
  '("""[\\s\\S]*?"""|\'\'\'[\\s\\S]*?\'\'\'|"(?:[^"\\\\\\n]|\\\\.)*"|\'(?:[^\'\\\\\\n]|\\\\.)*\')',
  '\\b(False|None|True|and|as|assert|async|await|break|class|continue|def|del|elif|else|except'
    + '|finally|for|from|global|if|import|in|is|lambda|nonlocal|not|or|pass|raise|return|try'
    + '|while|with|yield)\\b',
  '\\b(\\d+(?:\\.\\d+)?)\\b',
].join('|'), 'g');
const HLJS_CLASSES = ['hljs-comment', 'hljs-string', 'hljs-keyword', 'hljs-number'];
const CM_CLASSES = ['ͼm', 'ͼe', 'ͼb', 'ͼd'];

/** Split `code` into [className|null, text] pieces; the pieces partition the text. */
export function pythonTokens(code, classes = HLJS_CLASSES) {
  const out = [];
  let last = 0;
  for (const m of code.matchAll(PY_TOKENS)) {
    if (m.index > last) out.push([null, code.slice(last, m.index)]);
    out.push([classes[m.slice(1, 5).findIndex((g) => g !== undefined)], m[0]]);
    last = m.index + m[0].length;
  }
  if (last < code.length) out.push([null, code.slice(last)]);
  return out;
}

/** Wrap tokens in hljs-style spans; the spans partition the text, so textContent is exact. */
function highlightPython(codeEl, code) {
  for (const [cls, text] of pythonTokens(code)) {
    codeEl.appendChild(cls ? el('span', cls, text) : document.createTextNode(text));
  }
}

/** One line's tokens as CM6 does it: text nodes and spans with generated class names. */
export function appendTokens(parent, line, label) {
  if (!isPython(label)) {
    parent.appendChild(document.createTextNode(line));
    return;
  }
  for (const [cls, text] of pythonTokens(line, CM_CLASSES)) {
    parent.appendChild(cls ? el('span', cls, text) : document.createTextNode(text));
  }
}
