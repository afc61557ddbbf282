"""The scripts the client runs in a chat page, generic over DOM profiles.

Every script takes the profile's roles (``Profile.roles()``: role -> selectors, tried
in order) as its first argument, so none of them knows any one page. No selenium here
(only :mod:`dreamscape_tui.core.client` imports it); these are strings and the tiny
shared prelude they are built from.
"""

from __future__ import annotations

# Shared helpers: q(sel, root) never throws on a bad selector; all(role, root) returns
# the matches of the role's first selector that matches anything.
_PRELUDE = """
const R = arguments[0];
const q = (sel, root) => { try { return Array.from((root || document).querySelectorAll(sel)); }
                           catch (e) { return []; } };
const all = (role, root) => { for (const sel of (R[role] || [])) { const f = q(sel, root);
                              if (f.length) return f; } return []; };
const is = (el, role) => (R[role] || []).some((sel) => { try { return el.matches(sel); }
                                                          catch (e) { return false; } });
const lastMessage = () => { const m = all('assistant_message'); return m[m.length - 1] || null; };
const turnOf = (m) => { for (const sel of (R.turn || [])) { try { const t = m.closest(sel);
                        if (t) return t; } catch (e) {} } return m; };
const bodyOf = (m) => all('answer_body', m)[0] || m;
"""

STATE_JS = _PRELUDE + """
const m = lastMessage();
const turn = m ? turnOf(m) : null;
const done = !!turn && (R.done_marker || []).some((sel) => {
  try { return turn.matches(sel) || !!turn.querySelector(sel) || m.matches(sel); }
  catch (e) { return false; } });
const body = m ? bodyOf(m) : null;
const text = body ? body.textContent : '';
const errors = all('error_message');
const notice = all('downgrade_notice').map((n) => n.textContent).join(' ');
const attr = arguments[1];
return {url: location.href, title: document.title, input: all('prompt_input').length > 0,
        wall: all('login_wall').length > 0, stop: all('stop_button').length > 0,
        send: all('send_button').length > 0, assistants: all('assistant_message').length,
        errors: errors.length,
        error_text: errors.length ? (errors[errors.length - 1].textContent || '').trim() : '',
        done: done, text_length: text.length, text_tail: text.slice(-200),
        model: !m ? '' : (attr ? (m.getAttribute(attr) || (m.closest('[' + attr + ']') || m)
                                  .getAttribute(attr) || '') : '')
               || ((all('model_label', turn)[0] || {}).textContent || '').trim(),
        notice: notice.trim().slice(0, 300),
        uploading: all('uploading').length, attachments: all('attachment').length,
        challenge: /just a moment/i.test(document.title) ||
                   !!document.querySelector('#challenge-form, #cf-challenge-running'),
        body: location.href.startsWith('chrome-error:') && document.body
              ? document.body.innerText.slice(0, 500) : ''};
"""

DETECT_JS = """
const profiles = arguments[0];
if (/just a moment/i.test(document.title) ||
    document.querySelector('#challenge-form, #cf-challenge-running')) return '-';
for (const [name, sels] of profiles) {
  for (const sel of sels) { try { if (document.querySelector(sel)) return name; } catch (e) {} }
}
return '';
"""

# Paste first (what a user does; ProseMirror keeps it exactly), then execCommand, then a
# native value setter for textareas (a paste event does not fill a textarea).
INSERT_JS = _PRELUDE + """
const text = arguments[1];
const el = all('prompt_input')[0];
if (!el) return 'missing';
const isField = el.tagName === 'TEXTAREA' || el.tagName === 'INPUT';
const has = () => (isField ? el.value : el.textContent).length > 0;
el.focus();
if (isField) {
  const proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement : HTMLInputElement;
  Object.getOwnPropertyDescriptor(proto.prototype, 'value').set.call(el, text);
  el.dispatchEvent(new Event('input', {bubbles: true}));
  if (has()) return 'value';
}
const data = new DataTransfer();
data.setData('text/plain', text);
el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                               cancelable: true}));
if (has()) return 'paste';
if (document.execCommand('insertText', false, text) && has()) return 'execCommand';
return 'failed';
"""

# A rich editor that rewrites pasted text keeps code blocks pasted as HTML exactly:
# arguments[1] is the prompt as HTML (<p> lines, <pre><code> blocks), [2] as text.
INSERT_HTML_JS = _PRELUDE + """
const [html, text] = [arguments[1], arguments[2]];
const el = all('prompt_input')[0];
if (!el) return 'missing';
el.focus();
const data = new DataTransfer();
data.setData('text/html', html);
data.setData('text/plain', text);
el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                               cancelable: true}));
return el.textContent.length > 0 ? 'html' : 'failed';
"""

# The code blocks in the composer, as the page holds them.
COMPOSER_CODE_JS = _PRELUDE + """
const el = all('prompt_input')[0];
if (!el) return null;
return Array.from(el.querySelectorAll('pre'), (p) => (p.querySelector('code') || p).textContent);
"""

# The composer's text as the page will send it: a textarea's value; for a rich editor,
# its block elements one per line (ProseMirror keeps each line in a <p>).
COMPOSER_TEXT_JS = _PRELUDE + """
const el = all('prompt_input')[0];
if (!el) return null;
if (el.tagName === 'TEXTAREA' || el.tagName === 'INPUT') return el.value;
const blocks = Array.from(el.children).filter((c) => /^(P|DIV|PRE|H[1-6]|LI)$/.test(c.tagName));
if (!blocks.length) return el.textContent;
return blocks.map((b) => b.textContent).join('\\n');
"""

CLEAR_COMPOSER_JS = _PRELUDE + """
const el = all('prompt_input')[0];
if (!el) return false;
el.focus();
if (el.tagName === 'TEXTAREA' || el.tagName === 'INPUT') {
  const proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement : HTMLInputElement;
  Object.getOwnPropertyDescriptor(proto.prototype, 'value').set.call(el, '');
  el.dispatchEvent(new Event('input', {bubbles: true}));
} else {
  document.execCommand('selectAll', false);
  document.execCommand('delete', false);
}
return true;
"""

CLICK_JS = _PRELUDE + """
const el = all(arguments[1])[0];
if (!el) return false;
el.click();
return true;
"""

# The page's own copy action: capture what it writes (navigator.clipboard or a copy
# event) instead of touching the real clipboard, click, and leave the result in
# window.__dreamscapeCopy for COPIED_JS to collect. On an insecure origin, where the
# page has no navigator.clipboard, one is provided. RESTORE_CLIPBOARD_JS undoes the
# patch (in attach mode the tab is the user's own).
COPY_JS = _PRELUDE + """
const m = lastMessage();
if (!m) return false;
const button = all('copy_button', turnOf(m))[0];
if (!button) return false;
if (!navigator.clipboard) {
  try { Object.defineProperty(navigator, 'clipboard', {value: {}, configurable: true}); }
  catch (e) {}
}
const clip = navigator.clipboard;
window.__dreamscapeCopy = null;
if (clip) {
  const put = (text) => { window.__dreamscapeCopy = String(text); return Promise.resolve(); };
  const write = async (items) => {
    for (const item of items) {
      if (item.types.includes('text/plain')) {
        window.__dreamscapeCopy = await (await item.getType('text/plain')).text(); return;
      } } };
  try { Object.defineProperty(clip, 'writeText', {value: put, configurable: true}); } catch (e) {}
  try { Object.defineProperty(clip, 'write', {value: write, configurable: true}); } catch (e) {}
}
if (!window.__dreamscapeCopyListener) {
  window.__dreamscapeCopyListener = true;
  window.addEventListener('copy', (ev) => {
    if (window.__dreamscapeCopy !== null) return;
    const data = ev.clipboardData && ev.clipboardData.getData('text/plain');
    window.__dreamscapeCopy = data || String(document.getSelection());
  });
}
button.click();
return true;
"""

COPIED_JS = "return window.__dreamscapeCopy === undefined ? null : window.__dreamscapeCopy;"

RESTORE_CLIPBOARD_JS = """
const clip = navigator.clipboard;
if (clip) { delete clip.writeText; delete clip.write; }
window.__dreamscapeCopy = undefined;
return true;
"""

# The last answer as markdown, walked from the DOM: paragraphs, headings, lists, quotes,
# inline code and fenced code blocks whose code is exact (a CodeMirror editor's
# document when its view is reachable, else its lines; never gutters or buttons).
READ_JS = _PRELUDE + """
const m = lastMessage();
if (!m) return null;
const skip = (el) => is(el, 'chrome') || is(el, 'reasoning');
const isBlock = (el) => is(el, 'code_block') || el.classList.contains('cm-editor');
function cmText(root) {
  const content = root.classList && root.classList.contains('cm-content') ? root
    : (root.querySelector('.cm-content') || root);
  for (const cand of [content, root]) {
    const v = cand.cmView || cand.cmTile;
    const view = v && (v.view || (v.rootView && v.rootView.view));
    if (view && view.state && view.state.doc) return view.state.doc.toString();
  }
  const lines = content.querySelectorAll('.cm-line');
  if (lines.length) return Array.from(lines, (l) => l.textContent).join('\\n');
  let out = '';
  for (const n of content.childNodes) out += n.nodeName === 'BR' ? '\\n' : n.textContent;
  return out.endsWith('\\n') ? out.slice(0, -1) : out;
}
function codeOf(block) {
  let lang = '';
  const label = all('code_label', block)[0];
  const code = block.querySelector('code');
  const cls = (code && code.className.match(/language-([\\w+#.-]+)/)) ||
              (block.className && String(block.className).match(/language-([\\w+#.-]+)/));
  if (cls) lang = cls[1];
  else if (label) lang = label.textContent.trim().split(/\\s+/)[0] || '';
  else {  // the header's label: the first text outside the code and the buttons
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      if (t.textContent.trim() && !t.parentElement.closest(
        'button, code, .cm-content, .cm-gutters, [aria-hidden="true"]')) {
        lang = t.textContent.trim().split(/\\s+/)[0];
        break;
      }
    }
  }
  let text;
  if (block.querySelector('.cm-content') || block.classList.contains('cm-editor')) {
    text = cmText(block);
  } else if (code) {
    text = code.textContent;
    if (text.endsWith('\\n')) text = text.slice(0, -1);
  } else {
    text = block.textContent.replace(/\\n$/, '');
  }
  return [lang, text];
}
const codes = [];
function fence(lang, text) {
  codes.push(text);
  let ticks = '```';
  while (text.includes(ticks)) ticks += '`';
  return ticks + lang + '\\n' + text + '\\n' + ticks;
}
function inline(node) {
  let out = '';
  for (const n of node.childNodes) {
    if (n.nodeType === 3) { out += n.textContent; continue; }
    if (n.nodeType !== 1 || skip(n)) continue;
    const tag = n.tagName;
    if (isBlock(n)) { out += '\\n\\n' + fence(...codeOf(n)) + '\\n\\n'; continue; }
    if (tag === 'BR') out += '\\n';
    else if (tag === 'CODE') out += '`' + n.textContent + '`';
    else if (tag === 'STRONG' || tag === 'B') out += '**' + inline(n) + '**';
    else if (tag === 'EM' || tag === 'I') out += '*' + inline(n) + '*';
    else if (tag === 'A') {
      const href = n.getAttribute('href') || '';
      out += href && !href.startsWith('#') ? '[' + inline(n) + '](' + href + ')' : inline(n);
    } else if (/^(P|DIV|SECTION|UL|OL|TABLE|BLOCKQUOTE|H[1-6]|HR|PRE)$/.test(tag)) {
      out += '\\n\\n' + blocks(n) + '\\n\\n';
    } else out += inline(n);
  }
  return out;
}
function list(node, ordered, depth) {
  const items = Array.from(node.children).filter((c) => c.tagName === 'LI');
  return items.map((li, i) => {
    const mark = ordered ? (i + 1) + '. ' : '- ';
    const pad = ' '.repeat(mark.length);
    const text = blocks(li).split('\\n').map((l, j) => (j ? pad + l : l)).join('\\n');
    return '  '.repeat(depth) + mark + text;
  }).join('\\n');
}
function table(node) {
  const cell = (c) => inline(c).trim().replace(/\\|/g, '\\\\|');
  const rows = Array.from(node.querySelectorAll('tr')).map((tr) =>
    '| ' + Array.from(tr.children, cell).join(' | ') + ' |');
  if (!rows.length) return '';
  const cols = node.querySelector('tr').children.length;
  rows.splice(1, 0, '|' + ' --- |'.repeat(cols));
  return rows.join('\\n');
}
function block(n) {
  if (n.nodeType === 3) return n.textContent;
  if (n.nodeType !== 1 || skip(n)) return '';
  if (isBlock(n)) return fence(...codeOf(n));
  const tag = n.tagName;
  const h = tag.match(/^H([1-6])$/);
  if (h) return '#'.repeat(+h[1]) + ' ' + inline(n).trim();
  if (tag === 'UL' || tag === 'OL') return list(n, tag === 'OL', 0);
  if (tag === 'BLOCKQUOTE') return blocks(n).split('\\n').map((l) => '> ' + l).join('\\n');
  if (tag === 'HR') return '---';
  if (tag === 'TABLE') return table(n);
  if (tag === 'P') return inline(n);
  return blocks(n);
}
function blocks(node) {
  const parts = [];
  let run = '';
  const flush = () => { if (run.trim()) parts.push(run.trim()); run = ''; };
  for (const n of node.childNodes) {
    const blockish = n.nodeType === 1 && !skip(n) &&
      (isBlock(n) || /^(P|DIV|SECTION|UL|OL|TABLE|BLOCKQUOTE|H[1-6]|HR|PRE)$/.test(n.tagName));
    if (blockish) { flush(); const b = block(n); if (b.trim()) parts.push(b); }
    else if (n.nodeType === 1 && !skip(n)) run += inline({childNodes: [n]});
    else if (n.nodeType === 3) run += n.textContent;
  }
  flush();
  return parts.join('\\n\\n');
}
const text = blocks(bodyOf(m)).replace(/\\n{3,}/g, '\\n\\n').trim();
return {text: text, code: codes};
"""

# Ask the site whether this browser is logged in (async: the last argument is the
# callback). Same origin, with the page's cookies and, if named, its bearer token.
SESSION_PROBE_JS = """
const [path, tokenKey, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const headers = {};
const token = tokenKey ? window.localStorage.getItem(tokenKey) : null;
if (token) headers.Authorization = 'Bearer ' + token;
fetch(path, {credentials: 'include', headers: headers})
  .then(async (r) => { let body = null; try { body = await r.json(); } catch (e) {}
                       done({status: r.status, body: body}); })
  .catch(() => done({status: 0, body: null}));
"""

# Every role's selectors and how many elements each matches right now (doctor).
INSPECT_JS = _PRELUDE + """
const out = {};
for (const [role, sels] of Object.entries(R)) {
  out[role] = sels.map((sel) => { let n = -1; try { n = document.querySelectorAll(sel).length; }
                                  catch (e) {} return [sel, n]; });
}
return out;
"""

# Elements that look like they could play a role whose selectors match nothing: scored by
# the role's keywords in their tag, id, classes and attributes; each as a CSS selector.
CANDIDATES_JS = """
const [words, limit] = arguments;
const cssEscape = (v) => (window.CSS && CSS.escape) ? CSS.escape(v) : v;
const selectorOf = (el) => {
  const tag = el.tagName.toLowerCase();
  if (el.id) return '#' + cssEscape(el.id);
  for (const a of el.attributes) {
    if (a.name.startsWith('data-') || a.name === 'aria-label' || a.name === 'name'
        || a.name === 'role') {
      return a.value && a.value.length < 60 ? tag + '[' + a.name + '="' + a.value + '"]'
                                             : tag + '[' + a.name + ']';
    }
  }
  const cls = Array.from(el.classList).slice(0, 2).map((c) => '.' + cssEscape(c)).join('');
  return tag + cls;
};
const scored = new Map();
for (const el of Array.from(document.querySelectorAll('body *')).slice(0, 5000)) {
  const hay = (el.tagName + ' ' + el.id + ' ' + el.className + ' ' +
               Array.from(el.attributes, (a) => a.name + '=' + a.value).join(' ')).toLowerCase();
  const score = words.filter((w) => hay.includes(w)).length;
  if (!score) continue;
  const sel = selectorOf(el);
  let count = 0; try { count = document.querySelectorAll(sel).length; } catch (e) { continue; }
  if (!scored.has(sel) || scored.get(sel)[0] < score) scored.set(sel, [score, count]);
}
return Array.from(scored.entries()).sort((a, b) => b[1][0] - a[1][0]).slice(0, limit)
  .map(([sel, [score, count]]) => [sel, count]);
"""

# Put the login token the site returned where its page looks for it, and reload.
ADOPT_TOKEN_JS = """
window.localStorage.setItem(arguments[0], arguments[1]);
location.reload();
return true;
"""
