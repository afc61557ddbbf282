// Composer attachments: files chosen in the hidden file input, and long pastes.
//
// Each attachment uploads at once (POST /backend-api/files?name=NAME, raw body) and
// is "uploading" until the server answers (it waits about half a second), then
// "done" with the server's file id, or "error". The composer may only send once no
// upload is in flight; the prompt then names the done attachments by id, and the
// server records their contents with the prompt.

import { el } from './conversation.js';

/** Name ChatGPT gives a paste that is too long to stay text. */
export const PASTED_NAME = 'Pasted text.txt';

export class Uploads {
  /** @param {() => void} onChange called whenever an attachment is added, settles or goes */
  constructor(onChange) {
    this.items = [];
    this.onChange = onChange;
    this.serial = 0;
  }

  /** Upload `body` (a string or a File/Blob) as `name`; returns the attachment. */
  add(name, body) {
    this.serial += 1;
    const item = { key: this.serial, name, state: 'uploading', id: null, size: body.size ?? body.length };
    this.items.push(item);
    this.onChange();
    fetch(`/backend-api/files?name=${encodeURIComponent(name)}`, {
      method: 'POST', body, credentials: 'same-origin',
      headers: { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : (body.type || 'application/octet-stream') },
    }).then(async (response) => {
      if (!response.ok) throw new Error(`upload failed: ${response.status}`);
      const payload = await response.json();
      item.id = payload.file_id;
      item.state = 'done';
    }).catch(() => {
      item.state = 'error';
    }).finally(() => {
      if (this.items.includes(item)) this.onChange();
    });
    return item;
  }

  /** Upload every file of a FileList / array (file input, dropped or pasted files). */
  addFiles(files) {
    for (const file of Array.from(files || [])) this.add(file.name || 'file', file);
  }

  remove(item) {
    this.items = this.items.filter((i) => i !== item);
    this.onChange();
  }

  /** An upload is still in flight: sending must wait. */
  uploading() {
    return this.items.some((i) => i.state === 'uploading');
  }

  /** Attachments ready to go with the prompt. */
  ready() {
    return this.items.filter((i) => i.state === 'done');
  }

  /** Hand the ready attachments to a prompt and empty the composer's list. */
  take() {
    const ready = this.ready().map((i) => ({ id: i.id, name: i.name }));
    this.items = [];
    this.onChange();
    return ready;
  }
}

/** Whether a paste of `text` must become an attachment under `limit` (0: never). */
export function overPasteLimit(text, limit) {
  return Boolean(limit) && text.length > limit;
}

/** One chip per attachment in ``container``, each kept across renders (only its
 *  ``data-upload-state`` changes), as a framework would. ``chip(item, remove)`` builds
 *  a new attachment's chip around its remove button (made with ``removeAttrs``). */
export function renderChips(container, uploads, removeAttrs, chip) {
  container.replaceChildren(...uploads.items.map((item) => {
    if (item.node) {
      item.node.setAttribute('data-upload-state', item.state);
      return item.node;
    }
    const remove = el('button', { type: 'button', class: 'chip-remove', 'aria-label': 'Remove file', ...removeAttrs });
    remove.addEventListener('click', () => uploads.remove(item));
    item.node = chip(item, remove);
    return item.node;
  }));
}
