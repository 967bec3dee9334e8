"""``danhgia check FILE...``: the decision ``process`` would make about each file, recording
nothing: what a clerk or an administrator runs before submitting (issue 14).

In a work folder with a ledger, the ledger is opened read-only (never created, never
migrated) and each file is decided from the same context ``process`` would use: the registry
in force, the locks, the lists already recorded. Without one, every check that needs no
ledger is made and :attr:`CheckResult.not_checked` says which could not be.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..issues import Issue, Severity
from ..layout import LIST_KINDS
from ..settings import Settings
from ..textsafe import fs_text
from ..verdict import FileFacts

if TYPE_CHECKING:  # the ledger (SQLAlchemy) is imported while the reader works (issue 19)
    from ..ledger import Ledger
    from .decide import Original

REPORT_SUFFIX = "_loi.xlsx"


@dataclass(frozen=True)
class _Earlier:
    """A file checked earlier in the same call, as a later byte-identical file names it
    (:class:`~danhgia_batch.pipeline.decide.Original`): ``process`` records the later one as its
    duplicate, or decides it again after a rejection."""

    name: str
    arrival: datetime
    outcome: str
    kind: str
    period: str
    unit_code: str
    block: str
    id: int = 0  # never recorded


@dataclass
class FileCheck:
    """The outcome of one file: its kind, every issue, and the error workbook if written."""

    path: Path
    kind: str
    rows: int
    issues: list[Issue] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)
    outcome: str = ""  # what ``process`` would record: accepted | invalid | rejected | duplicate
    regime: str = ""  # SPEC §13: the regime that judged it (id), as process records it

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
            "outcome": self.outcome,
            "regime": self.regime,
            "issues": [i.to_dict() for i in self.issues],
            "reports": [str(p) for p in self.reports],
        }


@dataclass
class CheckResult:
    """All files checked, in the order given."""

    files: list[FileCheck] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)  # checks that could not be made (Vietnamese)

    @property
    def exit_code(self) -> int:
        """0 when every file passes, 1 when any has an error or a list-level violation (SPEC §11)."""
        return 0 if all(f.ok for f in self.files) else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [f.to_dict() for f in self.files],
            "not_checked": self.not_checked,
            "exit_code": self.exit_code,
        }


NO_REGISTRY = (
    "Đối chiếu với danh mục cán bộ (mã đơn vị, mã người, họ tên, chức vụ, số người của đơn vị "
    "để xét người nhận xét): chưa làm được vì chưa có danh mục cán bộ trong sổ cái."
)
NO_COMPLETENESS = (
    "Kiểm tra người đã có trong danh sách khác của kỳ (trùng người) và danh sách còn thiếu người "
    "so với danh mục: chưa làm được vì chưa có danh mục cán bộ trong sổ cái."
)
NO_LEDGER = (
    "Khóa kỳ, thay thế danh sách đã nộp trước và tỷ lệ loại A trên mọi phiếu cá nhân của cùng người "
    "quyết định: chưa làm được vì thư mục làm việc chưa có sổ cái."
)
_CHECK_ID = 1 << 62  # a file being checked sorts after every recorded file, like a new arrival


def _inbox_path(path: Path, inbox: Path) -> str:
    """``path`` as process's claim names it: relative to the inbox when inside it."""
    return fs_text(path.relative_to(inbox) if path.is_relative_to(inbox) else path)


TOGETHER = (
    "Các danh sách, phiếu {period} trong lệnh này ({count} tệp) được xét riêng từng tệp với sổ cái "
    "như hiện có: tệp sau thay thế tệp trước, một người có ở hai tệp, tỷ lệ loại A trên các phiếu "
    "cá nhân của cùng người quyết định chỉ được xét giữa các tệp này khi xử lý."
)
SAME_UNIT = " Cùng đơn vị: {units}."


def _together(groups: Counter[tuple[str, str]]) -> list[str]:
    """What ``check`` cannot say of several lists or forms of one period given at once:
    ``process`` decides each after the ones before it were recorded (superseding; a person on
    two lists; the A-quota over a decider's forms, letter §2.5.a; a person on a list and a form,
    §2.6); ``check`` records nothing between them. The units with several files are named:
    there a later file most often changes what an earlier one gets."""
    from ..periods import period_title

    by_period: dict[str, list[tuple[str, int]]] = {}
    for (period, unit), n in sorted(groups.items()):
        by_period.setdefault(period, []).append((unit, n))
    notes = []
    for period, units in by_period.items():
        count = sum(n for _, n in units)
        if count < 2:
            continue
        note = TOGETHER.format(period=period_title(period), count=count)
        several = [f"{unit} ({n} tệp)" for unit, n in units if n > 1]
        notes.append(note + (SAME_UNIT.format(units=", ".join(several)) if several else ""))
    return notes


def _sha256(path: Path) -> str:
    """The file's hash, or ``""`` when it cannot be read again (gone since it was read: it is
    decided from what was read, with no duplicate to find)."""
    from ..intake import sha256_file

    try:
        return sha256_file(path)
    except OSError:
        return ""


def _not_checked(ledger: Ledger | None, has_registry: bool, error: str = "") -> list[str]:
    notes = [f"Không mở được sổ cái: {error}"] if error else []
    if ledger is None:
        notes.append(NO_LEDGER)
    if not has_registry:
        notes += [NO_REGISTRY, NO_COMPLETENESS]
    return notes


def _may_have_ledger(settings: Settings) -> bool:
    """False only when the ledger is the work folder's default SQLite file and it does not exist
    (:func:`~danhgia_batch.ledger.open_ledger_read_only` would return ``None`` then)."""
    return bool(settings.ledger.url) or (settings.workdir / "danhgia.sqlite3").is_file()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No garbage collection inside: imports make long-lived objects only, and the full
    collections they set off would find nothing (~0.04 s of ``danhgia check``, issue 19)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def check_files(
    paths: Sequence[Path], settings: Settings, *, report_dir: Path | None = None, wait: bool = False
) -> CheckResult:
    """Decide about ``paths`` as ``process`` would (nothing recorded, nothing moved).

    Args:
        paths: workbook files.
        settings: resolved settings (their ledger, if it exists, is read, never written).
        report_dir: when given, an error workbook (``<name>_loi.xlsx`` + ``.txt``) is written
            there for every file with an error or a violation.
        wait: first wait until every file has settled (:func:`~danhgia_batch.intake.unsettled_reason`:
            copied, closed in Excel), at most ``watcher.lock_wait_seconds``.

    Raises:
        UsageError: a path is not a file (nothing is checked).
        NotSettledError: ``wait`` and a file did not settle in time (nothing is checked).
    """
    from ..errors import LedgerError
    from ..intake import unit_folder, wait_for_files
    from ..read import RunReader

    paths = [Path(p) for p in paths]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:  # a mistyped name is not a broken workbook
        raise UsageError(f"Không tìm thấy tệp: {', '.join(missing)}.")
    if wait:
        wait_for_files(paths, settings.watcher.settle_seconds, settings.watcher.lock_wait_seconds)
    has_ledger = _may_have_ledger(settings)  # else SQLAlchemy is never imported (issue 19)
    error = ""
    ledger: Ledger | None = None
    with _gc_paused():
        if has_ledger:  # imported while the forkserver (started by the CLI) loads the reader
            from ..ledger import open_ledger_read_only
        reader = RunReader(settings)
        reader.prefetch(paths, settings)  # the workers read while the ledger and the pipeline are imported
        try:
            from ..safe import warm_validation
            from .context import context_for
            from .decide import REJECTED, decide, decide_duplicate

            if len(paths) > 1:  # pandera validates a batch; one file is validated without pandas
                warm_validation()
            if has_ledger:
                ledger = open_ledger_read_only(settings)
        except LedgerError as exc:
            error = str(exc)
        except BaseException:
            reader.shutdown()
            raise
    by_path: dict[str, FileCheck] = {}
    has_registry = False
    try:
        now = datetime.now()
        inbox = settings.inbox.resolve()
        hashes = len(paths) > 1 or ledger is not None
        forms = {str(f.path): f for f in reader(paths, settings)}
        earlier: dict[str, _Earlier] = {}  # bytes → the first file of this call with them
        together: Counter[tuple[str, str]] = Counter()  # (period, unit) → its lists and forms here
        for path in paths:  # in the order given, as ``process`` claims them
            form = forms.get(str(path))
            if form is None or str(path) in by_path:  # (a path given twice is checked once)
                continue
            where = form.path.resolve()
            sha = _sha256(where) if hashes else ""
            # bytes already recorded, or met earlier in this call and not rejected: process
            # records a duplicate and reads nothing (SPEC §9); after a rejection it decides again
            original: Original | None = None
            if ledger is not None and sha:
                original = ledger.duplicate_of(sha, _inbox_path(where, inbox))
            if original is None and sha in earlier and earlier[sha].outcome != REJECTED:
                original = earlier[sha]
            if original is not None:
                rec = decide_duplicate(form.path.name, original)
                by_path[str(form.path)] = FileCheck(form.path, original.kind, 0, rec.issues, outcome=rec.outcome)
                continue
            context = context_for(ledger, form)
            has_registry = has_registry or context.registry is not None
            folder = unit_folder(where, inbox)
            rec = decide(form, context, settings, FileFacts(_CHECK_ID, form.path.name, now, folder))
            rows = len(form.rows) or len(form.people)
            by_path[str(form.path)] = FileCheck(
                form.path, form.kind, rows, rec.issues, outcome=rec.outcome, regime=rec.regime_id
            )
            if sha and sha not in earlier:
                earlier[sha] = _Earlier(
                    form.path.name, now, rec.outcome, rec.kind, rec.period, rec.unit_code, rec.block
                )
            if rec.outcome != REJECTED and rec.kind in LIST_KINDS and rec.period and rec.unit_code:
                together[rec.period, rec.unit_code] += 1
        if ledger is not None and not has_registry:
            has_registry = ledger.current_registry() is not None
    finally:
        reader.shutdown()
        if ledger is not None:
            ledger.close()
    result = CheckResult([by_path[str(p)] for p in paths if str(p) in by_path])
    result.not_checked = _not_checked(ledger, has_registry, error) + _together(together)
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
