"""The project's scan cache: one TinyDB file behind one lock, written when asked.

``Store.for_project(root)`` opens ``root/.dreamscape/scan.json``, which holds only the
scanner's cache (the heal tables live in their own journal file). The whole file is
read once, at open, and kept in memory; changes are written out on ``flush()`` and on
``close()`` only (the scanner flushes once, at the end of a scan), so a scan of an
unchanged project writes nothing. An optional flusher thread (``flush_interval_s``)
writes periodically for callers that want it.

TinyDB is not thread-safe, and the app reads and writes from the UI thread, scan
threads and heal workers at once. So every access goes through ``Store.lock``. Writes
go to a temp file that is renamed into place, so a crash never leaves a half-written
store; a store that does not parse is moved aside and rebuilt instead of taking the app
down. A ``read_only`` store (a second process beside the one holding the project lock)
reads the file and never writes, creates or moves anything, until ``make_writable()``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from dreamscape_tui.core.atomicfile import move_aside, write_atomically
from dreamscape_tui.core.errors import UserError

STATE_DIR = ".dreamscape"
SCAN_FILE = "scan.json"

Data = dict[str, dict[str, Any]]


class StoreError(UserError):
    """The store cannot be opened or written (a user-facing, one-line problem)."""


class AtomicJSONStorage(Storage):
    """A JSON storage that replaces its file atomically and survives corruption.

    ``recovered_to`` tells the caller where a corrupt file was moved, so it can warn.
    A ``read_only`` storage treats a corrupt file as empty and leaves it where it is.
    """

    def __init__(self, path: str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.recovered_to: Path | None = None
        self.corrupt = False
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def read(self) -> Data | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("top level is not an object")
        except (ValueError, UnicodeDecodeError):
            self.corrupt = True
            if not self.read_only:
                self.recovered_to = self._move_aside()
            return None
        return data

    def _move_aside(self) -> Path:
        target = move_aside(self.path)
        if target is None:
            raise StoreError(f"{self.path}: corrupt, and too many corrupt copies beside it")
        return target

    def write(self, data: Data) -> None:
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only")
        payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        write_atomically(self.path, [payload.encode("utf-8")])

    def close(self) -> None:
        pass


class MemoryStorage(Storage):
    """The whole database in memory, read from ``backing`` once, written on ``flush()``.

    TinyDB reads and writes its storage on every operation; here those are dict
    operations, and the file is written only when ``flush()`` finds a change.
    """

    def __init__(self, backing: AtomicJSONStorage) -> None:
        self.backing = backing
        self._data: Data | None = backing.read()
        self._dirty = False

    def read(self) -> Data | None:
        return self._data

    def write(self, data: Data) -> None:
        self._data = data
        self._dirty = True

    def flush(self) -> bool:
        """Write the data if it changed since the last flush; whether it wrote."""
        if not self._dirty or self._data is None:
            return False
        self.backing.write(self._data)
        self._dirty = False
        return True

    def close(self) -> None:
        pass


class Store:
    """The TinyDB database of one project, safe to share between threads.

    Use ``with store.tables() as db:`` (or ``store.table(name)`` inside ``store.lock``)
    for every access. Changes stay in memory until ``flush()`` or ``close()`` (and, with
    ``flush_interval_s``, every that many seconds); ``close()`` also runs at interpreter
    exit. ``read_only``: nothing is ever written (``flush()`` does nothing).
    """

    def __init__(self, path: Path, *, flush_interval_s: float | None = None,
                 read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.lock = threading.RLock()
        self.flushes = 0  # how many times the file was written (tests, diagnostics)
        try:
            self._memory = MemoryStorage(AtomicJSONStorage(str(path), read_only=read_only))
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the store: {exc.strerror or exc}") from None
        memory = self._memory
        self._db = TinyDB(storage=lambda: memory)
        self._closed = threading.Event()
        self._flusher: threading.Thread | None = None
        if flush_interval_s is not None and not read_only:
            self._flusher = threading.Thread(
                target=self._flush_loop, args=(flush_interval_s,), name="store-flush",
                daemon=True)
            self._flusher.start()
        self_ref = weakref.ref(self)

        def close_at_exit() -> None:
            store = self_ref()
            if store is not None:
                store.close()

        atexit.register(close_at_exit)

    @classmethod
    def for_project(cls, root: Path, **kwargs: Any) -> Store:
        """Open the scan cache, ``root/.dreamscape/scan.json``."""
        return cls(root / STATE_DIR / SCAN_FILE, **kwargs)

    @property
    def recovered_to(self) -> Path | None:
        """Where a corrupt store file was moved on open, if it was."""
        return self._memory.backing.recovered_to

    @property
    def corrupt(self) -> bool:
        """The file did not parse on open (moved aside unless read-only)."""
        return self._memory.backing.corrupt

    def make_writable(self) -> None:
        """Let a read-only store write from now on (its caller took the project lock).

        A file that was corrupt at open is moved aside now, unless it has been replaced
        by a good one meanwhile (the data read at open is kept either way).
        """
        with self.lock:
            backing = self._memory.backing
            if not self.read_only:
                return
            backing.path.parent.mkdir(parents=True, exist_ok=True)
            backing.read_only = self.read_only = False
            if backing.corrupt:
                backing.read()

    @contextmanager
    def tables(self) -> Iterator[TinyDB]:
        """Hold the lock: the one way to read or write."""
        with self.lock:
            if self._closed.is_set():
                raise StoreError(f"{self.path}: the store is closed")
            yield self._db

    def table(self, name: str) -> Table:
        """A table; the caller must hold ``self.lock`` while using it."""
        return self._db.table(name)

    def flush(self) -> None:
        """Write pending changes now (atomically); a no-op when nothing changed."""
        with self.lock:
            if not self._closed.is_set() and not self.read_only and self._memory.flush():
                self.flushes += 1

    def _flush_loop(self, interval: float) -> None:
        while not self._closed.wait(interval):
            # Disk full or gone: keep the data in memory; close() raises it.
            with contextlib.suppress(OSError):
                self.flush()

    def close(self) -> None:
        """Flush and close; safe to call more than once."""
        with self.lock:
            if self._closed.is_set():
                return
            self.flush()
            self._closed.set()
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
