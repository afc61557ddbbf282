"""Events the engine emits to its callers.

The engine never knows who listens: the CLI prints them, the Textual app wraps each
one in a message with ``post_message``. Events are frozen dataclasses so they can
cross threads safely, and they carry plain data, never live engine objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dreamscape_tui.core.metrics import FileMetrics

if TYPE_CHECKING:  # annotations only: `scan` never imports the heal loop's modules
    from dreamscape_tui.core.budget import RunSpend, Spend
    from dreamscape_tui.core.healtypes import HealId, HealItem, HealState
    from dreamscape_tui.core.trends import TrendHistory


@dataclass(frozen=True, slots=True)
class FileResult:
    """One analysed file: its metrics and risk score; its git churn in the window
    (``commits``, ``churn_lines`` added + deleted) and ``hotspot`` (``core/churn.py``),
    0 outside git."""

    path: str  # root-relative, '/'-separated
    metrics: FileMetrics
    score: float
    cached: bool
    commits: int = 0
    churn_lines: int = 0
    hotspot: float = 0.0


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A candidate file that could not be analysed, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class ScanStarted:
    """The walk is done: ``total`` candidate files, ``cached`` of them cache hits."""

    root: str
    total: int
    cached: int


@dataclass(frozen=True, slots=True)
class FileScanned:
    """One file's result, as soon as it is known (cache hits first)."""

    result: FileResult | SkippedFile
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class ScanFinished:
    """The scan is complete (or was cancelled: ``cancelled``)."""

    files: int
    analyzed: int
    cached: int
    skipped: int
    seconds: float
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class SessionState:
    """One browser session of the pool changed state (the live health panel draws these).

    ``state`` is one of "starting", "healthy", "busy", "logged_out", "unreachable",
    "error", "recycling", "stopped"; ``driver`` is "local" or "remote".
    """

    id: str
    state: str
    driver: str
    latency_ms: float | None
    prompts: int
    detail: str
    last_error: str

    def to_json(self) -> dict[str, object]:
        """The ``sessions --json`` entry (docs/architecture.md#json-outputs): transient
        states folded into the four public ones (busy/recycling count as healthy;
        starting/stopped as error)."""
        public = {"busy": "healthy", "recycling": "healthy", "starting": "error",
                  "stopped": "error"}.get(self.state, self.state)
        detail = self.detail or (self.state if public != self.state else "")
        return {"id": self.id, "state": public, "driver": self.driver,
                "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
                "prompts": self.prompts, "detail": detail}


@dataclass(frozen=True, slots=True)
class HealChanged:
    """A heal item changed: the whole item, attempts included (the UI's read model is
    built from these alone, never from the store)."""

    item: HealItem

    @property
    def id(self) -> HealId:
        return self.item.id

    @property
    def path(self) -> str:
        return self.item.path

    @property
    def state(self) -> HealState:
        return self.item.state


@dataclass(frozen=True, slots=True)
class ChecksFinished:
    """The checks ran: ``failures`` failing files. ``errors`` names each check that could
    not run (one line each), so nobody reads "no failing files" for checks never run."""

    failures: int
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EngineLog:
    """One line for the activity log: what the engine is doing, for people."""

    text: str
    level: str = "info"  # info | warning | error


@dataclass(frozen=True, slots=True)
class HealSpend:
    """What the running heal has spent against its budget, after each attempt: the
    run's attempts, wall time, tokens and estimated cost, and each model's; ``limits``
    is ``[budget]`` (0 = none). ``over`` says why the rest of the run escalates ("" =
    within budget); ``exhausted`` names the models whose own budget is spent, and why."""

    spent: RunSpend
    limits: Spend
    over: str = ""
    exhausted: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TrendsUpdated:
    """After a scan: the recorded scans of the trend history (``core/trends.py``), an
    immutable window the UI asks one file's sparkline data of."""

    history: TrendHistory


Event = (ScanStarted | FileScanned | ScanFinished | ChecksFinished | SessionState | HealChanged
         | EngineLog | HealSpend | TrendsUpdated)
EventSink = Callable[[Event], None]
