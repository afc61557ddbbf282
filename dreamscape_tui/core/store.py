"""The project's state: one TinyDB file behind one lock.

TinyDB is not thread-safe, and the app reads and writes from the UI thread, scan
threads and heal workers at once. So every access goes through ``Store.lock``;
``CachingMiddleware`` keeps the database in memory and a flusher thread writes it out
periodically and on close. Writes go to a temp file that is renamed into place, so a
crash never leaves a half-written store; a store that does not parse is moved aside
and rebuilt instead of taking the app down.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import tempfile
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage
from tinydb.table import Table

from dreamscape_tui.core.errors import UserError

STATE_DIR = ".dreamscape"
STATE_FILE = "state.json"


class StoreError(UserError):
    """The store cannot be opened or written (a user-facing, one-line problem)."""


class AtomicJSONStorage(Storage):
    """A JSON storage that replaces its file atomically and survives corruption.

    ``recovered_to`` tells the caller where a corrupt file was moved, so it can warn.
    """

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.recovered_to: Path | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def read(self) -> dict[str, dict[str, Any]] | None:
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
            self.recovered_to = self._move_aside()
            return None
        return data

    def _move_aside(self) -> Path:
        for n in range(1, 1000):
            target = self.path.with_name(f"{self.path.name}.corrupt-{n}")
            if not target.exists():
                os.replace(self.path, target)
                return target
        raise StoreError(f"{self.path}: corrupt, and too many corrupt copies beside it")

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        pass


class Store:
    """The TinyDB database of one project, safe to share between threads.

    Use ``with store.tables() as db:`` (or ``store.table(name)`` inside ``store.lock``)
    for every access. Changes are cached in memory and flushed every
    ``flush_interval_s`` seconds, on ``flush()``, on ``close()`` and at interpreter exit.
    """

    def __init__(self, path: Path, *, flush_interval_s: float = 2.0) -> None:
        self.path = path
        self.lock = threading.RLock()
        self._cache = CachingMiddleware(AtomicJSONStorage)  # type: ignore[no-untyped-call]
        try:
            self._db = TinyDB(str(path), storage=self._cache)
            self._db.tables()  # load now, so corruption is detected at open
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the store: {exc.strerror or exc}") from None
        self._closed = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_loop, args=(flush_interval_s,), name="store-flush", daemon=True
        )
        self._flusher.start()
        self_ref = weakref.ref(self)

        def close_at_exit() -> None:
            store = self_ref()
            if store is not None:
                store.close()

        atexit.register(close_at_exit)

    @classmethod
    def for_project(cls, root: Path, **kwargs: Any) -> Store:
        """Open ``root/.dreamscape/state.json``."""
        return cls(root / STATE_DIR / STATE_FILE, **kwargs)

    @property
    def recovered_to(self) -> Path | None:
        """Where a corrupt store file was moved on open, if it was."""
        storage = self._cache.storage
        return storage.recovered_to if isinstance(storage, AtomicJSONStorage) else None

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
            if not self._closed.is_set():
                self._cache.flush()  # type: ignore[no-untyped-call]  # writes only if modified

    def _flush_loop(self, interval: float) -> None:
        while not self._closed.wait(interval):
            # Disk full or gone: keep the cache in memory; close() raises it.
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
