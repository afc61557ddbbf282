"""The project's git repository: where its git data is, HEAD's commit, and how git runs.

Every git process dreamscape starts (the churn pass, the trend history's HEAD, ``scan
--since``'s baseline) and every HEAD read goes through here, so they all agree on which
repository is the project's and run git the same way.

HEAD is read from ``.git`` directly (the ``HEAD`` file, then the loose ref or
``packed-refs``; a worktree's or submodule's ``gitdir:`` file and ``commondir`` are
followed), so a warm scan with the same HEAD starts no process at all; git runs only
where the files do not tell (``HeadUnknown``: the reftable format, odd refs). A
detached HEAD is read like any other commit.

Plain classes, not dataclasses, and no ``subprocess`` at import time: every scan
imports this module (through ``churn.py``), and a warm scan starts no process.
"""

from __future__ import annotations

import os
from pathlib import Path

_HEX = frozenset("0123456789abcdef")
# Variables that would point git at another repository than the project's.
_GIT_LOCATION_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE",
                     "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
                     "GIT_NAMESPACE", "GIT_PREFIX")


def is_sha(text: str) -> bool:
    """A full SHA-1 or SHA-256 object name."""
    return len(text) in (40, 64) and _HEX.issuperset(text)


class Repo:
    """Where a work tree's git data is: ``gitdir`` holds HEAD, ``common`` the refs."""

    __slots__ = ("common", "gitdir", "top")

    def __init__(self, top: Path, gitdir: Path, common: Path) -> None:
        self.top, self.gitdir, self.common = top, gitdir, common


class HeadUnknown(Exception):
    """The files do not say what HEAD is: ask git."""


def find_repo(root: Path) -> Repo | None:
    """The git work tree ``root`` is in (at its top or below), or None."""
    for directory in (root, *root.parents):
        dotgit = directory / ".git"
        if dotgit.is_dir():
            gitdir = dotgit
        elif dotgit.is_file():  # a worktree or a submodule: "gitdir: PATH"
            try:
                text = dotgit.read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                return None
            if not text.startswith("gitdir:"):
                return None
            gitdir = directory / text[len("gitdir:"):].strip()
        else:
            continue
        common = gitdir
        try:
            shared = (gitdir / "commondir").read_text(encoding="utf-8").strip()
        except OSError:
            shared = ""
        if shared:
            common = gitdir / shared
        return Repo(directory, gitdir, common)
    return None


def _packed_ref(common: Path, ref: str) -> str | None:
    try:
        text = (common / "packed-refs").read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise HeadUnknown from exc
    for line in text.splitlines():
        if line.endswith(" " + ref) and not line.startswith(("#", "^")):
            return line.split(" ", 1)[0]
    return None


def read_head(repo: Repo) -> str | None:
    """HEAD's commit from the files under ``.git``; None for an unborn branch (an empty
    repository). Raises ``HeadUnknown`` when the files cannot tell (reftable, odd refs)."""
    if (repo.common / "reftable").exists():
        raise HeadUnknown
    try:
        text = (repo.gitdir / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise HeadUnknown from exc
    for _ in range(5):  # a symbolic ref may point at another (rare)
        if not text.startswith("ref:"):
            if is_sha(text):
                return text
            raise HeadUnknown
        ref = text[4:].strip()
        for base in (repo.gitdir, repo.common):  # per-worktree refs first
            try:
                text = (base / ref).read_text(encoding="utf-8").strip()
                break
            except FileNotFoundError:
                continue
            except (OSError, UnicodeDecodeError) as exc:
                raise HeadUnknown from exc
        else:
            packed = _packed_ref(repo.common, ref)
            if packed is None:
                return None  # no such branch yet: nothing committed
            text = packed
    raise HeadUnknown


def git_env() -> dict[str, str]:
    """The environment of every git process dreamscape starts (churn, trends, baselines):
    the project's repository whatever GIT_DIR & co. say (a git hook sets them), no
    prompts, no optional locks (a scan must not block the user's git), plain messages."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_ENV}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["LC_ALL"] = "C"
    return env


def git_args(root: Path) -> list[str]:
    """``git`` run in ``root``, with output that does not depend on the user's config
    (no signatures in logs, paths unquoted)."""
    return ["git", "-C", str(root), "-c", "log.showSignature=false", "-c", "core.quotePath=false"]


def git_head(root: Path) -> str | None:
    """The commit HEAD names in ``root``'s git repository; None without one (or git).

    Read from the files under ``.git`` like the churn pass does; git runs only when
    they cannot tell (a reftable repository, odd refs).
    """
    import subprocess

    repo = find_repo(root)
    if repo is None:
        return None
    try:
        return read_head(repo)
    except HeadUnknown:
        pass
    try:
        proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], cwd=root,
                              capture_output=True, text=True, timeout=10,
                              env=git_env())
    except (OSError, subprocess.SubprocessError):
        return None
    head = proc.stdout.strip()
    return head if proc.returncode == 0 and head else None
