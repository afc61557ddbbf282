"""``scan --since``'s comparison: which files changed between two states, and which got
worse, for the delta table, the one-line verdict (``--fail-on-worse``) and the report's
``since`` JSON.

Apart from the trend history (``trends.py``) because it is needed only with
``--since``: a plain scan, the TUI and the history's writers never import it. What the
two states are (REF ``last`` or a git ref, and the metrics at that commit) is
``baseline.py``'s.

Worse (``compare``). A file present in both states got worse when its cc_max rose (by
any amount: complexity is an integer), its MI fell by more than ``MI_EPSILON`` (1.0)
or its score rose by more than ``SCORE_EPSILON`` (0.01, a hundredth of the 0..1 risk
scale; it moves with cc_max, MI and, on a log scale, size). A file analysable before
and unanalysable now (a syntax error, too large) got worse too ("unanalysable"). New
and removed files are listed but are never worse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dreamscape_tui.core.trends import METRICS, State, Values, values_delta

__all__ = [
    "MI_EPSILON",
    "SCORE_EPSILON",
    "FileDelta",
    "SinceReport",
    "compare",
    "worse_in",
]

MI_EPSILON = 1.0
SCORE_EPSILON = 0.01


def _as_dict(values: Values | None) -> dict[str, int | float] | None:
    return None if values is None else dict(zip(METRICS, values, strict=True))


def worse_in(before: Values, after: Values) -> list[str]:
    """The metrics in which ``after`` is worse than ``before`` (see the module docs)."""
    worse = []
    if after[0] > before[0]:
        worse.append("cc_max")
    if before[1] - after[1] > MI_EPSILON:
        worse.append("mi")
    if after[3] - before[3] > SCORE_EPSILON:
        worse.append("score")
    return worse


@dataclass(frozen=True, slots=True)
class FileDelta:
    """One file that differs between the two states."""

    path: str
    before: Values | None
    after: Values | None
    worse: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "unanalysable" if self.worse else "removed"
        return "changed"

    def to_json(self) -> dict[str, Any]:
        delta = (values_delta(self.before, self.after)
                 if self.before is not None and self.after is not None else None)
        return {"path": self.path, "status": self.status, "before": _as_dict(self.before),
                "after": _as_dict(self.after), "delta": delta, "worse": list(self.worse)}

    def describe(self) -> str:
        """``a.py (cc_max 4→9, MI 70.10→60.00)`` for the one-line verdict."""
        if self.before is None or self.after is None:
            return f"{self.path} ({self.status})"
        names = {"cc_max": (0, "cc_max", "d"), "mi": (1, "MI", ".2f"),
                 "score": (3, "score", ".4f")}
        parts = [f"{label} {self.before[i]:{fmt}}→{self.after[i]:{fmt}}"
                 for name in self.worse for i, label, fmt in [names[name]]]
        return f"{self.path} ({', '.join(parts)})"


def compare(before: State, after: State, unanalysable: Iterable[str] = ()) -> list[FileDelta]:
    """Every file whose values differ between two states, by path.

    ``unanalysable``: files the later scan found but could not analyse; one that was
    analysed before counts as worse.
    """
    broken = set(unanalysable)
    out = []
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        if old is not None and new is not None:
            worse = tuple(worse_in(old, new))
        else:
            worse = ("unanalysable",) if new is None and path in broken else ()
        out.append(FileDelta(path, old, new, worse))
    return out


@dataclass(frozen=True)
class SinceReport:
    """``scan --since REF``: what changed against REF and which files got worse.

    ``source`` is "history" (REF ``last``: the latest recorded scan, ``scan`` its
    number) or "git" (the files at ``commit``, analysed now).
    """

    ref: str
    source: str
    files: list[FileDelta]
    commit: str | None = None
    scan: int | None = None
    time: int | None = None

    @property
    def worse(self) -> list[FileDelta]:
        return [f for f in self.files if f.worse]

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "source": self.source, "commit": self.commit,
                "scan": self.scan, "time": self.time,
                "files": [f.to_json() for f in self.files],
                "worse": [f.path for f in self.worse]}

    def verdict(self) -> str:
        """One line naming the files that got worse (``--fail-on-worse``)."""
        worse = self.worse
        shown = "; ".join(f.describe() for f in worse[:5])
        more = f"; and {len(worse) - 5} more" if len(worse) > 5 else ""
        plural = "s" if len(worse) != 1 else ""
        return f"{len(worse)} file{plural} got worse since {self.ref}: {shown}{more}"

    def table(self) -> str:
        """The short delta table ``scan --since`` prints for people."""
        against = (f"commit {self.commit[:12]}" if self.commit
                   else f"scan {self.scan}" if self.scan is not None else self.ref)
        worse = len(self.worse)
        lines = [f"\nsince {self.ref} ({against}): {len(self.files)} files changed, "
                 f"{worse} worse"]
        if self.files:
            lines.append(f"{'Δcc_max':>8} {'ΔMI':>8} {'Δsloc':>7} {'Δscore':>8}  path")
        for f in self.files:
            if f.before is None or f.after is None:
                lines.append(f"{f.status:>8} {'':>8} {'':>7} {'':>8}  {f.path}"
                             + ("  worse: unanalysable" if f.worse else ""))
                continue
            d = values_delta(f.before, f.after)
            mark = f"  worse: {', '.join(f.worse)}" if f.worse else ""
            lines.append(f"{d['cc_max']:>+8d} {d['mi']:>+8.2f} {d['sloc']:>+7d} "
                         f"{d['score']:>+8.4f}  {f.path}{mark}")
        return "\n".join(lines) + "\n"
