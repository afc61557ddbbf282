// Practice chat page entry point: picks the DOM the server asked for and starts it.
//
// The server fills in #practice-config (see _handler.py): {dom, loggedIn,
// loggedOutComposer, pasteLimit}. Each DOM module (dom_*.js) draws its own markup
// around the shared conversation engine (conversation.js); the package docstring
// (dreamscape_tui/practice/__init__.py) is the contract for what each DOM shows.

import { CONFIG } from './conversation.js';

const MODULES = {
  classic: './dom_classic.js',
  codemirror: './dom_classic.js',
  transcript: './dom_transcript.js',
  openwebui: './dom_openwebui.js',
};

const dom = MODULES[CONFIG.dom] ? CONFIG.dom : 'classic';
const { start } = await import(MODULES[dom]);
start(document.getElementById('__next'), dom);
