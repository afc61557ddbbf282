"""Churn: how often and how much each file changed in the project's recent git history.

The window is ``[scanner] churn_days`` whole days (UTC): a commit counts when its
committer date is at or after midnight UTC ``churn_days`` days before today. Per file:
``commits`` (commits that changed it) and ``lines`` (lines added plus deleted by them).
Merges count nothing themselves (their commits count); binary changes count a commit and
no lines.

One ``git log -M --numstat -z --max-age=CUTOFF HEAD -- '*.py'`` per pass, never one call
per file. Renames are followed through ``-M``'s ``old -> new`` pairs (``--follow`` works
on one file only): the history is folded oldest commit first, and a rename moves
everything counted for the old name to the new one, so the churn from before a rename
is counted for the file's current name. (Scanning a directory below the work tree's
top, git looks below it only: a file renamed into it from outside counts from the
rename on.)

Cost, since a warm scan must not pay it:

* the pass is keyed by HEAD's commit, the window and the day, and kept in the scan
  cache (``CHURN_TABLE`` in ``scan.json``). HEAD is read from ``.git`` directly
  (``gitrepo.read_head``; ``git rev-parse`` only where the files do not tell), so a
  warm scan with the same HEAD on the same day starts no process at all;
* the cache holds the counts per file *per day* (only days inside the window), keyed
  by the file's name at the cached HEAD. A new day drops the days that left the
  window: no git call. A HEAD that moved forward (the cached HEAD is its ancestor) reads
  only the new commits, ``git log OLD..HEAD``, and folds them in (renames included);
  that equals a full recompute. Anything else (history rewritten, another window, a
  cache that does not parse) is a full recompute;
* a pass that needs git starts it before the scanner walks the tree, writing to a
  temporary file, and reads it when the first result is to be sent: git runs while the
  tree is walked and, in a cold scan, while the workers analyse the first files (no
  thread, so the scanner can still fork its workers).

Outside a git work tree, with ``churn_days = 0``, in an empty repository or a shallow
clone (whose history is cut short: its first commit would count every line), churn is
0 for every file. Where git is missing or fails, churn is 0 too and the pass says why
in one warning. A detached HEAD is read like any other commit. Where the repository is
and how git runs: ``gitrepo.py``; the ``git log`` itself, its parsing and the per-day
counts: ``churnlog.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from dreamscape_tui.core.churnlog import DAY_S as DAY_S
from dreamscape_tui.core.churnlog import (
    Buckets,
    decode_buckets,
    encode_buckets,
    prune,
    saved_totals,
    totals,
)
from dreamscape_tui.core.churnlog import Churn as Churn
from dreamscape_tui.core.churnlog import fold as fold
from dreamscape_tui.core.churnlog import log_args as log_args
from dreamscape_tui.core.churnlog import parse_log as parse_log
from dreamscape_tui.core.gitrepo import HeadUnknown, find_repo, git_args, git_env, is_sha, read_head
from dreamscape_tui.core.store import Store, StoreError

if TYPE_CHECKING:  # imported where git runs: a warm scan imports none of them
    import subprocess

CHURN_TABLE = "scan_churn"  # one document: the pass's key and its per-day counts
CHURN_VERSION = 1
GIT_TIMEOUT_S = 120.0

class ChurnTable:
    """Every churned file of a pass; ``max_commits`` is the most commits of any scanned
    file (what ``hotspot`` normalises by)."""

    __slots__ = ("files", "max_commits")

    def __init__(self, files: Mapping[str, Churn] | None = None, max_commits: int = 0) -> None:
        self.files: Mapping[str, Churn] = files if files is not None else {}
        self.max_commits = max_commits

    def hotspot(self, cc_max: int, commits: int) -> float:
        """Complexity x change frequency (CodeScene's hotspot): the worst function's
        cyclomatic complexity times the file's commits relative to the most changed
        scanned file's. A file changed as often as the busiest file counts its whole
        ``cc_max``; a file not changed in the window scores 0."""
        if commits <= 0 or self.max_commits <= 0:
            return 0.0
        return round(cc_max * commits / self.max_commits, 2)


NO_CHURN = ChurnTable()


def current_day() -> int:
    """Today, as days since the epoch (UTC): the window moves once a day."""
    return int(time.time() // DAY_S)


# -- one pass ----------------------------------------------------------------------------


class _Job:
    """A ``git log`` running while the scanner walks; its output goes to a temp file.
    ``since``: the cached HEAD it continues from (None: a full recompute)."""

    __slots__ = ("err", "out", "proc", "since")

    def __init__(self, proc: subprocess.Popen[bytes], out: IO[bytes], err: IO[bytes],
                 since: str | None) -> None:
        self.proc, self.out, self.err, self.since = proc, out, err, since


class ChurnPass:
    """One scan's churn: created before the walk (git starts then, if it must), and
    ``finish()``-ed when the first result is sent. ``warnings`` says why churn is 0 where
    something went wrong (one line at most); ``changed`` says the cache was updated
    (the scanner then writes its store); ``git_calls`` counts the processes started.
    ``buckets`` holds the per-day counts wherever they changed (a warm pass with the
    cache's HEAD and day reads only the totals)."""

    def __init__(self, root: Path, days: int, store: Store | None, *,
                 today: int | None = None) -> None:
        self.root = root
        self.days = days
        self.store = store
        self.today = current_day() if today is None else today
        self.first_day = self.today - days
        self.warnings: list[str] = []
        self.changed = False
        self.git_calls = 0
        self.head: str | None = None
        self.buckets: Buckets = {}
        self._job: _Job | None = None
        self._table: ChurnTable | None = None
        self._totals: dict[str, Churn] | None = None  # read whole from the cache
        if days > 0:
            self._start()

    # where the pass stands before the walk
    def _start(self) -> None:
        repo = find_repo(self.root)
        if repo is None:
            return  # not a git work tree: nothing to say
        if (repo.common / "shallow").exists():
            self.warnings.append("churn: a shallow clone's history is incomplete; "
                                 "churn is 0 (git fetch --unshallow to count it)")
            return
        try:
            head = read_head(repo)
        except HeadUnknown:
            head = self._rev_parse()
        if head is None:
            return  # an empty repository (or git failed: already said)
        self.head = head
        cached = self._load()
        if cached is not None and cached["days"] == self.days and cached["today"] <= self.today:
            if cached["head"] == head and cached["today"] == self.today:
                self._totals = saved_totals(cached["files"])  # the warm scan: no decoding
                if self._totals is not None:
                    return
            buckets = decode_buckets(cached["files"])
            if buckets is not None:
                if cached["head"] == head:  # no git call: at most a new day
                    self.buckets = buckets
                    if cached["today"] != self.today:
                        prune(self.buckets, self.first_day)
                        self._save()
                    return
                if self._is_ancestor(cached["head"], head):
                    self.buckets = buckets
                    self._spawn(since=cached["head"])
                    return
        self._spawn(since=None)

    def _load(self) -> dict[str, Any] | None:
        if self.store is None:
            return None
        try:
            with self.store.tables() as db:
                docs = db.table(CHURN_TABLE).all()
        except StoreError:
            return None
        if len(docs) != 1:
            return None
        doc = dict(docs[0])
        if (doc.get("version") != CHURN_VERSION or not isinstance(doc.get("head"), str)
                or type(doc.get("days")) is not int or type(doc.get("today")) is not int
                or str(doc.get("root")) != str(self.root)):
            return None
        return doc

    def _save(self) -> None:
        if self.store is None or self.head is None:
            return
        doc = {"version": CHURN_VERSION, "root": str(self.root), "head": self.head,
               "days": self.days, "today": self.today, "files": encode_buckets(self.buckets)}
        try:
            with self.store.tables() as db:
                table = db.table(CHURN_TABLE)
                table.truncate()
                table.insert(doc)
        except StoreError:
            return  # closed meanwhile (the app is quitting): the next scan redoes it
        self.changed = True

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[bytes] | None:
        """A short git call; None (with a warning) when git cannot be run."""
        import shutil
        import subprocess

        if shutil.which("git") is None:
            self._warn("git is not installed")
            return None
        self.git_calls += 1
        try:
            return subprocess.run(args, capture_output=True, env=git_env(),
                                  timeout=GIT_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self._warn(f"git failed: {exc}")
            return None

    def _rev_parse(self) -> str | None:
        proc = self._run([*git_args(self.root), "rev-parse", "--verify", "-q", "HEAD"])
        if proc is None:
            return None
        sha = proc.stdout.decode("ascii", "replace").strip()
        return sha if proc.returncode == 0 and is_sha(sha) else None

    def _is_ancestor(self, old: str, head: str) -> bool:
        if not is_sha(old):
            return False
        proc = self._run([*git_args(self.root), "merge-base", "--is-ancestor", old, head])
        return proc is not None and proc.returncode == 0

    def _spawn(self, since: str | None) -> None:
        import shutil
        import subprocess
        import tempfile

        if shutil.which("git") is None:
            self._warn("git is not installed")
            return
        # closed by _collect, once git is done (it writes them while the tree is walked)
        out = tempfile.TemporaryFile(prefix="dreamscape-churn-")  # noqa: SIM115
        err = tempfile.TemporaryFile(prefix="dreamscape-churn-")  # noqa: SIM115
        self.git_calls += 1
        try:
            proc = subprocess.Popen(log_args(self.root, self.first_day * DAY_S, since),
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    env=git_env())
        except OSError as exc:
            out.close()
            err.close()
            self._warn(f"git failed: {exc}")
            return
        self._job = _Job(proc, out, err, since)

    def _warn(self, why: str) -> None:
        if not self.warnings:
            self.warnings.append(f"churn: {why}; churn is 0")

    # the result, before the first file is sent
    def finish(self, paths: Iterable[str] = (),
               cancel: threading.Event | None = None) -> ChurnTable:
        """Wait for git (if it runs), fold its commits in, save, and return the table;
        ``max_commits`` is taken over ``paths`` (the scanned files). Later calls return
        the same table at once."""
        if self._table is not None:
            return self._table
        job, self._job = self._job, None
        if job is not None:
            self._collect(job, cancel)
        files = self._totals if self._totals is not None else totals(self.buckets)
        if not files:
            self._table = NO_CHURN
            return NO_CHURN
        most = 0
        for path in paths:
            change = files.get(path)
            if change is not None and change.commits > most:
                most = change.commits
        self._table = ChurnTable(files, most)
        return self._table

    def _collect(self, job: _Job, cancel: threading.Event | None) -> None:
        import subprocess

        deadline = time.monotonic() + GIT_TIMEOUT_S
        try:
            while True:
                try:
                    job.proc.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    stop = cancel is not None and cancel.is_set()
                    if stop or time.monotonic() > deadline:
                        job.proc.kill()
                        job.proc.wait()
                        if not stop:
                            self._warn("git log took too long")
                        self.buckets = {}
                        return
            if job.proc.returncode != 0:
                job.err.seek(0)
                lines = job.err.read().decode("utf-8", "replace").strip().splitlines()
                self._warn(f"git log failed: {lines[-1] if lines else job.proc.returncode}")
                self.buckets = {}
                return
            job.out.seek(0)
            commits = parse_log(job.out.read())
        finally:
            job.out.close()
            job.err.close()
        if job.since is None:
            self.buckets = {}
        else:
            prune(self.buckets, self.first_day)
        fold(self.buckets, commits)
        self._save()
