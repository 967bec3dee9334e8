"""Year view (``danhgia year YYYY``): a row per person, a column per month (SPEC §10).

The input to the annual evaluation: each person's final grade in T1..T12 and how many months
of each grade, grouped by block and unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from ..models import YearRow
from ..periods import MONTH, QUARTER, periods_of_year
from ..rules import grade_for
from ..rules.kpi import capped
from ..rules.quota import YearQuotaGroup, year_quota
from ..settings import Settings
from .common import (
    GRADES,
    Styles,
    atomic_workbook,
    begin_sheet,
    block_label,
    fit_row,
    grade_counts,
    merged,
    print_setup,
    put,
    signatures,
)
from .paths import year_view_path
from .stats import given_name_key

MONTHS = [p.month for p in periods_of_year(2000, MONTH)]
QUARTERS = [p.quarter for p in periods_of_year(2000, QUARTER)]
COLUMNS: list[tuple[str, float]] = [
    ("STT", 5),
    ("Mã cán bộ", 11),
    ("Họ và tên", 24),
    ("Chức vụ", 22),
    *[(f"T{m}", 5) for m in MONTHS],
    *[(g, 5.5) for g in GRADES],
    ("Số tháng đánh giá", 9),
]
LAST = len(COLUMNS) - 1
FIRST_MONTH = 4
FIRST_COUNT = FIRST_MONTH + 12


@dataclass(frozen=True)
class _Layout:
    """Columns of the year view: the 12 months; Q1..Q4 when the year has quarterly periods;
    the average score of the periods worked when a regime in force aggregates the year so
    (Decree 335) or the year has quarters (SPEC §13)."""

    quarterly: bool
    average: bool = False

    @property
    def columns(self) -> list[tuple[str, float]]:
        if not self.quarterly and not self.average:
            return COLUMNS
        return [
            *COLUMNS[:FIRST_COUNT],
            *[(f"Q{q}", 5) for q in (QUARTERS if self.quarterly else [])],
            *[(g, 5.5) for g in GRADES],
            ("Số kỳ đánh giá", 9),
            ("Điểm bình quân", 9),
            ("Xếp loại theo điểm bình quân", 11),
        ]

    @property
    def shows_average(self) -> bool:
        return self.quarterly or self.average

    @property
    def first_quarter(self) -> int:
        return FIRST_COUNT

    @property
    def first_count(self) -> int:
        return FIRST_COUNT + (len(QUARTERS) if self.quarterly else 0)

    @property
    def last(self) -> int:
        return len(self.columns) - 1

    @property
    def periods_col(self) -> int:
        return self.first_count + len(GRADES)


def _order(settings: Settings, rows: list[YearRow]) -> list[YearRow]:
    """By block (code-list order), then unit, then given name (the Vietnamese list order)."""
    blocks = {b: i for i, b in enumerate(settings.codes.codes("blocks"))}
    return sorted(
        rows, key=lambda r: (blocks.get(r.block, len(blocks)), r.block, r.unit_code, given_name_key(r.full_name))
    )


def write_year_view(
    year: int,
    rows: list[YearRow],
    settings: Settings,
    *,
    today: date | None = None,
    average: bool = False,
    grading: Any = None,
    quota: Any = None,
    caps: Sequence[Any] = (),
) -> Path:
    """Write ``outbox/nam_<YYYY>/tong_hop_nam_<YYYY>.xlsx`` and return its path (``average``:
    add the average score of the periods worked and its band by ``grading`` (default the
    settings'), Decree 335's year result; ``quota``: the averaging regime's quota, for the
    sheet proposing the year's A-quota per group, :data:`QUOTA_SHEET`; ``caps``: the averaging
    regime's band caps, a flag marked in any period caps the year's grade)."""
    grading = grading or settings.grading
    path = year_view_path(settings, year)
    lay = _Layout(any(r.quarter_grades for r in rows), average)
    columns, last = lay.columns, lay.last
    with atomic_workbook(path, f"Tổng hợp năm {year}") as wb:
        st = Styles(wb)
        grade_fmt = {
            "A": wb.add_format({"font_name": "Times New Roman", "font_size": 12, "border": 1, "align": "center",
                                "valign": "vcenter", "bold": True, "bg_color": "#E2EFDA"}),
            "D": wb.add_format({"font_name": "Times New Roman", "font_size": 12, "border": 1, "align": "center",
                                "valign": "vcenter", "bold": True, "font_color": "#C00000"}),
        }  # fmt: skip
        titles = [f"TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI HẰNG THÁNG CỦA CBCCVC, LĐHĐ NĂM {year}"]
        ws, row = begin_sheet(
            wb, st, settings, "Nam", columns, titles, style="state",
            issuer=f"UBND {settings.reports.district.upper()}", top="", today=today, split=8,
        )  # fmt: skip
        row += 1
        head = row
        _header(ws, st, row, lay)
        row += 2
        ws.freeze_panes(row, 3)
        stt = 0
        for block, in_block in groupby(_order(settings, rows), key=lambda r: r.block):
            merged(ws, row, 0, last, block_label(settings, block).upper(), st["td_group"])
            row += 1
            for _, in_unit in groupby(in_block, key=lambda r: r.unit_code):
                people = list(in_unit)
                merged(ws, row, 0, last, f"Đơn vị: {people[0].unit_name} ({people[0].unit_code})", st["tt"])
                row += 1
                for r in people:
                    stt += 1
                    _person(ws, st, grade_fmt, row, stt, r, lay, grading, caps)
                    row += 1
        if not rows:
            merged(ws, row, 0, last, f"Chưa có kết quả đánh giá nào trong năm {year}.", st["td_c"])
            row += 1
        merged(
            ws, row + 1, 0, last, f"Ô trống: {'kỳ' if lay.quarterly else 'tháng'} chưa có kết quả được tiếp nhận. "
            "KXL: không xếp loại.", st["italic"],
        )  # fmt: skip
        signatures(ws, st, row + 3, left=(0, 3), right=(12, last), right_title="THỦ TRƯỞNG CƠ QUAN")
        print_setup(ws, landscape=True, repeat=(head, head + 1))
        if average and quota is not None:  # SPEC §13, Decree 335: the quota on the year's averages
            _quota_sheet(wb, st, year, year_quota(_order(settings, rows), grading, quota, caps), quota)
    return path


QUOTA_SHEET = "TyLeLoaiA"
QUOTA_COLUMNS: list[tuple[str, float]] = [
    ("STT", 5),
    ("Đơn vị", 26),
    ("Nhóm đối tượng", 11),
    ("Mã cán bộ", 11),
    ("Họ và tên", 24),
    ("Điểm bình quân", 9),
    ("Xếp loại theo điểm bình quân", 11),
    ("Số loại A của nhóm", 9),
    ("Số loại B của nhóm", 9),
    ("Tối đa loại A", 9),
    ("Đề xuất", 30),
]
WITHIN = "Trong tỷ lệ"
OVER = "Vượt tỷ lệ loại A: đề nghị xem xét xếp loại B"


def _quota_sheet(wb: Any, st: Styles, year: int, groups: list[YearQuotaGroup], quota: Any) -> None:
    """The year's A-quota per group (Decree 335: A ≤ 20 % of the number graded B in each group
    with similar tasks), on the band of the average score: the people graded A by it, best
    average first, those beyond the group's maximum marked. A proposal: nothing is regraded."""
    ws = wb.add_worksheet(QUOTA_SHEET)
    last = len(QUOTA_COLUMNS) - 1
    for i, (_, width) in enumerate(QUOTA_COLUMNS):
        ws.set_column(i, i, width)
    ratio = f"{Decimal(str(quota.ratio)) * 100:f}".rstrip("0").rstrip(".")
    base = "số người loại B" if quota.base == "good_only" else "số người loại A và B"
    merged(ws, 0, 0, last, f"ĐỀ XUẤT THEO TỶ LỆ LOẠI A NĂM {year}", st["title"])
    note = (
        f"Xếp loại A không quá {ratio} % {base} của từng nhóm đối tượng trong đơn vị (Nghị định "
        "335/2025/NĐ-CP), xét trên xếp loại theo điểm bình quân các kỳ. Đây là đề xuất để cấp có "
        "thẩm quyền xem xét: phần mềm không tự thay đổi xếp loại. Người loại A xếp theo điểm bình "
        "quân từ cao xuống thấp."
    )
    merged(ws, 1, 0, last, note, st["italic"])
    ws.set_row(1, 48)
    head = 3
    for i, (label, _) in enumerate(QUOTA_COLUMNS):
        ws.write_string(head, i, label, st["th"])
    ws.set_row(head, 36)
    row, stt = head + 1, 0
    for g in groups:
        state = "vượt tỷ lệ" if g.exceeded else "trong tỷ lệ"
        title = f"Đơn vị: {g.unit_name or g.unit_code} ({g.unit_code}) · nhóm {g.group or '—'}: {state}"
        merged(ws, row, 0, last, title, st["tt"])
        row += 1
        for i, (r, avg) in enumerate(g.people):
            stt += 1
            values = [stt, g.unit_name or g.unit_code, g.group, r.person_code, r.full_name, float(avg), "A",
                      g.count_a, g.count_b, g.limit, WITHIN if g.within(i) else OVER]  # fmt: skip
            for col, value in enumerate(values):
                fmt = st["td"] if col in (1, 4, 10) else st["td_c"]
                put(ws, row, col, value, fmt)
            row += 1
    if not groups:
        merged(ws, row, 0, last, "Không có người nào được xếp loại A theo điểm bình quân.", st["td_c"])
    ws.freeze_panes(head + 1, 0)
    print_setup(ws, landscape=True, repeat=(head, head))


def earlier_units(r: YearRow) -> str:
    """ "(T01–T06: Phòng Nội vụ)" for the months a person spent in units other than the last
    (SPEC §3: a unit ended during the year and its people moved to its successor)."""
    spans: list[tuple[int, int, str]] = []
    for month in sorted(r.units):
        code, name = r.units[month]
        if code == r.unit_code:
            continue
        if spans and spans[-1][2] == (name or code) and spans[-1][1] == month - 1:
            spans[-1] = (spans[-1][0], month, spans[-1][2])
        else:
            spans.append((month, month, name or code))
    parts = [f"T{a:02d}" + (f"–T{b:02d}" if b != a else "") + f": {name}" for a, b, name in spans]
    return f"({'; '.join(parts)})" if parts else ""


def _header(ws: Worksheet, st: Styles, row: int, lay: _Layout) -> None:
    columns = lay.columns
    for col in range(FIRST_MONTH):
        merged(ws, row, col, col, columns[col][0], st["th"], rows=2)
    merged(ws, row, FIRST_MONTH, FIRST_COUNT - 1, "Xếp loại từng tháng", st["th"])
    if lay.quarterly:
        merged(ws, row, FIRST_COUNT, lay.first_count - 1, "Xếp loại từng quý", st["th"])
    count_title = "Số kỳ theo xếp loại" if lay.shows_average else "Số tháng theo xếp loại"
    merged(ws, row, lay.first_count, lay.periods_col - 1, count_title, st["th"])
    for col in range(lay.periods_col, lay.last + 1):
        merged(ws, row, col, col, columns[col][0], st["th"], rows=2)
    for col in range(FIRST_MONTH, lay.periods_col):
        ws.write_string(row + 1, col, columns[col][0], st["th"])
    ws.set_row(row, 24)
    ws.set_row(row + 1, 24)


def _person(
    ws: Worksheet,
    st: Styles,
    grade_fmt: dict[str, Format],
    row: int,
    stt: int,
    r: YearRow,
    lay: _Layout,
    grading: Any,
    caps: Sequence[Any] = (),
) -> None:
    put(ws, row, 0, stt, st["td_c"])
    put(ws, row, 1, r.person_code, st["td_c"])
    put(ws, row, 2, r.full_name, st["td"])
    position = "\n".join(filter(None, [r.position_title, earlier_units(r)]))
    put(ws, row, 3, position, st["td"])
    for m in MONTHS:
        grade = r.grades.get(m, "")
        put(ws, row, FIRST_MONTH + m - 1, grade, grade_fmt.get(grade, st["td_c"]))
    if lay.quarterly:
        for q in QUARTERS:
            grade = r.quarter_grades.get(q, "")
            put(ws, row, lay.first_quarter + q - 1, grade, grade_fmt.get(grade, st["td_c"]))
    counts = grade_counts([*r.grades.values(), *r.quarter_grades.values()])
    for k, g in enumerate(GRADES):
        put(ws, row, lay.first_count + k, counts[g], st["td_int"])
    put(ws, row, lay.periods_col, sum(counts.values()), st["td_int"])
    if lay.shows_average:  # Decree 335: the year from the average score of the periods worked
        average = r.average
        put(ws, row, lay.last - 1, float(average) if average is not None else "", st["td_c"])
        band = capped(grade_for(average, grading), r.flags, caps) if average is not None else ""
        put(ws, row, lay.last, band, grade_fmt.get(band, st["td_c"]))
    fit_row(ws, row, [(r.full_name, COLUMNS[2][1]), (position, COLUMNS[3][1])], line_pt=16)
