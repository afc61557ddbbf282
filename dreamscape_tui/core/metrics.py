"""Per-file radon metrics, computed once per file and identical to radon's own numbers.

Why not call radon's helpers: ``radon cc``, ``radon mi`` and ``radon raw`` together parse
each file three times and run radon's (slow, pure-Python) raw analysis twice. Here a
file is parsed once; the tree feeds ports of radon's two visitors (``visitors.py``:
complexity and Halstead, the same numbers in a third of the time) exactly as
``cc_visit``, ``h_visit`` and ``mi_visit`` would feed radon's; the raw metrics come from
``rawmetrics.raw_metrics`` (radon-identical, linear time) and are reused for the
maintainability index through radon's own ``mi_compute``.

Every value equals (``==``) what radon 6.0.1 returns for the same source. Any input that
cannot be analysed raises ``AnalysisError`` with a short reason and never anything else,
so a worker process can report it instead of crashing. Deliberately free of Textual and
Rich: this module is preloaded into the scanner's worker processes (``ANALYSIS_MODULES``).
Radon, ``tokenize`` and ``rawmetrics`` are imported on the first analysis, not with this
module: a scan whose files all come from the cache needs only ``FileMetrics``.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from dreamscape_tui.core.rawmetrics import RawMetrics

__all__ = [
    "ANALYSIS_MODULES",
    "AnalysisError",
    "FileMetrics",
    "FileOutcome",
    "FunctionMetric",
    "analyze_bytes",
    "analyze_data",
    "analyze_file",
    "analyze_files",
    "analyze_source",
    "content_hash",
    "read_file",
]

# What an analysis imports (the scanner preloads them into its worker processes).
ANALYSIS_MODULES = ("dreamscape_tui.core.metrics", "dreamscape_tui.core.rawmetrics",
                    "dreamscape_tui.core.visitors", "radon.complexity", "radon.metrics")

# SyntaxError messages that mean "nested too deep" rather than "not Python".
_NESTING_MESSAGES = ("too many nested parentheses", "too many levels of indentation",
                     "too complex", "too deeply nested")


class AnalysisError(Exception):
    """The file cannot be analysed; ``str(exc)`` is a short human reason.

    For example ``'syntax error: line 3: invalid syntax'`` or ``'binary file (NUL byte)'``.
    """


class FunctionMetric(NamedTuple):
    """One radon complexity block: a function, a method or a class.

    A named tuple rather than a dataclass: a warm scan builds one per cached block (some
    10,000 for Django) and a tuple is built several times faster.
    """

    name: str  # radon's ``fullname``: "func", "Class.method" or "Class"
    lineno: int
    cc: int
    rank: str  # radon.complexity.cc_rank(cc)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form, as stored in ``FileMetrics.to_dict()['functions']``."""
        return {"name": self.name, "lineno": self.lineno, "cc": self.cc, "rank": self.rank}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FunctionMetric:
        """Inverse of ``to_dict``."""
        return cls(str(d["name"]), int(d["lineno"]), int(d["cc"]), str(d["rank"]))


@dataclass(frozen=True, slots=True)
class FileMetrics:
    """All metrics of one file: radon's raw, cc, MI and Halstead volume.

    ``cc_*`` summarise the cc blocks (``0``, ``0.0`` and ``"A"`` without blocks):
    ``cc_max`` is the worst block, ``cc_avg`` the unrounded mean, ``cc_rank`` the rank of
    ``cc_max``. ``mi`` is ``radon.metrics.mi_visit(code, multi=True)``.
    """

    loc: int
    lloc: int
    sloc: int
    comments: int
    multi: int
    blank: int
    single_comments: int
    cc_max: int
    cc_avg: float
    cc_rank: str
    mi: float
    mi_rank: str
    halstead_volume: float
    functions: tuple[FunctionMetric, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (floats round-trip exactly through ``json``)."""
        return {
            "loc": self.loc,
            "lloc": self.lloc,
            "sloc": self.sloc,
            "comments": self.comments,
            "multi": self.multi,
            "blank": self.blank,
            "single_comments": self.single_comments,
            "cc_max": self.cc_max,
            "cc_avg": self.cc_avg,
            "cc_rank": self.cc_rank,
            "mi": self.mi,
            "mi_rank": self.mi_rank,
            "halstead_volume": self.halstead_volume,
            "functions": [f.to_dict() for f in self.functions],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FileMetrics:
        """Inverse of ``to_dict`` (used by the JSON scan cache).

        ``single_comments`` may be missing (radon's ``loc`` is the sum of ``sloc``,
        ``blank``, ``multi`` and ``single_comments``, so it is derived). A malformed
        dict raises ``KeyError``, ``TypeError`` or ``ValueError``.
        """
        loc, sloc, multi, blank = int(d["loc"]), int(d["sloc"]), int(d["multi"]), int(d["blank"])
        single = d.get("single_comments")
        return cls(
            loc=loc,
            lloc=int(d["lloc"]),
            sloc=sloc,
            comments=int(d["comments"]),
            multi=multi,
            blank=blank,
            single_comments=loc - sloc - blank - multi if single is None else int(single),
            cc_max=int(d["cc_max"]),
            cc_avg=float(d["cc_avg"]),
            cc_rank=str(d["cc_rank"]),
            mi=float(d["mi"]),
            mi_rank=str(d["mi_rank"]),
            halstead_volume=float(d["halstead_volume"]),
            functions=tuple(FunctionMetric.from_dict(f) for f in d["functions"]),
        )

    def to_row(self) -> list[Any]:
        """The compact JSON form the scan cache stores: every field in order, the
        functions as ``[name, lineno, cc, rank]`` lists (half the size of ``to_dict``'s
        and parsed twice as fast)."""
        return [self.loc, self.lloc, self.sloc, self.comments, self.multi, self.blank,
                self.single_comments, self.cc_max, self.cc_avg, self.cc_rank, self.mi,
                self.mi_rank, self.halstead_volume, [list(f) for f in self.functions]]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> FileMetrics:
        """Inverse of ``to_row``; a row of the wrong shape raises ``ValueError`` (or
        ``TypeError``). Scalars are converted; function rows are only length-checked,
        as the scan cache is written by the scanner alone and read on every warm scan."""
        if len(row) != _ROW_LENGTH:
            raise ValueError(f"a metrics row has {_ROW_LENGTH} items, not {len(row)}")
        new = tuple.__new__  # FunctionMetric(*f), without a Python call per function
        functions = tuple([new(FunctionMetric, f) for f in row[13]])
        if not set(map(len, functions)) <= {4}:
            raise ValueError("a function row has 4 items")
        return cls(int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]),
                   int(row[5]), int(row[6]), int(row[7]), float(row[8]), str(row[9]),
                   float(row[10]), str(row[11]), float(row[12]), functions)


_ROW_LENGTH = 14


# What analysing one file on disk gives: (root-relative path, status, size, mtime_ns,
# content hash, payload). Status "ok": payload is ``FileMetrics.to_row()``; "skip": a
# reason (``AnalysisError``, or unreadable with an empty hash); "same": the content hash
# equals the known one, nothing was analysed and payload is None.
FileOutcome = tuple[str, str, int, int, str, Any]


def content_hash(data: bytes) -> str:
    """The cache's content hash of a file."""
    from hashlib import blake2b

    return blake2b(data, digest_size=16).hexdigest()


def read_file(path: str) -> tuple[bytes, int, int]:
    """A file's bytes with the size and mtime of what was read; raises ``OSError``."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        return fh.read(), st.st_size, st.st_mtime_ns


def analyze_file(rel: str, path: str, known_hash: str = "") -> FileOutcome:
    """Read, hash and (unless its hash is ``known_hash``) analyse one file; never raises.

    Runs in the scanner's worker processes (``analyze_files``) or in the scanner itself.
    """
    try:
        data, size, mtime_ns = read_file(path)
    except OSError as exc:
        return (rel, "skip", 0, 0, "", f"unreadable: {exc.strerror or exc}")
    digest = content_hash(data)
    if digest == known_hash:
        return (rel, "same", size, mtime_ns, digest, None)
    return analyze_data(rel, data, size, mtime_ns, digest)


def analyze_data(rel: str, data: bytes, size: int, mtime_ns: int, digest: str) -> FileOutcome:
    """``analyze_file`` for bytes already read and hashed."""
    try:
        return (rel, "ok", size, mtime_ns, digest, analyze_bytes(data).to_row())
    except AnalysisError as exc:
        return (rel, "skip", size, mtime_ns, digest, str(exc))


def analyze_files(jobs: list[tuple[str, str, str]]) -> list[FileOutcome]:
    """A worker process's entry point: ``analyze_file`` for each (rel, path, known_hash)."""
    return [analyze_file(rel, path, known_hash) for rel, path, known_hash in jobs]


def analyze_bytes(data: bytes) -> FileMetrics:
    """Decode ``data`` the way Python decodes a source file, then ``analyze_source`` it.

    The encoding comes from a UTF-8 BOM or a PEP 263 coding cookie, else UTF-8.
    """
    if b"\x00" in data:
        raise AnalysisError("binary file (NUL byte)")
    import io
    import tokenize

    try:
        encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError as exc:
        message = str(exc.msg if exc.msg else exc)
        if message.startswith("unknown encoding"):
            raise AnalysisError(message) from None
        if "invalid or missing encoding declaration" not in message:
            raise AnalysisError(f"bad encoding declaration: {message}") from None
        encoding = "utf-8"  # undecodable first lines: let the decode below say where
    try:
        source = data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "utf-8" if encoding == "utf-8-sig" else encoding
        raise AnalysisError(f"cannot decode as {name}: {exc.reason} at byte {exc.start}") from None
    except LookupError:  # pragma: no cover - detect_encoding already looked it up
        raise AnalysisError(f"unknown encoding: {encoding}") from None
    return analyze_source(source)


def analyze_source(source: str) -> FileMetrics:
    """All metrics of one module's source text, identical to radon's; see the module doc."""
    if "\x00" in source:
        raise AnalysisError("binary file (NUL byte)")
    try:
        return _analyze(source)
    except AnalysisError:
        raise
    except (RecursionError, MemoryError):
        raise AnalysisError("too deeply nested") from None
    except Exception as exc:  # radon itself failed on valid code: report, never crash
        raise AnalysisError(f"radon failed: {type(exc).__name__}: {exc}"[:200]) from None


def _analyze(source: str) -> FileMetrics:
    """The work behind ``analyze_source``; may raise anything ``analyze_source`` converts."""
    from radon.complexity import cc_rank
    from radon.metrics import halstead_visitor_report, mi_rank

    from dreamscape_tui.core.rawmetrics import RawMetricsError, raw_metrics
    from dreamscape_tui.core.visitors import complexity, halstead

    tree = _parse(source)
    # cc_visit(code) == ComplexityVisitor.from_ast(ast.parse(code)).blocks (no_assert=False,
    # not sorted, no closures); mi_visit uses the same visitor's total_complexity. The
    # port in visitors.py gives both, as it gives HalsteadVisitor's counts:
    # h_visit(code).total == halstead_visitor_report(HalsteadVisitor.from_ast(tree)).
    blocks, total_complexity = complexity(tree)
    volume = float(halstead_visitor_report(halstead(tree)).volume)
    try:
        raw = raw_metrics(source)
    except RawMetricsError as exc:
        raise AnalysisError(f"radon cannot count lines: {exc}") from None
    mi = _mi(volume, int(total_complexity), raw)
    functions = tuple(
        FunctionMetric(str(b.fullname), int(b.lineno), int(b.complexity),
                       str(cc_rank(b.complexity)))
        for b in blocks
    )
    if functions:
        cc_max = max(f.cc for f in functions)
        # radon.complexity.average_complexity, summed in the same order from 0.0
        cc_avg = sum((f.cc for f in functions), 0.0) / len(functions)
    else:
        cc_max, cc_avg = 0, 0.0
    return FileMetrics(
        loc=raw.loc,
        lloc=raw.lloc,
        sloc=raw.sloc,
        comments=raw.comments,
        multi=raw.multi,
        blank=raw.blank,
        single_comments=raw.single_comments,
        cc_max=cc_max,
        cc_avg=cc_avg,
        cc_rank=str(cc_rank(cc_max)),
        mi=mi,
        mi_rank=str(mi_rank(mi)),
        halstead_volume=volume,
        functions=functions,
    )


def _mi(volume: float, complexity: int, raw: RawMetrics) -> float:
    """``mi_visit(code, multi=True)`` from already computed parts.

    Same arithmetic as ``radon.metrics.mi_parameters``: note that radon passes the
    *logical* line count as MI's "sloc" and comment+multi lines as a percentage of sloc.
    """
    from radon.metrics import mi_compute

    comment_lines = raw.comments + raw.multi
    comments = comment_lines / float(raw.sloc) * 100 if raw.sloc != 0 else 0
    return float(mi_compute(volume, complexity, raw.lloc, comments))


def _parse(source: str) -> ast.Module:
    """``ast.parse`` with its failures turned into short ``AnalysisError`` reasons."""
    try:
        return ast.parse(source)
    except SyntaxError as exc:  # includes IndentationError and TabError
        message = exc.msg or str(exc)
        if any(m in message for m in _NESTING_MESSAGES):
            raise AnalysisError(f"too deeply nested ({message})") from None
        kind = {TabError: "tab error", IndentationError: "indentation error"}.get(
            type(exc), "syntax error"
        )
        where = f"line {exc.lineno}: " if exc.lineno else ""
        raise AnalysisError(f"{kind}: {where}{message}"[:200]) from None
    except ValueError as exc:  # e.g. "source code string cannot contain null bytes"
        raise AnalysisError(f"cannot parse: {exc}"[:200]) from None
