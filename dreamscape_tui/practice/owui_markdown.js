// Open WebUI's composer text: what its RichTextInput sends, and how text enters it.
//
// toMarkdown is RichTextInput.svelte's `md`: editor.getHTML() with `<p></p>` made
// `<br/>` and runs of 2+ spaces made NBSP, through turndown (fenced code, the
// singleNewlineParagraphs rule, identity escaping), NBSP back to spaces. typography
// is TipTap's Typography extension (input rules on typed text). parseHtml / fromJson /
// toJson map HTML and TipTap JSON to the editor's blocks and back; editorHandle is
// the TipTap Editor API the page hangs on #chat-input.editor.

const NBSP = '\u00a0';

// -- serialisation (RichTextInput.svelte: getHTML -> turndown) ------------------------

/** turndown's join(): the larger of the two newline runs separates the outputs. */
function join(output, replacement) {
  const s1 = output.replace(/\n+$/, '');
  const s2 = replacement.replace(/^\n+/, '');
  const nls = Math.max(output.length - s1.length, replacement.length - s2.length);
  return s1 + '\n\n'.substring(0, nls) + s2;
}

function paragraphMarkdown(text) {
  if (text === '') return '  \n';  // <p></p> was replaced by <br/> before turndown
  if (/^\s*$/.test(text)) return '\n\n';  // a blank <p>: turndown's blankReplacement
  const collapsed = text.replace(/ {2,}/g, (m) => NBSP.repeat(m.length))
    .replace(/[ \r\n\t]+/g, ' ').replace(/^ /, '').replace(/ $/, '');
  return `\n${collapsed}\n`;  // the singleNewlineParagraphs rule
}

function fencedMarkdown(block) {
  const code = block.text;
  let size = 3;
  for (const m of code.matchAll(/^`{3,}/gm)) if (m[0].length >= size) size = m[0].length + 1;
  const fence = '`'.repeat(size);
  return `\n\n${fence}${block.language || ''}\n${code.replace(/\n$/, '')}\n${fence}\n\n`;
}

/** The prompt Open WebUI sends for these blocks (its `md`). */
export function toMarkdown(blocks) {
  let out = '';
  for (const b of blocks) out = join(out, b.type === 'codeBlock' ? fencedMarkdown(b) : paragraphMarkdown(b.text));
  out = out.replace(/^[\t\r\n]+/, '').replace(/[\t\r\n\s]+$/, '');
  return out.replace(/\u00a0/g, ' ');
}

// -- TipTap Typography input rules (applied to text as it is typed) --------------------

const TYPOGRAPHY = [
  [/--$/, '—'], [/\.\.\.$/, '…'], [/<-$/, '←'], [/->$/, '→'], [/!=$/, '≠'], [/<<$/, '«'], [/>>$/, '»'],
  [/\(c\)$/, '©'], [/\(r\)$/, '®'], [/\(tm\)$/, '™'], [/\+\/-$/, '±'], [/\^2$/, '²'], [/\^3$/, '³'],
  [/(?:^|[\s{[(<'"\u2018\u201C])(")$/, '“'], [/"$/, '”'],
  [/(?:^|[\s{[(<'"\u2018\u201C])(')$/, '‘'], [/'$/, '’'],
];

/** Apply the first matching rule to the end of `before`; returns the new text before the caret. */
export function typography(before) {
  for (const [rule, replacement] of TYPOGRAPHY) {
    const m = before.match(rule);
    if (!m) continue;
    const target = m[1] ?? m[0];
    return before.slice(0, before.length - target.length) + replacement;
  }
  return before;
}

export function languageOf(pre) {
  const m = (pre.querySelector('code')?.className || '').match(/language-(\S+)/);
  return m ? m[1] : '';
}

const BLOCKS = /^(P|PRE|DIV|H[1-6]|UL|OL|LI|BLOCKQUOTE|SECTION|ARTICLE|TABLE|TR)$/;
const SKIP = /^(META|STYLE|SCRIPT|LINK|TITLE|TEMPLATE)$/;

/**
 * HTML as ProseMirror's clipboard parser reads it into this schema: <pre> is a code
 * block kept exact (CodeBlock parseHTML preserveWhitespace 'full'); any other block
 * is a paragraph whose whitespace runs collapse to one space, trimmed at its edges.
 */
export function parseHtml(html) {
  const template = document.createElement('template');
  template.innerHTML = html;
  const blocks = [];
  const paragraph = (text) => blocks.push({ type: 'paragraph', text: text.replace(/[ \t\r\n\f]+/g, ' ').trim() });
  const walk = (parent) => {
    let inline = '';
    let open = false;
    const flush = () => {
      if (open) paragraph(inline);
      inline = '';
      open = false;
    };
    for (const node of parent.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        if (open || node.data.trim()) { inline += node.data; open = true; }
      } else if (node.nodeType !== Node.ELEMENT_NODE || SKIP.test(node.nodeName)) {
        continue;
      } else if (node.nodeName === 'PRE') {
        flush();
        blocks.push({ type: 'codeBlock', language: languageOf(node), text: node.textContent });
      } else if (BLOCKS.test(node.nodeName)) {
        flush();
        if (Array.from(node.children).some((c) => BLOCKS.test(c.nodeName))) walk(node);
        else paragraph(node.textContent);
      } else {
        inline += node.nodeName === 'BR' ? ' ' : node.textContent;
        open = true;
      }
    }
    flush();
  };
  walk(template.content);
  return blocks;
}

export function fromJson(value) {
  const nodes = Array.isArray(value) ? value : value && value.type === 'doc' ? value.content || [] : [value];
  return nodes.filter(Boolean).map((n) => ({
    type: n.type === 'codeBlock' ? 'codeBlock' : 'paragraph',
    language: (n.attrs && n.attrs.language) || '',
    text: (n.content || []).map((c) => (c.type === 'hardBreak' ? '\n' : c.text || '')).join('') || n.text || '',
  }));
}

export function toJson(b) {
  const content = b.text ? [{ type: 'text', text: b.text }] : undefined;
  return b.type === 'codeBlock'
    ? { type: 'codeBlock', attrs: { language: b.language || null }, ...(content ? { content } : {}) }
    : { type: 'paragraph', ...(content ? { content } : {}) };
}

/** What TipTap puts on the editor element (`#chat-input.editor`): a small Editor API. */
export function editorHandle(editor) {
  const content = (value) => (typeof value === 'string' ? parseHtml(value) : fromJson(value));
  return {
    get isEmpty() { return editor.md === ''; },
    getHTML: () => editor.el.innerHTML,
    getText: () => editor.blocks.map((b) => b.text).join('\n\n'),
    getJSON: () => ({ type: 'doc', content: editor.blocks.map(toJson) }),
    view: { dom: editor.el },
    commands: {
      setContent(value) { editor.setBlocks(content(value)); return true; },
      clearContent() { editor.clear(); return true; },
      insertContent(value) {
        const blocks = content(value);
        if (blocks.length) editor.insertBlocks(blocks);
        editor.changed();
        return true;
      },
      focus() { editor.el.focus(); editor.applySelection(); return true; },
      enter() { editor.enter(); editor.changed(); return true; },
    },
  };
}
