"""The file tree's model: folders and files, sorted and filtered into the rows on screen.

Kept apart from the widget, and free of Textual, because this is the part whose cost
grows with the project: turning 10,000 scanned files into the visible rows. It is plain
Python that the widget calls at most a few times a second while a scan streams in, and
that unit tests and the benchmark can drive directly. The widget only renders the rows
in view.

The tree is risk-ranked, not alphabetical: under the score, hotspot, cc and MI orders,
folders and files are mixed and a folder ranks by its riskiest file, so the top of the
tree is always where the risk is. The name order is the conventional folders-first
listing. The hotspot order (complexity x change frequency, ``core/churn.py``) only means
something where files have git churn (``has_churn``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dreamscape_tui.core.events import FileResult, SkippedFile

SORTS = ("score", "hotspot", "cc", "mi", "name")
SORT_LABELS = {"score": "risk score", "hotspot": "hotspot", "cc": "complexity",
               "mi": "maintainability", "name": "name"}
RANKS = "ABCDEF"
# Most urgent first: a folder shows the most urgent marker among its files.
URGENCY = {"review": 4, "failing": 3, "healing": 2, "healed": 1, "": 0}


@dataclass(slots=True, eq=False)
class FileEntry:
    """One scanned file: its metrics (None when it could not be analysed), marker, and
    git churn: ``commits`` in the churn window and its ``hotspot``."""

    path: str
    name: str
    score: float
    rank: str
    cc: int | None
    mi: float | None
    skipped: str = ""  # the reason it could not be analysed
    status: str = ""  # "", failing, healing, healed, review (see widgets/heal_style.py)
    lower: str = ""  # the path in lower case, for filtering
    commits: int = 0
    hotspot: float = 0.0

    @classmethod
    def from_result(cls, result: FileResult | SkippedFile) -> FileEntry:
        name = result.path.rsplit("/", 1)[-1]
        lower = result.path.lower()
        if isinstance(result, SkippedFile):
            return cls(result.path, name, 0.0, "-", None, None, result.reason, "", lower)
        m = result.metrics
        return cls(result.path, name, result.score, m.cc_rank, m.cc_max, m.mi, "", "", lower,
                   result.commits, result.hotspot)


@dataclass(slots=True, eq=False)
class FolderEntry:
    """A folder; its metrics are aggregates of every file below it (see ``aggregate``).

    ``ordered`` caches the children sorted per sort order, so expanding, collapsing and
    switching back to an earlier order cost a walk, not a sort; adding a file below a
    folder drops the caches on its path.
    """

    path: str
    name: str
    folders: dict[str, FolderEntry] = field(default_factory=dict)
    files: dict[str, FileEntry] = field(default_factory=dict)
    expanded: bool = True
    count: int = 0
    score: float = 0.0
    rank: str = "A"
    cc: int | None = None
    mi: float | None = None
    status: str = ""
    skipped: str = ""
    ordered: dict[str, list[FileEntry | FolderEntry]] = field(default_factory=dict)
    commits: int = 0  # the most of any file below
    hotspot: float = 0.0  # the hottest file's


Entry = FileEntry | FolderEntry
Row = tuple[int, Entry]  # (depth, entry): one visible line of the tree


def _score_key(entry: Entry) -> tuple[float, str]:
    # A file radon cannot read (usually a syntax error) is broken: rank it first.
    score = 2.0 if entry.skipped else entry.score
    return (-score, entry.name)


def _cc_key(entry: Entry) -> tuple[bool, int, str]:
    return (entry.cc is None, -(entry.cc or 0), entry.name)


def _mi_key(entry: Entry) -> tuple[bool, float, str]:
    return (entry.mi is None, entry.mi if entry.mi is not None else 0.0, entry.name)


def _name_key(entry: Entry) -> tuple[bool, str]:
    return (isinstance(entry, FileEntry), entry.name.lower())


def _hotspot_key(entry: Entry) -> tuple[float, float, str]:
    score = 2.0 if entry.skipped else entry.score
    return (-entry.hotspot, -score, entry.name)


SORT_KEYS = {"score": _score_key, "hotspot": _hotspot_key, "cc": _cc_key, "mi": _mi_key,
             "name": _name_key}


class FileTreeModel:
    """Every scanned file, by folder; ``rows()`` is what the widget shows."""

    def __init__(self) -> None:
        self.root = FolderEntry("", "")
        self.files: dict[str, FileEntry] = {}
        self._stale = False  # aggregates need recomputing

    def clear(self) -> None:
        self.root = FolderEntry("", "")
        self.files = {}
        self._stale = False

    def folder(self, path: str) -> FolderEntry | None:
        """The folder at ``path`` ("" is the project root), or None."""
        node: FolderEntry | None = self.root
        for part in path.split("/") if path else ():
            node = node.folders.get(part) if node else None
        return node

    def add(self, result: FileResult | SkippedFile) -> FileEntry:
        """Add (or replace) one file, keeping its marker if it had one."""
        entry = FileEntry.from_result(result)
        old = self.files.get(entry.path)
        if old is not None:
            entry.status = old.status
        parts = entry.path.split("/")
        node = self.root
        node.ordered.clear()
        for index, part in enumerate(parts[:-1]):
            child = node.folders.get(part)
            if child is None:
                child = FolderEntry("/".join(parts[:index + 1]), part)
                node.folders[part] = child
            node = child
            node.ordered.clear()
        node.files[entry.name] = entry
        self.files[entry.path] = entry
        self._stale = True
        return entry

    def set_status(self, path: str, status: str) -> FileEntry | None:
        """Set a file's marker; None when the file is not in the tree (yet)."""
        entry = self.files.get(path)
        if entry is not None and entry.status != status:
            entry.status = status
            self._stale = True
        return entry

    def aggregate(self, folder: FolderEntry | None = None) -> None:
        """Fold every folder's files into its count, worst metrics and most urgent marker."""
        folder = folder or self.root
        count, score, worst, cc, mi, status = 0, 0.0, 0, None, None, ""
        commits, hotspot = 0, 0.0
        for sub in folder.folders.values():
            self.aggregate(sub)
        children: tuple[Entry, ...] = (*folder.folders.values(), *folder.files.values())
        for child in children:
            count += child.count if isinstance(child, FolderEntry) else 1
            if child.score > score:
                score = child.score
            if child.rank in RANKS:
                worst = max(worst, RANKS.index(child.rank))
            if child.cc is not None and (cc is None or child.cc > cc):
                cc = child.cc
            if child.mi is not None and (mi is None or child.mi < mi):
                mi = child.mi
            if URGENCY[child.status] > URGENCY[status]:
                status = child.status
            if child.commits > commits:
                commits = child.commits
            if child.hotspot > hotspot:
                hotspot = child.hotspot
        folder.count, folder.score, folder.rank = count, score, RANKS[worst]
        folder.cc, folder.mi, folder.status = cc, mi, status
        folder.commits, folder.hotspot = commits, hotspot

    def rows(self, sort: str = "score", text: str = "") -> list[Row]:
        """The visible rows: sorted, filtered (case-insensitive substring of the path).

        While filtering, folders holding a match are shown open whatever their state,
        and folders without one are hidden.
        """
        if self._stale:
            self.aggregate()
            self._stale = False
        rows: list[Row] = []
        needle = text.lower()
        if needle:
            keep = self._matching_folders(needle)
            self._walk_filtered(self.root, 0, sort, needle, keep, rows)
        else:
            self._walk(self.root, 0, sort, rows)
        return rows

    @property
    def has_churn(self) -> bool:
        """Some file changed in the churn window (outside git, none did)."""
        if self._stale:
            self.aggregate()  # stays stale: rows() still has to re-sort
        return self.root.commits > 0

    @property
    def stale(self) -> bool:
        """Files or markers changed since the last ``rows()``."""
        return self._stale

    def subtree(self, folder: FolderEntry, depth: int, sort: str) -> list[Row]:
        """The rows below an (expanded) folder, for splicing in when it unfolds."""
        rows: list[Row] = []
        self._walk(folder, depth, sort, rows)
        return rows

    def _ordered(self, folder: FolderEntry, sort: str) -> list[Entry]:
        children = folder.ordered.get(sort)
        if children is None:
            children = [*folder.folders.values(), *folder.files.values()]
            children.sort(key=SORT_KEYS[sort])
            folder.ordered[sort] = children
        return children

    def _walk(self, folder: FolderEntry, depth: int, sort: str, rows: list[Row]) -> None:
        for child in self._ordered(folder, sort):
            rows.append((depth, child))
            if isinstance(child, FolderEntry) and child.expanded:
                self._walk(child, depth + 1, sort, rows)

    def _matching_folders(self, needle: str) -> set[str]:
        keep: set[str] = set()
        for entry in self.files.values():
            if needle in entry.lower:
                parts = entry.path.split("/")[:-1]
                for index in range(len(parts), 0, -1):
                    prefix = "/".join(parts[:index])
                    if prefix in keep:
                        break
                    keep.add(prefix)
        return keep

    def _walk_filtered(self, folder: FolderEntry, depth: int, sort: str, needle: str,
                       keep: set[str], rows: list[Row]) -> None:
        for child in self._ordered(folder, sort):
            if isinstance(child, FolderEntry):
                if child.path in keep:
                    rows.append((depth, child))
                    self._walk_filtered(child, depth + 1, sort, needle, keep, rows)
            elif needle in child.lower:
                rows.append((depth, child))
