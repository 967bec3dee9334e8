"""Period administration: status, publish (lock), reopen, regenerate reports, the year view.

SPEC §9: after publication a period is locked and later files for it are rejected until an
administrator reopens it; every lock and unlock is kept in the ledger with who, when, why.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError, UsageError
from ..issues import Severity
from ..ledger import Ledger, open_ledger
from ..models import PeriodView, UnitView
from ..periods import parse_period, periods_of_year
from ..progress import Progress, Steps
from ..regimes import apply_regime
from ..settings import Settings
from .context import backfill_results
from .effects import write_period_reports, write_rollups
from .results import OddEntry
from .runtime import odd_entries

GRADES = ("A", "B", "C", "D", "KXL")


def normalise_period(value: str) -> str:
    """ "2022-01", "01/2022", "Q1/2026", "Quý I/2026"… → "2022-01" / "2026-Q1" (SPEC §13).

    Raises:
        UsageError: not a month or a quarter.
    """
    found = parse_period(value)
    if found is None:
        raise UsageError(
            f"Kỳ đánh giá '{value}' không hợp lệ; ghi theo dạng YYYY-MM (tháng, ví dụ 2022-01) "
            "hoặc YYYY-Qn (quý, ví dụ 2026-Q1)."
        )
    return found


def sqlite_file(settings: Settings) -> Path | None:
    """The file of a SQLite ledger (``None`` for a server database or an in-memory one)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(settings.ledger_url)
    except ArgumentError:
        return None
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    path = Path(database)
    return path if path.is_absolute() else settings.workdir / path


def require_ledger(settings: Settings) -> None:
    """Refuse to read a SQLite ledger that does not exist (it would be created empty, in what
    is probably the wrong folder).

    Raises:
        ConfigError: no ledger file.
    """
    db = sqlite_file(settings)
    if db is not None and not db.is_file():
        raise ConfigError(
            f"Chưa có sổ cái {db}: chưa xử lý tệp nào ở thư mục làm việc này, hoặc lệnh đang chạy sai thư mục "
            "(chỉ rõ tệp cấu hình bằng --config)."
        )


def require_workdir(settings: Settings) -> None:
    """Refuse to run outside a work folder (no ``danhgia.toml``, no ``inbox/``, no ledger URL).

    A scheduled task started in the wrong folder would otherwise "succeed" every time and
    leave an empty ledger there (``watch`` refuses the same way).

    Raises:
        ConfigError: the current folder is not a work folder.
    """
    if settings.config_file is None and not settings.ledger.url and not settings.inbox.is_dir():
        raise ConfigError(
            f"Thư mục {settings.workdir} không phải thư mục làm việc (không có danhgia.toml, không có inbox/). "
            "Hãy chạy lệnh trong thư mục đã tạo bằng 'danhgia init', hoặc chỉ rõ tệp cấu hình bằng --config."
        )


def pdf_copies(
    settings: Settings, written: list[Path], pdf: bool | None, progress: Progress | None = None
) -> list[Path]:
    """PDF copies of the workbooks in ``written`` when ``pdf`` (default ``reports.pdf``).

    Raises:
        PdfUnavailableError: PDFs are wanted and LibreOffice is not installed.
    """
    if not (settings.reports.pdf if pdf is None else pdf):
        return []
    from ..reports.pdf import convert_to_pdf

    return convert_to_pdf(written, progress=progress)


def _check_block(settings: Settings, ledger: Ledger, period: str, block: str | None) -> None:
    """``--block`` names a block of the code list or of the period's data, else exit 2."""
    if block is None or block in settings.codes.codes("blocks"):
        return
    if any(u.block == block for u in ledger.period_view(period).units):
        return
    known = ", ".join(settings.codes.codes("blocks"))
    raise UsageError(f"Không có khối '{block}'. Các khối: {known}.")


# ---------------------------------------------------------------- status


@dataclass
class UnitStatus:
    """One unit in ``danhgia status``: state ``valid`` / ``invalid`` / ``rejected`` / ``missing``."""

    unit_code: str
    unit_name: str
    block: str
    state: str
    on_time: bool | None = None  # None: nothing submitted
    lists: int = 0
    people: int = 0
    rejected_files: int = 0
    missing_people: int | None = None
    warnings: list[str] = field(default_factory=list)  # "code: message" of warnings kept with its lists
    grades: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))

    @property
    def submitted(self) -> bool:
        return self.lists > 0

    def to_dict(self) -> dict[str, Any]:
        """``dataclasses.asdict`` and ``submitted``, without its deep copy of every value (a
        city's dashboards ask for 130 pages × 126 units × their fields: issue 19)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["warnings"], out["grades"] = list(self.warnings), dict(self.grades)
        out["submitted"] = self.submitted
        return out


@dataclass
class BlockStatus:
    block: str
    label: str
    units: list[UnitStatus] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for u in self.units if u.state == state)

    @property
    def grades(self) -> dict[str, int]:
        return {g: sum(u.grades[g] for u in self.units) for g in GRADES}


@dataclass
class StatusResult:
    """Result of :func:`period_status` (``--json`` prints ``to_dict()``)."""

    period: str
    block: str | None
    locked: bool
    has_registry: bool
    blocks: list[BlockStatus] = field(default_factory=list)
    area: str = ""  # the ward, commune, district or city of the registry (SPEC §3), else [reports]
    odd: list[OddEntry] = field(default_factory=list)  # inbox entries that are not regular files

    @property
    def exit_code(self) -> int:
        """0 every unit has a valid list; 1 some unit has not submitted, was rejected or is
        invalid (something to chase); usage and configuration errors exit 2 before this."""
        return 0 if all(u.state == "valid" for b in self.blocks for u in b.units) else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "odd_entries": [o.to_dict() for o in self.odd],
            "period": self.period,
            "block": self.block,
            "locked": self.locked,
            "has_registry": self.has_registry,
            "area": self.area,
            "exit_code": self.exit_code,
            "blocks": [
                {
                    "block": b.block,
                    "label": b.label,
                    "counts": {s: b.count(s) for s in ("valid", "invalid", "rejected", "missing")},
                    "grades": b.grades,
                    "units": [u.to_dict() for u in b.units],
                }
                for b in self.blocks
            ],
        }


def _unit_status(view: UnitView) -> UnitStatus:
    rows = view.rows
    # a summarised view (roll-ups of a large period) has no rows: its grades are counted
    counted = view.grade_counts if view.grade_counts is not None else Counter(r.final_grade for r in rows)
    state = "valid" if view.valid else "invalid" if view.lists else "rejected" if view.rejected_files else "missing"
    late = any(i.code.startswith("late-") for lst in view.lists for i in lst.issues)
    status = UnitStatus(
        unit_code=view.unit_code,
        unit_name=view.unit_name,
        block=view.block,
        state=state,
        on_time=(not late) if view.lists else None,
        lists=len(view.lists),
        people=sum(counted.values()),
        rejected_files=len(view.rejected_files),
        missing_people=len(view.missing_people) if view.missing_people is not None else None,
        warnings=[
            f"{i.code}: {i.message}"
            for lst in view.lists
            for i in lst.issues
            if i.severity is Severity.WARNING and not i.code.startswith("late-")
        ],
    )
    for grade, n in counted.items():
        if grade in status.grades:
            status.grades[grade] += n
    return status


def status_from_view(settings: Settings, view: PeriodView, block: str | None) -> StatusResult:
    """Build the status of a period from its :class:`PeriodView` (registry units are expected)."""
    units = {u.unit_code: _unit_status(u) for u in view.units}
    for expected in view.expected_units:
        if expected.code not in units:
            units[expected.code] = UnitStatus(expected.code, expected.name, expected.block, "missing")
    order = {code: i for i, code in enumerate(settings.codes.codes("blocks"))}
    blocks: dict[str, BlockStatus] = {}
    for u in sorted(units.values(), key=lambda u: (order.get(u.block, 99), u.block, u.unit_code)):
        b = blocks.setdefault(u.block, BlockStatus(u.block, settings.codes.label("blocks", u.block) if u.block else ""))
        b.units.append(u)
    areas = [u for u in view.org.values() if u.level and not (u.parent_code and u.parent_code in view.org)]
    area = ", ".join(u.name for u in areas) or settings.reports.district.title()
    return StatusResult(view.period, block, view.locked, view.has_registry, list(blocks.values()), area)


def period_status(settings: Settings, period: str, block: str | None = None) -> StatusResult:
    """``danhgia status``: per block and unit, submitted / valid / invalid / rejected / missing,
    on time or late, counts per grade."""
    period = normalise_period(period)
    require_ledger(settings)
    with open_ledger(settings) as ledger:
        _check_block(settings, ledger, period, block)
        backfill_results(ledger, settings)
        status = status_from_view(settings, ledger.period_view(period, block), block)
    status.odd = odd_entries(settings)
    return status


# ---------------------------------------------------------------- publish / reopen


@dataclass
class LockResult:
    """Result of :func:`publish_period` / :func:`reopen_period`."""

    period: str
    block: str | None
    locked: bool
    by: str
    reason: str = ""
    outputs: list[Path] = field(default_factory=list)
    notices: dict[str, Any] | None = None  # result notices sent on publication (issue 20), if enabled

    exit_code = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "block": self.block,
            "locked": self.locked,
            "by": self.by,
            "reason": self.reason,
            "outputs": [str(p) for p in self.outputs],
            "notices": self.notices,
        }


def publish_period(
    settings: Settings,
    period: str,
    block: str | None = None,
    by: str = "",
    progress: Progress | None = None,
    pdf: bool | None = None,
) -> LockResult:
    """Lock ``period`` (one block or all) and write the publication lists from the ledger.

    Raises:
        UsageError: ``by`` is empty, the period (block) is already locked, or no unit of it
            has submitted a list.
    """
    period = normalise_period(period)
    if not by.strip():
        raise UsageError("Công khai kỳ cần ghi rõ người công khai (--by).")
    require_ledger(settings)
    if settings.notices.enabled:  # a mail server missing is found before anything is locked
        from .mailer import check_smtp

        check_smtp(settings)
    where = f"kỳ {period}" + (f" (khối {block})" if block else "")
    with open_ledger(settings) as ledger:
        _check_block(settings, ledger, period, block)
        if ledger.is_locked(period, block):
            raise UsageError(f"K{where[1:]} đã công khai và đang khóa; muốn sửa thì mở lại bằng 'danhgia reopen'.")
        if not any(u.lists for u in ledger.period_view(period, block).units):
            raise UsageError(f"Chưa có đơn vị nào nộp danh sách của {where}; không có gì để công khai.")
        ledger.set_lock(period, block, locked=True, by=by, reason="công khai")
        outputs = write_period_reports(settings, ledger, period, block=block, progress=progress)
        notices = None
        if settings.notices.enabled:
            from .notices import send_result_notices

            notices = send_result_notices(settings, ledger, period, block).to_dict()
    outputs += pdf_copies(settings, outputs, pdf, progress)
    return LockResult(period, block, True, by, "công khai", outputs, notices)


def reopen_period(
    settings: Settings, period: str, block: str | None = None, *, by: str, reason: str, progress: Progress | None = None
) -> LockResult:
    """Unlock ``period`` (one block or all); who and why are recorded in the ledger. The
    roll-ups are written again, so none of them still says the period is locked.

    Raises:
        UsageError: ``by`` or ``reason`` is empty, or the period (block) is not locked.
    """
    period = normalise_period(period)
    if not by.strip() or not reason.strip():
        raise UsageError("Mở lại kỳ cần ghi rõ người mở (--by) và lý do (--reason).")
    require_ledger(settings)
    with open_ledger(settings) as ledger:
        _check_block(settings, ledger, period, block)
        if not ledger.is_locked(period, block):
            where = f"Kỳ {period}" + (f" (khối {block})" if block else "")
            raise UsageError(f"{where} chưa khóa (chưa công khai); không có gì để mở lại.")
        ledger.set_lock(period, block, locked=False, by=by, reason=reason)
        blocks = {u.block for u in ledger.period_view(period, block).units if u.lists}
        steps = Steps(progress, "Ghi lại bảng tổng hợp", 1)
        outputs = write_rollups(settings, ledger, period, blocks)
        steps.advance()
    return LockResult(period, block, False, by, reason, outputs)


# ---------------------------------------------------------------- reports


def regenerate_reports(
    settings: Settings,
    period: str,
    block: str | None = None,
    unit: str | None = None,
    scope: str = "all",
    progress: Progress | None = None,
    pdf: bool | None = None,
) -> list[Path]:
    """``danhgia report``: rewrite the unit reports and roll-ups of a period from the ledger.

    ``scope`` chooses the area roll-ups (SPEC §3): ``all`` (also ``district``, ``city``), a
    level code of codes.toml (every area of that level), ``LEVEL:CODE`` or an area's unit code.
    ``pdf`` (default ``reports.pdf``): also a PDF of every workbook (LibreOffice headless).

    Raises:
        UsageError: the scope or block is unknown, or nothing of ``unit`` / ``block`` / the
            period is in the ledger.
    """
    period = normalise_period(period)
    level = scope.strip().upper().partition(":")[0]
    known = {"ALL", "DISTRICT", "CITY", *settings.codes.codes("levels")}
    if not scope.strip() or (level not in known and not re.fullmatch(r"[A-Z0-9_.-]+", level)):
        raise UsageError(f"Phạm vi '{scope}' không hợp lệ; chọn all, một mã cấp hoặc mã đơn vị của cấp đó.")
    require_ledger(settings)
    with open_ledger(settings) as ledger:
        _check_block(settings, ledger, period, block)
        backfill_results(ledger, settings)
        try:
            written = write_period_reports(
                settings, ledger, period, block=block, unit=unit, scope=scope, progress=progress
            )
        except ValueError as exc:
            raise UsageError(f"Không có cấp '{exc}' trong danh mục của kỳ {period}.") from exc
    if not written:
        what = f"đơn vị '{unit}'" if unit else f"khối {block}" if block else "đơn vị nào"
        raise UsageError(f"Kỳ {period} không có danh sách nào của {what} trong sổ cái.")
    return written + pdf_copies(settings, written, pdf, progress)


def year_view(settings: Settings, year: int, progress: Progress | None = None) -> Path:
    """``danhgia year``: one row per person, one column per month (final grades).

    Raises:
        UsageError: the year is out of range or the ledger holds nothing of it.
    """
    from ..reports import write_year_view

    if not 1900 <= year <= 9999:
        raise UsageError(f"Năm '{year}' không hợp lệ.")
    require_ledger(settings)
    steps = Steps(progress, f"Tổng hợp năm {year}", 2)
    with open_ledger(settings) as ledger:
        backfill_results(ledger, settings)
        rows = ledger.year_rows(year)
    steps.advance()
    if not rows:
        raise UsageError(f"Sổ cái không có kết quả đánh giá nào của năm {year}.")
    # SPEC §13: a regime in force during the year that aggregates by the average score
    averaging = [
        g
        for g in settings.catalogue.active()
        if g.aggregate == "average_score" and any(g.covers(p.code) for p in periods_of_year(year))
    ]
    regime_settings = apply_regime(settings, averaging[0]) if averaging else None
    grading = regime_settings.grading if regime_settings else None
    quota = regime_settings.quota if regime_settings else None  # SPEC §13: the year's A-quota per group
    caps = averaging[0].bands.caps if averaging else ()  # Decree 335: disciplined in the year → D
    path = write_year_view(year, rows, settings, average=bool(averaging), grading=grading, quota=quota, caps=caps)
    steps.advance()
    return path
