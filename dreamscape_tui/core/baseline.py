"""``scan --since REF``: the state to compare the scan with, before the scan runs.

``REF`` is ``last`` or a git ref:

* ``last``: the latest recorded scan of the trend history (``trends.py``), read before
  this scan adds its own, so it is the previous scan. With no recorded scan it is a
  usage error (scan once first, or give a git ref).
* a git ref: resolved with ``git rev-parse`` before scanning (unknown ref, no git
  repository: usage errors, exit 2), then the metrics of the files *at that commit*
  are computed from git, always. The history is not used for a git ref: a recorded
  scan is of the work tree, which may have held uncommitted edits, so a scan
  recorded "at" a commit need not be that commit's metrics. The computation is exact
  and cheap: a file git reports unchanged between REF and the work tree
  (``git diff --name-only REF``) has, by definition, the metrics the scan just found;
  only the changed ones are read from git (``git cat-file --batch``, blobs only, no
  checkout), written into a temporary directory and analysed by the scanner itself
  (no cache; the process pool when there are many). So ``--since origin/main``
  works in a CI checkout that has never been scanned. Files the scan's ignore rules
  exclude now are excluded at REF too; a file deleted since REF counts if the rules
  would keep it.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from dreamscape_tui.core.config import ScannerConfig
from dreamscape_tui.core.errors import UsageError
from dreamscape_tui.core.gitrepo import git_env
from dreamscape_tui.core.ignore import RuleSet
from dreamscape_tui.core.scanner import ProjectScanner, ScanReport
from dreamscape_tui.core.since import SinceReport, compare
from dreamscape_tui.core.trendlog import TrendLog
from dreamscape_tui.core.trends import HISTORY_FILE, State, state_of
from dreamscape_tui.core.walk import SOURCE_SUFFIX

LAST = "last"
GIT_TIMEOUT_S = 120


@dataclass(frozen=True)
class Since:
    """What ``--since`` compares with, resolved before the scan."""

    ref: str
    root: Path
    config: ScannerConfig
    commit: str | None = None  # a git ref's commit
    before: State | None = None  # ``last``: the latest recorded state
    scan: int | None = None
    time: int | None = None

    def compare(self, report: ScanReport) -> SinceReport:
        """The scan's state against REF's."""
        after = state_of(report.files)
        unanalysable = [s.path for s in report.skipped]
        if self.commit is None:
            before = self.before or {}
            return SinceReport(self.ref, "history", compare(before, after, unanalysable),
                               scan=self.scan, time=self.time)
        before = state_at(self, report)
        return SinceReport(self.ref, "git", compare(before, after, unanalysable),
                           commit=self.commit)


def prepare(root: Path, ref: str | None, fail_on_worse: bool, config: ScannerConfig,
            state_dir: Path) -> Since | None:
    """Check ``--since`` / ``--fail-on-worse`` and resolve REF; None without ``--since``.

    Raises ``UsageError`` (exit 2, one line) for misuse, an unknown ref, a git ref
    outside a git repository or ``last`` without a recorded scan.
    """
    if ref is None:
        if fail_on_worse:
            raise UsageError("--fail-on-worse needs --since REF (a git ref, or last)")
        return None
    if not ref.strip():
        raise UsageError("--since needs a git ref or 'last'")
    if ref == LAST:
        history = TrendLog(state_dir / HISTORY_FILE, config.history_scans,
                           read_only=True).load()
        if history.latest is None:
            raise UsageError(f"--since last: no scan of {root} is recorded yet (scan once "
                             "first, or give a git ref)")
        return Since(ref, root, config, before=history.state(), scan=history.latest.id,
                     time=history.latest.time)
    if ref.startswith("-"):
        raise UsageError(f"--since {ref}: not a git ref")
    if _git(root, "rev-parse", "--show-prefix") is None:
        raise UsageError(f"--since {ref}: {root} is not in a git repository "
                         "(--since last compares with the previous scan)")
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if not commit:
        raise UsageError(f"--since {ref}: unknown git ref")
    return Since(ref, root, config, commit=commit.strip())


def state_at(since: Since, report: ScanReport) -> dict[str, tuple[int, float, int, float]]:
    """The state of the files at ``since.commit``, as this scan would have found it."""
    assert since.commit is not None
    root = since.root
    current = state_of(report.files)
    scanned = current.keys() | {s.path for s in report.skipped}
    at_ref = _tree(root, since.commit)  # path -> blob id, regular .py files only
    changed = set(_lines(root, "diff", "--name-only", "--relative", "--no-renames", "-z",
                         since.commit, "--", "."))
    before = {p: v for p, v in current.items() if p in at_ref and p not in changed}
    rules: RuleSet | None = None
    need: dict[str, str] = {}
    for path, blob in at_ref.items():
        if path in scanned:
            if path in changed:
                need[path] = blob
            continue
        if path not in changed or (root / path).exists():
            continue  # unchanged yet not scanned, or present and ignored: ignored then
        rules = rules or RuleSet(root, since.config.ignore, no_ignore=since.config.no_ignore)
        if not _ignored(rules, path):
            need[path] = blob  # deleted since REF, and the rules would keep it
    if need:
        before.update(_analyse_blobs(root, need, since.config))
    return before


def _ignored(rules: RuleSet, path: str) -> bool:
    parts = path.split("/")
    for depth in range(1, len(parts)):
        if rules.ignored("/".join(parts[:depth]), True):
            return True
    return rules.ignored(path, False)


def _analyse_blobs(root: Path, blobs: dict[str, str],
                   config: ScannerConfig) -> dict[str, tuple[int, float, int, float]]:
    """Write the blobs under their paths in a temporary directory and scan it."""
    with tempfile.TemporaryDirectory(prefix="dreamscape-since-") as tmp:
        base = Path(tmp)
        for path, data in _cat_blobs(root, blobs):
            target = base / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        scanner_config = replace(config, ignore=(), no_ignore=True, cache=False,
                                 churn_days=0)  # a temp copy: no history of its own
        return state_of(ProjectScanner(base, scanner_config).scan().files)


def _cat_blobs(root: Path, blobs: dict[str, str]) -> list[tuple[str, bytes]]:
    """Each blob's content, in one ``git cat-file --batch``."""
    paths = sorted(blobs)
    request = "".join(f"{blobs[p]}\n" for p in paths).encode("ascii")
    proc = _run(root, ["cat-file", "--batch"], request)
    out, pos, files = proc.stdout, 0, []
    for path in paths:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) != 3 or header[1] != b"blob":
            continue  # "<id> missing": nothing to compare with
        size = int(header[2])
        files.append((path, out[pos:pos + size]))
        pos += size + 1
    return files


def _tree(root: Path, commit: str) -> dict[str, str]:
    """The regular ``.py`` files under ``root`` at ``commit``: path -> blob id."""
    tree: dict[str, str] = {}
    # run in root, ls-tree lists root's subtree only, with root-relative paths
    for entry in _lines(root, "ls-tree", "-r", "-z", commit):
        meta, _, path = entry.partition("\t")
        mode, kind, blob = ([*meta.split(), "", "", ""])[:3]
        if kind == "blob" and mode in ("100644", "100755") and path.endswith(SOURCE_SUFFIX):
            tree[path] = blob
    return tree


def _lines(root: Path, *args: str) -> list[str]:
    out = _run(root, list(args)).stdout.decode("utf-8", "surrogateescape")
    return [line for line in out.split("\0") if line]


def _run(root: Path, args: list[str], stdin: bytes | None = None,
         ) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(["git", *args], cwd=root, input=stdin, capture_output=True,
                              timeout=GIT_TIMEOUT_S, env=git_env())
    except (OSError, subprocess.SubprocessError) as exc:
        raise UsageError(f"--since: git {args[0]} failed: {exc}") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"--since: git {args[0]} failed: "
                         f"{message[-1] if message else proc.returncode}")
    return proc


def _git(root: Path, *args: str) -> str | None:
    """One git command's stdout; None if it fails (or git is missing)."""
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, env=git_env())
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None
