"""Write a validated fix into the user's tree safely, and undo it.

A fix lands only if the file still holds the content the heal started from; the
original is saved under ``.dreamscape/backups/<heal id>/`` first; the new content is
written to a temp file in the same directory and renamed over the original, so the
file is never half-written. The journal entry is written before the file is touched,
which is what lets a killed process finish or roll forward an interrupted apply.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from dreamscape_tui.core.atomicfile import write_atomically
from dreamscape_tui.core.errors import UserError
from dreamscape_tui.core.healstore import STATE_DIR, HealStore
from dreamscape_tui.core.healtypes import HealId, HealItem, HealState, heal_label

BACKUPS = "backups"


class ApplyConflict(Exception):
    """The file changed since the heal started: the fix must not overwrite it."""


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_hash(path: Path) -> str:
    try:
        return content_hash(path.read_bytes())
    except FileNotFoundError:
        return ""


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` via temp file + rename, keeping its mode."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    write_atomically(path, [data], mode=mode)


def backup_path(root: Path, heal_id: HealId, rel: str) -> Path:
    return root / STATE_DIR / BACKUPS / heal_label(heal_id) / rel


def apply_fix(root: Path, heals: HealStore, item: HealItem, candidate: str,
              base_hash: str) -> tuple[HealItem, Path]:
    """Apply ``candidate`` to the item's file; returns (the APPLYING item, its backup).

    Raises ApplyConflict when the file no longer holds ``base_hash``.
    """
    rel = item.path
    target = root / rel
    original = target.read_bytes()
    if content_hash(original) != base_hash:
        raise ApplyConflict(f"{rel} changed since the heal started")
    new = candidate.encode("utf-8")
    backup = backup_path(root, item.id, rel)
    heals.record_apply(item.id, path=rel, backup=str(backup.relative_to(root)),
                       state="applying", before_hash=base_hash, after_hash=content_hash(new))
    item = heals.save(replace(item, state=HealState.APPLYING, applying=candidate))
    backup.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(backup, original)
    if file_hash(target) != base_hash:  # edited while we wrote the backup
        heals.record_apply(item.id, state="conflict")
        raise ApplyConflict(f"{rel} changed since the heal started")
    atomic_write(target, new)
    heals.record_apply(item.id, state="applied")
    return item, backup


def finish_interrupted_apply(root: Path, heals: HealStore, item: HealItem) -> HealState:
    """Roll an apply a killed process left behind forward; returns the new state.

    The file holds the fix: it was applied ("healed"). It holds the original: apply it
    again (nothing is applied twice: the hash says which). Anything else: the user
    changed the file, so the heal starts over ("queued").
    """
    entry = next((e for e in heals.applied_fixes() if e.heal_id == item.id), None)
    current = file_hash(root / item.path)
    if entry and current == entry.after_hash:
        heals.record_apply(item.id, state="applied")
        return HealState.HEALED
    if entry and current == entry.before_hash and item.applying is not None:
        apply_fix(root, heals, item, item.applying, current)
        return HealState.HEALED
    if entry:
        heals.record_apply(item.id, state="conflict")
    return HealState.QUEUED


def undo(root: Path, heals: HealStore, heal_id: HealId | None = None) -> HealItem:
    """Restore the backup of the latest (or the given) applied heal; the undone item."""
    applied = [e for e in heals.applied_fixes() if e.state == "applied"]
    if heal_id is not None:
        applied = [e for e in applied if e.heal_id == heal_id]
        if not applied:
            raise UserError(f"heal {heal_label(heal_id)}: no applied heal with that id "
                            "(see dreamscape heal --json for ids)")
    if not applied:
        raise UserError("nothing to undo: no heal has been applied here")
    entry = applied[-1]
    label = heal_label(entry.heal_id)
    target, backup = root / entry.path, root / entry.backup
    if not backup.is_file():
        raise UserError(f"{backup}: the backup is missing; cannot undo {label}")
    if file_hash(target) != entry.after_hash:
        raise UserError(f"{entry.path} changed since heal {label}; "
                        f"not overwriting it (the original is in {backup})")
    atomic_write(target, backup.read_bytes())
    heals.record_apply(entry.heal_id, state="undone")
    return heals.update(entry.heal_id, state=HealState.UNDONE)
