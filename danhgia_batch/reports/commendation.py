"""Danh sách đề nghị khen thưởng of one unit and month (letter §2.6, SPEC §10).

People whose final grade is one of ``reports.commendation_grades`` (default A), from the
unit's valid lists only, best final score first. A list that exceeds the A-quota is invalid
(letter §2.5.a, SPEC §6): none of its people is proposed; the workbook says which group,
how many A and the maximum, and that a corrected file is awaited.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from xlsxwriter.worksheet import Worksheet

from ..models import EvaluationRow, ListView, UnitView
from ..rules import scope_label
from ..settings import Settings
from .common import (
    CATEGORY_SHORT,
    Styles,
    atomic_workbook,
    begin_sheet,
    fit_row,
    merged,
    period_label,
    period_title,
    print_setup,
    put,
    signatures,
    table_header,
)
from .letterhead import unit_head
from .paths import commendation_path
from .stats import decider_text, given_name_key, position_rank, position_text, quota_lines, quota_violations

COLUMNS: list[tuple[str, float]] = [
    ("STT", 6),
    ("Họ và tên", 28),
    ("Chức vụ", 32),
    ("Đối tượng", 11),
    ("Điểm cấp có thẩm quyền", 13),
    ("Xếp loại", 10),
    ("Mức xếp loại", 32),
]
LAST = len(COLUMNS) - 1


def commended_rows(view: UnitView, settings: Settings) -> list[EvaluationRow]:
    """The people proposed: commendable grade, valid list, by final score then position, name."""
    grades = set(settings.reports.commendation_grades)
    rows = [r for lst in view.lists if lst.status == "valid" for r in lst.rows if r.final_grade in grades]
    return sorted(
        rows,
        key=lambda r: (
            -(r.final_total if r.final_total is not None else Decimal(0)),
            position_rank(settings, r.position_code),
            given_name_key(r.full_name),
        ),
    )


def write_commendation(view: UnitView, settings: Settings, *, today: date | None = None) -> Path:
    """Write ``de_nghi_khen_thuong_<unit>_<yyyy-mm>.xlsx`` and return its path."""
    path = commendation_path(settings, view.period, view.block, view.unit_code)
    month = period_label(view.period)
    with atomic_workbook(path, f"Danh sách đề nghị khen thưởng {view.unit_code} {month}") as wb:
        st = Styles(wb)
        titles = [
            "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG",
            f"Kết quả đánh giá, xếp loại CBCCVC, LĐHĐ {period_title(view.period)}",
            f"Đơn vị: {view.unit_name or view.unit_code}",
        ]
        head = unit_head(view, settings)
        ws, row = begin_sheet(
            wb, st, settings, "KhenThuong", COLUMNS, titles,
            style=head.style, issuer=head.issuer, top=head.top, place=head.place, today=today,
        )  # fmt: skip
        row += 1
        header_row = row
        row = table_header(ws, st, row, COLUMNS)
        ws.freeze_panes(row, 0)
        rows = commended_rows(view, settings)
        for stt, r in enumerate(rows, start=1):
            values = [
                (stt, "td_c"),
                (r.full_name, "td"),
                (position_text(settings, r), "td"),
                (CATEGORY_SHORT.get(r.category, r.category), "td_c"),
                (r.final_total, "td_num"),
                (r.final_grade, "td_c"),
                (settings.codes.label("grades", r.final_grade), "td"),
            ]
            for col, (value, fmt) in enumerate(values):
                put(ws, row, col, value, st[fmt])
            fit_row(ws, row, [(str(values[c][0]), COLUMNS[c][1]) for c in (1, 2)], line_pt=16)
            row += 1
        if not rows:
            merged(ws, row, 0, LAST, "Không có người đủ điều kiện đề nghị khen thưởng.", st["td_c"])
            row += 1
        row += 1
        merged(ws, row, 0, LAST, f"Tổng số: {len(rows)} người.", st["bold"])
        row += 1
        row = _withheld(ws, st, settings, view, row + 1)
        prepared = next((lst.header.prepared_by for lst in view.lists if lst.header.prepared_by), "")
        signatures(
            ws, st, row + 1, left=(2, 3), right=(4, LAST), left_name=prepared, right_name=head.name,
            right_title=head.title, authority=head.authority, recipients=head.recipients, recipients_at=(0, 1),
            recipients_width=COLUMNS[0][1] + COLUMNS[1][1],
        )  # fmt: skip
        print_setup(ws, landscape=True, repeat=(header_row, header_row + 1))
    return path


def withheld_reasons(lst: ListView, settings: Settings) -> list[str]:
    """Why a quota-invalid list proposes nobody: group, count of A and the maximum."""
    reasons = [
        f"nhóm '{scope_label(settings.codes, q.group)}' có {q.count_a} người loại A, vượt mức tối đa {q.limit} người"
        for q in quota_lines(lst, settings)
        if not q.ok
    ]
    if not reasons:  # the rules changed since the list was recorded: show what was recorded
        reasons = [i.message for i in quota_violations(lst)] or ["danh sách chưa hợp lệ"]
    return reasons


def _withheld(ws: Worksheet, st: Styles, settings: Settings, view: UnitView, row: int) -> int:
    invalid = [lst for lst in view.lists if lst.status != "valid"]
    if not invalid:
        return row
    merged(ws, row, 0, LAST, "DANH SÁCH CHƯA ĐỦ ĐIỀU KIỆN ĐỀ NGHỊ KHEN THƯỞNG", st["section"])
    row += 1
    width = sum(w for _, w in COLUMNS)
    for lst in invalid:
        text = (
            f"- Danh sách do {decider_text(settings, lst)} quyết định (tệp {lst.file_name}) vượt tỷ lệ loại A: "
            + "; ".join(withheld_reasons(lst, settings))
            + ". Chưa đề nghị khen thưởng cho danh sách này; đang chờ đơn vị gửi tệp đã sửa."
        )
        merged(ws, row, 0, LAST, text, st["note"])
        fit_row(ws, row, [(text, width)], line_pt=17)
        row += 1
    return row
