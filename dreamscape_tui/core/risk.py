"""The risk score that ranks files, and a scanned file's history folded into it.

Kept apart from the scanner: the score is policy (what "risky" means), the scanner is
mechanism (walk, cache, analyse); trends record the static part of this score, and the
tests pin the formula.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from dreamscape_tui.core.churn import Churn, ChurnTable
from dreamscape_tui.core.events import FileResult
from dreamscape_tui.core.metrics import FileMetrics


def risk_score(metrics: FileMetrics, churn: Churn | None = None, failures: int = 0) -> float:
    """A 0..1 risk score: how likely the file is to break and how hard it is to fix.

    The code itself makes the static part: half of it is the worst function's
    cyclomatic complexity (cc 30 or more scores full), 35 % the maintainability index
    read as a defect (MI 0 scores full, MI 100 nothing), 15 % size (logical lines on a
    log scale, 1,000 scoring full). History raises it: churn (the file's commits and
    changed lines in the last ``[scanner] churn_days`` of git history, ``core/churn.py``)
    closes up to 40 % of the gap between the static part and 1, failure history (the
    heal items the file had: it failed before) up to 30 %::

        static = 0.5 * min(cc_max / 30, 1) + 0.35 * clamp((100 - mi) / 100, 0, 1)
                 + 0.15 * min(log10(1 + lloc) / 3, 1)
        change = (min(log2(1 + commits) / 5, 1) + min(lines / (2 * max(loc, 1)), 1)) / 2
        failed = min(failures / 3, 1)
        score  = 1 - (1 - static) * (1 - 0.4 * change) * (1 - 0.3 * failed)

    (31 commits in the window, or changed lines twice the file's length, are full churn;
    3 heals a full failure history.) Without churn (outside git) and failures the score
    is the static part, exactly. Files are ranked by it, riskiest first; ties by path.
    """
    complexity = min(metrics.cc_max / 30.0, 1.0)
    maintainability = min(max((100.0 - metrics.mi) / 100.0, 0.0), 1.0)
    size = min(math.log10(1 + metrics.lloc) / 3.0, 1.0)
    static = 0.5 * complexity + 0.35 * maintainability + 0.15 * size
    commits = churn.commits if churn is not None else 0
    if commits <= 0 and failures <= 0:
        return round(static, 4)
    change = 0.0
    if churn is not None and commits > 0:
        frequency = min(math.log2(1 + commits) / 5.0, 1.0)
        volume = min(churn.lines / (2.0 * max(metrics.loc, 1)), 1.0)
        change = (frequency + volume) / 2.0
    failed = min(max(failures, 0) / 3.0, 1.0)
    return round(1.0 - (1.0 - static) * (1.0 - 0.4 * change) * (1.0 - 0.3 * failed), 4)


def with_history(result: FileResult, churn: ChurnTable,
                  failures: Mapping[str, int]) -> FileResult:
    """The result scored with its churn and failure history, and its hotspot."""
    change = churn.files.get(result.path)
    failed = failures.get(result.path, 0)
    if change is None and not failed:
        return result
    metrics = result.metrics
    commits, lines = (change.commits, change.lines) if change is not None else (0, 0)
    return FileResult(result.path, metrics, risk_score(metrics, change, failed), result.cached,
                      commits, lines, churn.hotspot(metrics.cc_max, commits))
