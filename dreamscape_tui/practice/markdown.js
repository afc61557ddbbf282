// Minimal markdown renderer producing ChatGPT's answer DOM.
//
// Only what the scripted answers use: paragraphs, ``` fenced code blocks (which
// may still be open while an answer streams), inline `code` and **bold**. The
// code block DOM copies ChatGPT's: <pre> > header (language label + "Copy code"
// button) > <code class="language-x">, so a client that reads `.text` of a
// message gets the same label/button noise as on the real site, and one that
// reads `pre code` gets the exact code.

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/;

/** Split answer text into paragraph and code blocks; the last code block may be open. */
export function parseBlocks(text) {
  const blocks = [];
  let para = [];
  let code = null;  // {lang, fence, lines}
  const endPara = () => {
    if (para.length) blocks.push({ type: 'paragraph', text: para.join('\n') });
    para = [];
  };
  for (const line of text.split('\n')) {
    if (code) {
      const close = line.match(/^ {0,3}(`{3,}|~{3,})[ \t]*$/);
      if (close && close[1][0] === code.fence[0] && close[1].length >= code.fence.length) {
        blocks.push({ type: 'code', lang: code.lang, code: code.lines.join('\n'), open: false });
        code = null;
      } else {
        code.lines.push(line);
      }
      continue;
    }
    const open = line.match(FENCE_OPEN);
    if (open) {
      endPara();
      code = { lang: open[2], fence: open[1], lines: [] };
    } else if (line.trim() === '') {
      endPara();
    } else {
      para.push(line);
    }
  }
  endPara();
  if (code) blocks.push({ type: 'code', lang: code.lang, code: code.lines.join('\n'), open: true });
  return blocks;
}

/** Render `text` into `container`, replacing what was there (called per chunk). */
export function renderMarkdown(container, text) {
  const nodes = parseBlocks(text).map((b) => (b.type === 'code' ? codeBlock(b.lang, b.code) : paragraph(b.text)));
  container.replaceChildren(...nodes);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function paragraph(text) {
  const p = el('p');
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (i) p.appendChild(el('br'));
    appendInline(p, line);
  });
  return p;
}

/** Inline `code` and **bold**; everything else is text (never parsed as HTML). */
function appendInline(parent, text) {
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
    parent.appendChild(m[1] !== undefined ? el('code', '', m[1]) : el('strong', '', m[2]));
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

const COPY_ICON = '<svg width="24" height="24" viewBox="0 0 24 24" fill="none" aria-hidden="true" class="icon-sm">'
  + '<rect x="8" y="8" width="12" height="12" rx="2" stroke="currentColor" stroke-width="2"/>'
  + '<path d="M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2" stroke="currentColor" stroke-width="2"/></svg>';

function codeBlock(lang, code) {
  const label = lang || 'plaintext';
  const pre = el('pre', 'overflow-visible');
  const box = el('div', 'code-block contain-inline-size rounded-md');
  const header = el('div', 'code-header flex items-center text-token-text-secondary');
  header.appendChild(el('span', 'code-lang', label));
  const copy = el('button', 'copy-code flex gap-1 items-center');
  copy.type = 'button';
  copy.setAttribute('aria-label', 'Copy');
  copy.innerHTML = COPY_ICON;
  copy.appendChild(document.createTextNode('Copy code'));
  copy.addEventListener('click', () => copyCode(copy, code));
  header.appendChild(copy);
  const body = el('div', 'code-body overflow-y-auto p-4');
  body.dir = 'ltr';
  const codeEl = el('code', `whitespace-pre hljs language-${label}`);
  if (/^(python|py|python3)$/i.test(label)) highlightPython(codeEl, code);
  else codeEl.textContent = code;
  body.appendChild(codeEl);
  box.append(header, body);
  pre.appendChild(box);
  return pre;
}

function copyCode(button, code) {
  const label = button.lastChild;
  if (navigator.clipboard) navigator.clipboard.writeText(code).catch(() => {});
  label.data = 'Copied!';
  setTimeout(() => { label.data = 'Copy code'; }, 2000);
}

const PY_TOKENS = new RegExp([
  '(#[^\\n]*)',
  '("""[\\s\\S]*?"""|\'\'\'[\\s\\S]*?\'\'\'|"(?:[^"\\\\\\n]|\\\\.)*"|\'(?:[^\'\\\\\\n]|\\\\.)*\')',
  '\\b(False|None|True|and|as|assert|async|await|break|class|continue|def|del|elif|else|except'
    + '|finally|for|from|global|if|import|in|is|lambda|nonlocal|not|or|pass|raise|return|try'
    + '|while|with|yield)\\b',
  '\\b(\\d+(?:\\.\\d+)?)\\b',
].join('|'), 'g');
const PY_CLASSES = ['hljs-comment', 'hljs-string', 'hljs-keyword', 'hljs-number'];

/** Wrap tokens in hljs-style spans; the spans partition the text, so textContent is exact. */
function highlightPython(codeEl, code) {
  let last = 0;
  for (const m of code.matchAll(PY_TOKENS)) {
    if (m.index > last) codeEl.appendChild(document.createTextNode(code.slice(last, m.index)));
    const group = m.slice(1, 5).findIndex((g) => g !== undefined);
    codeEl.appendChild(el('span', PY_CLASSES[group], m[0]));
    last = m.index + m[0].length;
  }
  if (last < code.length) codeEl.appendChild(document.createTextNode(code.slice(last)));
}
