"""Files replaced whole or not at all, and corrupt files set aside for a person.

Every file dreamscape rewrites (the user's source on apply and undo, its backups, the
scan cache, a compacted heal journal, the cookie jar) goes through ``write_atomically``:
a temp file in the same directory, fsynced, then renamed over the target, so a crash
leaves the old content or the new one, never half of each.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def write_atomically(path: Path, chunks: Iterable[bytes], *, mode: int | None = None) -> int:
    """Replace ``path`` with the concatenated ``chunks``; returns how many were written.

    ``mode`` sets the new file's permission bits (``None``: owner read/write only, the
    temp file's). ``chunks`` may be a generator: it is consumed while writing.
    """
    import tempfile  # only when writing: a warm scan never does

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    count = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                count += 1
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def move_aside(path: Path) -> Path | None:
    """Rename a corrupt ``path`` to ``NAME.corrupt-N`` (the first free N) and return it;
    None when a thousand earlier copies are already there."""
    for n in range(1, 1000):
        target = path.with_name(f"{path.name}.corrupt-{n}")
        if not target.exists():
            os.replace(path, target)
            return target
    return None
