"""Result values of the processing commands (``--json`` prints their ``to_dict()``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..issues import Issue
from ..textsafe import fs_text

# files.outcome values, and what a run reports for a file it did not record
OUTCOMES = ("accepted", "invalid", "rejected", "duplicate", "failed")
SKIPPED = "skipped"  # another live process holds it, or not in the requested period


@dataclass(slots=True)  # a city month's run keeps 44,000 of them for its result (issue 19)
class FileResult:
    """What happened to one file in one run."""

    path: str
    name: str
    outcome: str
    file_id: int | None = None
    kind: str = ""
    period: str = ""
    unit_code: str = ""
    block: str = ""
    issues: list[Issue] = field(default_factory=list)
    archived: str | None = None
    error_files: list[str] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    resumed: bool = False  # finished after a previous run died half-way
    finished: bool = True  # False: recorded, but its outputs or move failed (it stays in the inbox)
    # the path on disk, kept only when ``path`` (display text) does not name it (an undecodable
    # name, issue 17 ¶1): a city month's Path objects were 25 MB of its run (issue 19)
    source: Path | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # the same few codes for thousands of files: one string each (issue 19: memory of a city run)
        self.outcome, self.kind, self.period = _shared(self.outcome), _shared(self.kind), _shared(self.period)
        self.unit_code, self.block = _shared(self.unit_code), _shared(self.block)
        if self.source is not None and str(self.source) == self.path:
            self.source = None

    @property
    def on_disk(self) -> Path:
        """The file's path on disk (``path`` is its display text)."""
        return self.source if self.source is not None else Path(self.path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "outcome": self.outcome,
            "file_id": self.file_id,
            "kind": self.kind,
            "period": self.period,
            "unit_code": self.unit_code,
            "block": self.block,
            "archived": self.archived,
            "error_files": self.error_files,
            "superseded_lists": self.superseded,
            "resumed": self.resumed,
            "finished": self.finished,
            "issues": [i.to_dict() for i in self.issues],
        }


def _shared(value: str) -> str:
    return sys.intern(value) if type(value) is str else value


EXIT_ENVIRONMENT = 3  # README "Mã thoát": the disk, a folder or the ledger stopped the run


@dataclass(frozen=True)
class OddEntry:
    """Something in the inbox that is not a regular file (symlink, FIFO, folder named *.xlsx…)."""

    path: str  # display text (valid UTF-8)
    kind: str  # "symlink", "fifo", "folder", "socket", "device", "unreadable"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind}


def skipped(path: Path, outcome: str = SKIPPED) -> FileResult:
    """The result of a file a run did not record (``path`` as found on disk)."""
    return FileResult(fs_text(str(path)), fs_text(path.name), outcome, source=path)


@dataclass
class BatchResult:
    """Outcome of :func:`~danhgia_batch.pipeline.process_inbox`.

    ``exit_code`` (SPEC §11): 0 when every file was accepted (a byte-identical duplicate
    counts as nothing new, not as a failure), 1 when something was rejected, invalid (quota)
    or failed, :data:`EXIT_ENVIRONMENT` (3) when the disk or a folder stopped the run
    (``problem`` says what to fix; the files it stopped stay in the inbox, ``finished`` False).
    ``odd`` lists inbox entries that are not regular files (reported, left alone).
    """

    files: list[FileResult] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    problem: str | None = None
    odd: list[OddEntry] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {o: self.count(o) for o in (*OUTCOMES, SKIPPED)}

    @property
    def unfinished(self) -> int:
        """Files recorded but left in the inbox by an environment problem."""
        return sum(1 for f in self.files if not f.finished)

    @property
    def exit_code(self) -> int:
        if self.problem is not None:
            return EXIT_ENVIRONMENT
        return 1 if any(f.outcome in ("rejected", "invalid", "failed") for f in self.files) else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "problem": self.problem,
            "counts": self.counts,
            "unfinished": self.unfinished,
            "files": [f.to_dict() for f in self.files],
            "odd_entries": [o.to_dict() for o in self.odd],
            "outputs": [fs_text(p) for p in self.outputs],
        }
