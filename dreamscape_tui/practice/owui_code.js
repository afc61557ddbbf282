// Open WebUI's code blocks (CodeBlock.svelte + CodeEditor.svelte): CodeMirror 6 editors.
//
// Every ``` fence (diff too) is an editable CM6 editor under a header with the
// language and Collapse / Run (python) / Save / Copy buttons. The scroller holds
// gutters (line numbers, "⌄" fold markers on foldable lines, each gutter with a
// hidden spacer element) and .cm-content > div.cm-line per line. Like CM6, only the
// lines within 1000px of the visible part of the window are in the DOM (the rest
// are div.cm-gap spacers), re-drawn as the page scrolls. The whole text is in the
// editor state: .cm-content.cmTile.view.state.doc.toString() (CM view >= 6.39).
// `~~~` fences are not code blocks in Open WebUI: their text renders as plain text.

import { appendTokens, attachCmView, copyText, el, isPython } from './codeviews.js';

const LINE_PX = 20;     // .cm-line height (see openwebui.css)
const MARGIN_PX = 1000; // @codemirror/view viewstate VP.Margin
const live = new Set(); // .cm-content elements whose viewport follows the page

const CHEVRON = '<svg xmlns="http://www.w3.org/2000/svg" fill="none" viewBox="0 0 24 24" stroke-width="1.5" stroke="currentColor" class="size-3"><path stroke-linecap="round" stroke-linejoin="round" d="M8.25 15 12 18.75 15.75 15m-7.5-6L12 5.25 15.75 9"/></svg>';

/** Open WebUI's block for one fence; `id` is `${chatId}-${messageId}-${tokenIdx}`. */
export function owuiCodeBlock(id, lang, code, fence) {
  if (fence === '~') return document.createTextNode(code);
  const box = el('div', 'relative flex flex-col rounded-2xl border border-gray-100 my-0.5');
  box.dir = 'ltr';
  const header = el('div', 'sticky top-0 left-0 right-0 py-2 pr-3 flex items-center justify-end w-full z-10 text-xs');
  const label = el('div', 'flex-1 truncate');
  label.appendChild(el('span', 'truncate text-ellipsis', lang));
  const buttons = el('div', 'flex items-center gap-0.5 shrink-0');
  const collapse = button('flex gap-1 items-center bg-none border-none transition rounded-md px-1.5 py-0.5');
  collapse.innerHTML = CHEVRON;
  const collapseLabel = collapse.appendChild(el('div', '', 'Collapse'));
  buttons.appendChild(collapse);
  if (isPython(lang)) {
    const run = button('run-code-button bg-none border-none transition rounded-md px-1.5 py-0.5');
    run.appendChild(el('div', '', 'Run'));
    buttons.appendChild(run);
  }
  const save = button('save-code-button bg-none border-none transition rounded-md px-1.5 py-0.5', 'Save');
  save.addEventListener('click', () => flash(save, 'Saved', 'Save'));
  const copy = button('copy-code-button bg-none border-none transition rounded-md px-1.5 py-0.5', 'Copy');
  copy.addEventListener('click', () => { copyText(code); flash(copy, 'Copied', 'Copy'); });
  buttons.append(save, copy);
  header.append(label, buttons);

  const body = el('div', `language-${lang} rounded-t-2xl -mt-8 overflow-hidden`);
  const holder = el('div', 'text-sm scrollbar-hidden overflow-x-auto');
  holder.id = `code-textarea-${id}`;
  holder.appendChild(cmEditor(lang, code));
  body.append(el('div', 'pt-6.5 bg-gray-50'), holder);
  const hidden = el('span', 'hidden-lines', `${code.split('\n').length} hidden lines`);
  hidden.hidden = true;
  body.appendChild(hidden);
  collapse.addEventListener('click', () => {
    const collapsed = !holder.hidden;
    holder.hidden = collapsed;
    hidden.hidden = !collapsed;
    collapseLabel.textContent = collapsed ? 'Expand' : 'Collapse';
  });
  box.append(header, body, Object.assign(el('div'), { id: `plt-canvas-${id}` }));
  const outer = el('div');
  outer.appendChild(box);
  return outer;
}

function button(className, text) {
  const b = el('button', className, text);
  b.type = 'button';
  return b;
}

function flash(b, text, back) {
  b.textContent = text;
  setTimeout(() => { b.textContent = back; }, 1000);
}

/** CM6's DOM for `code`: gutters and content, drawn for the lines near the viewport. */
function cmEditor(lang, code) {
  const lines = code.split('\n');
  const editor = el('div', 'cm-editor ͼ1 ͼ2 ͼ4');
  const announced = el('div', 'cm-announced');
  announced.setAttribute('aria-live', 'polite');
  const scroller = el('div', 'cm-scroller');
  const gutters = el('div', 'cm-gutters cm-gutters-before');
  gutters.setAttribute('aria-hidden', 'true');
  const numbers = el('div', 'cm-gutter cm-lineNumbers');
  const folds = el('div', 'cm-gutter cm-foldGutter');
  gutters.append(numbers, folds);
  const content = el('div', 'cm-content');
  for (const [name, value] of Object.entries({
    contenteditable: 'true', role: 'textbox', 'aria-multiline': 'true', 'data-language': lang || 'plaintext',
    translate: 'no', spellcheck: 'false', autocorrect: 'off', autocapitalize: 'off',
  })) content.setAttribute(name, value);
  scroller.append(gutters, content);
  editor.append(announced, scroller);
  const foldable = lines.map((_, i) => isFoldable(lines, i));
  let drawn = [-1, -1];

  const draw = (from, to) => {
    if (from === drawn[0] && to === drawn[1]) return;
    drawn = [from, to];
    const gap = (count) => Object.assign(el('div', 'cm-gap'), { style: `height: ${count * LINE_PX}px` });
    const rows = lines.slice(from, to).map((line) => {
      const row = el('div', 'cm-line');
      if (line === '') row.appendChild(el('br'));
      else appendTokens(row, line, lang);
      return row;
    });
    content.replaceChildren(...(from > 0 ? [gap(from)] : []), ...rows, ...(to < lines.length ? [gap(lines.length - to)] : []));
    const gutterRows = (make) => lines.slice(from, to).map((_, k) => {
      const cell = el('div', 'cm-gutterElement');
      cell.style.height = `${LINE_PX}px`;
      if (k === 0 && from > 0) cell.style.marginTop = `${from * LINE_PX}px`;
      make(cell, from + k);
      return cell;
    });
    const spacer = (text) => Object.assign(el('div', 'cm-gutterElement', text), {
      style: 'height: 0px; visibility: hidden; pointer-events: none;',
    });
    numbers.replaceChildren(spacer(String(lines.length)), ...gutterRows((cell, i) => { cell.textContent = String(i + 1); }));
    folds.replaceChildren(spacer('⌄'), ...gutterRows((cell, i) => {
      if (foldable[i]) cell.appendChild(Object.assign(el('span', '', '⌄'), { title: 'Fold line' }));
    }));
  };

  content.practiceViewport = () => {
    const rect = content.getBoundingClientRect();
    const top = Math.max(0, -rect.top) - MARGIN_PX;
    const bottom = Math.min(rect.height, window.innerHeight - rect.top) + MARGIN_PX;
    const from = Math.max(0, Math.floor(top / LINE_PX));
    const to = Math.min(lines.length, Math.ceil(bottom / LINE_PX));
    if (to > from) draw(from, to);
  };
  draw(0, Math.min(lines.length, Math.ceil((window.innerHeight + MARGIN_PX) / LINE_PX)));
  attachCmView(content, editor, code, 'cmTile');
  live.add(content);
  schedule();
  return editor;
}

/** Foldable like CM's indentation folding: the next non-blank line is indented deeper. */
function isFoldable(lines, i) {
  const indent = (s) => s.match(/^[ \t]*/)[0].replace(/\t/g, '    ').length;
  if (!lines[i].trim()) return false;
  for (let j = i + 1; j < lines.length; j += 1) {
    if (lines[j].trim()) return indent(lines[j]) > indent(lines[i]);
  }
  return false;
}

let pending = false;

/** Re-measure every live editor on the next frame (after layout). */
function schedule() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    for (const content of live) {
      if (content.isConnected) content.practiceViewport();
      else live.delete(content);
    }
  });
}

document.addEventListener('scroll', schedule, true);
window.addEventListener('resize', schedule);
