// Minimal markdown renderer for the practice answers, shared by every DOM.
//
// Only what scripted answers use: paragraphs, ``` fenced code blocks (which may
// still be open while an answer streams), ATX headings, bullet and numbered lists,
// block quotes, inline `code` and **bold**. How a code block looks is the DOM's
// business: the caller passes a renderer (codeviews.js has one per DOM), so the
// same answer text becomes ChatGPT's `pre code`, its CodeMirror viewer, or Open
// WebUI's editor. Text is never parsed as HTML.

import { classicCodeBlock } from './codeviews.js';

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$/;
const BULLET = /^ {0,3}([-*+])[ \t]+(.*)$/;
const NUMBERED = /^ {0,3}(\d{1,9})[.)][ \t]+(.*)$/;
const QUOTE = /^ {0,3}>[ ]?(.*)$/;

/** Split answer text into blocks; the last code block may be open (still streaming). */
export function parseBlocks(text) {
  const blocks = [];
  let para = [];
  let code = null;  // {lang, fence, lines}
  const endPara = () => {
    if (para.length) blocks.push({ type: 'paragraph', text: para.join('\n') });
    para = [];
  };
  const last = () => blocks[blocks.length - 1];
  for (const line of text.split('\n')) {
    if (code) {
      const close = line.match(/^ {0,3}(`{3,}|~{3,})[ \t]*$/);
      if (close && close[1][0] === code.fence[0] && close[1].length >= code.fence.length) {
        blocks.push({ type: 'code', lang: code.lang, fence: code.fence[0], code: code.lines.join('\n'), open: false });
        code = null;
      } else {
        code.lines.push(line);
      }
      continue;
    }
    let m;
    if ((m = line.match(FENCE_OPEN))) {
      endPara();
      code = { lang: m[2], fence: m[1], lines: [] };
    } else if (line.trim() === '') {
      endPara();
    } else if ((m = line.match(HEADING))) {
      endPara();
      blocks.push({ type: 'heading', level: m[1].length, text: m[2] });
    } else if ((m = line.match(BULLET)) || (m = line.match(NUMBERED))) {
      endPara();
      const ordered = /\d/.test(m[1]);
      const prev = last();
      if (prev && prev.type === 'list' && prev.ordered === ordered) prev.items.push(m[2]);
      else blocks.push({ type: 'list', ordered, start: ordered ? Number(m[1]) : 1, items: [m[2]] });
    } else if ((m = line.match(QUOTE))) {
      endPara();
      const prev = last();
      if (prev && prev.type === 'quote') prev.lines.push(m[1]);
      else blocks.push({ type: 'quote', lines: [m[1]] });
    } else if (!para.length && last() && last().type === 'list' && /^\s/.test(line)) {
      const items = last().items;
      items[items.length - 1] += `\n${line.trim()}`;  // a continuation line of a list item
    } else {
      para.push(line);
    }
  }
  endPara();
  if (code) blocks.push({ type: 'code', lang: code.lang, fence: code.fence[0], code: code.lines.join('\n'), open: true });
  return blocks;
}

/**
 * Render `text` into `container`, replacing what was there (called per chunk).
 * @param {(lang: string, code: string, open: boolean, fence: string) => Node} codeBlock
 *   renderer per DOM (`fence` is the fence character, ` or ~)
 */
export function renderMarkdown(container, text, codeBlock = classicCodeBlock) {
  const nodes = parseBlocks(text).map((b) => renderBlock(b, codeBlock));
  container.replaceChildren(...nodes);
}

function renderBlock(block, codeBlock) {
  switch (block.type) {
    case 'code':
      return codeBlock(block.lang, block.code, block.open, block.fence);
    case 'heading':
      return inline(el(`h${block.level}`), block.text);
    case 'list': {
      const list = el(block.ordered ? 'ol' : 'ul');
      if (block.ordered && block.start !== 1) list.setAttribute('start', String(block.start));
      for (const item of block.items) list.appendChild(inline(el('li'), item));
      return list;
    }
    case 'quote': {
      const quote = el('blockquote');
      quote.appendChild(inline(el('p'), block.lines.join('\n')));
      return quote;
    }
    default:
      return inline(el('p'), block.text);
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Lines of `text` into `parent`, separated by <br>, with inline markup. */
function inline(parent, text) {
  text.split('\n').forEach((line, i) => {
    if (i) parent.appendChild(el('br'));
    appendInline(parent, line);
  });
  return parent;
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
