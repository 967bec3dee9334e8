"""``danhgia check FILE...``: read, validate and apply the rules to files without recording
anything (no ledger, no inbox): what a clerk or an administrator runs before submitting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..intake import wait_for_files
from ..issues import Issue, Severity
from ..models import FormResult
from ..settings import Settings
from ..textsafe import fs_text

REPORT_SUFFIX = "_loi.xlsx"


@dataclass
class FileCheck:
    """The outcome of one file: its kind, every issue, and the error workbook if written."""

    path: Path
    kind: str
    rows: int
    issues: list[Issue] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The file's name as valid UTF-8 text (undecodable bytes as ``\\xNN``)."""
        return fs_text(self.path.name)

    @property
    def ok(self) -> bool:
        return not any(i.severity in (Severity.ERROR, Severity.VIOLATION) for i in self.issues)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": fs_text(self.path),
            "kind": self.kind,
            "rows": self.rows,
            "ok": self.ok,
            "issues": [i.to_dict() for i in self.issues],
            "reports": [str(p) for p in self.reports],
        }


@dataclass
class CheckResult:
    """All files checked, in the order given."""

    files: list[FileCheck] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every file passes, 1 when any has an error or a list-level violation (SPEC §11)."""
        return 0 if all(f.ok for f in self.files) else 1

    def to_dict(self) -> dict[str, Any]:
        return {"files": [f.to_dict() for f in self.files], "exit_code": self.exit_code}


def form_issues(form: FormResult, settings: Settings) -> list[Issue]:
    """The reader's issues plus the rules (01/02) or the registry checks (00) of one form."""
    issues = list(form.issues)
    if form.kind == "00":
        from ..registry import validate_registry

        issues += validate_registry(form, settings)
    elif form.kind in ("01", "02"):
        from ..rules import check_form

        issues += check_form(form, settings)
    return issues


def check_files(
    paths: Sequence[Path], settings: Settings, *, report_dir: Path | None = None, wait: bool = False
) -> CheckResult:
    """Check ``paths`` (read → validate → rules; no registry cross-check, nothing recorded).

    Args:
        paths: workbook files.
        settings: resolved settings.
        report_dir: when given, an error workbook (``<name>_loi.xlsx`` + ``.txt``) is written
            there for every file with an error or a violation.
        wait: first wait until every file has settled (:func:`~danhgia_batch.intake.unsettled_reason`:
            copied, closed in Excel), at most ``watcher.lock_wait_seconds``.

    Raises:
        UsageError: a path is not a file (nothing is checked).
        NotSettledError: ``wait`` and a file did not settle in time (nothing is checked).
    """
    from ..read import read_forms

    paths = [Path(p) for p in paths]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:  # a mistyped name is not a broken workbook
        raise UsageError(f"Không tìm thấy tệp: {', '.join(missing)}.")
    if wait:
        wait_for_files(paths, settings.watcher.settle_seconds, settings.watcher.lock_wait_seconds)
    by_path: dict[str, FileCheck] = {}
    for form in read_forms(paths, settings):
        by_path[str(form.path)] = FileCheck(
            form.path, form.kind, len(form.rows) or len(form.people), form_issues(form, settings)
        )
    result = CheckResult([by_path[str(p)] for p in paths if str(p) in by_path])
    if report_dir is not None:
        from ..reports.errors import write_error_workbook
        from .effects import fit

        report_dir = Path(report_dir)
        for f in result.files:
            if not f.ok:
                f.reports = write_error_workbook(
                    f.path, f.issues, report_dir / f"{fit(fs_text(f.path.stem))}{REPORT_SUFFIX}"
                )
    return result
