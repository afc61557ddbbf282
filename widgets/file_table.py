"""The radon-ranked file list: riskiest first, filled as scan results stream in."""

from __future__ import annotations

from textual.widgets import DataTable

from dreamscape_tui.core.events import FileResult, SkippedFile

UNRANKED = "-"


def _rank_key(values: tuple[str, str]) -> tuple[bool, float, str]:
    score, path = values
    return (score == UNRANKED, -float(score) if score != UNRANKED else 0.0, path)


class FileTable(DataTable[str]):
    """Files ranked by risk score; skipped files listed last with their reason."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_columns("Score", "Rank", "cc", "MI", "Path")

    def add_result(self, result: FileResult | SkippedFile) -> None:
        """Append one streamed result; ``rank()`` orders the rows."""
        if isinstance(result, SkippedFile):
            self.add_row(UNRANKED, UNRANKED, UNRANKED, UNRANKED,
                         f"{result.path} ({result.reason})", key=result.path)
            return
        m = result.metrics
        self.add_row(f"{result.score:.3f}", m.cc_rank, str(m.cc_max), f"{m.mi:.1f}",
                     result.path, key=result.path)

    def rank(self) -> None:
        """Riskiest first, ties by path, skipped files last."""
        self.sort("Score", "Path", key=_rank_key)
