"""Result values of the processing commands (``--json`` prints their ``to_dict()``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..issues import Issue

# files.outcome values, and what a run reports for a file it did not record
OUTCOMES = ("accepted", "invalid", "rejected", "duplicate", "failed")
SKIPPED = "skipped"  # another live process holds it, or not in the requested period


@dataclass
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
            "issues": [i.to_dict() for i in self.issues],
        }


@dataclass
class BatchResult:
    """Outcome of :func:`~danhgia_batch.pipeline.process_inbox`.

    ``exit_code`` (SPEC §11): 0 when every file was accepted (a byte-identical duplicate
    counts as nothing new, not as a failure), 1 when something was rejected, invalid (quota)
    or failed.
    """

    files: list[FileResult] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {o: self.count(o) for o in (*OUTCOMES, SKIPPED)}

    @property
    def exit_code(self) -> int:
        return 1 if any(f.outcome in ("rejected", "invalid", "failed") for f in self.files) else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "counts": self.counts,
            "files": [f.to_dict() for f in self.files],
            "outputs": [str(p) for p in self.outputs],
        }
