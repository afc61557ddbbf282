"""What one scan found, ranked riskiest first, and its ``scan --json`` form."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dreamscape_tui.core.events import (
    EngineLog,
    Event,
    FileResult,
    FileScanned,
    ScanFinished,
    SkippedFile,
)


@dataclass
class ScanReport:
    """Everything one scan found, ranked riskiest first."""

    root: Path
    files: list[FileResult] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    stats: ScanFinished | None = None
    warnings: list[str] = field(default_factory=list)  # EngineLog lines of the scan

    def add(self, event: Event) -> None:
        """Fold one streamed event in; the lists are ranked once the scan finishes."""
        if isinstance(event, FileScanned):
            if isinstance(event.result, FileResult):
                self.files.append(event.result)
            else:
                self.skipped.append(event.result)
        elif isinstance(event, EngineLog):
            self.warnings.append(event.text)
        elif isinstance(event, ScanFinished):
            self.stats = event
            self.files = rank(self.files)
            self.skipped.sort(key=lambda s: s.path)

    def to_json(self) -> dict[str, Any]:
        """The ``scan --json`` object of docs/architecture.md#json-outputs."""
        stats = self.stats
        return {
            "root": str(self.root),
            "files": [
                {"path": f.path, **f.metrics.to_dict(), "score": f.score,
                 "churn": {"commits": f.commits, "lines": f.churn_lines},
                 "hotspot": f.hotspot} for f in self.files
            ],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "stats": {
                "files": stats.files if stats else 0,
                "analyzed": stats.analyzed if stats else 0,
                "cached": stats.cached if stats else 0,
                "skipped": stats.skipped if stats else 0,
                "seconds": round(stats.seconds, 3) if stats else 0.0,
            },
        }


def rank(files: list[FileResult]) -> list[FileResult]:
    """Riskiest first; ties by path so the order is stable."""
    return sorted(files, key=lambda f: (-f.score, f.path))
