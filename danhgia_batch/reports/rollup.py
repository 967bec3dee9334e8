"""Block, district and city roll-ups of one month (SPEC §10, letter §II.1).

Each block administrator receives the roll-up of its block: a summary sheet ("TongHop") with
the block totals, and a sheet with one row per unit ("DonVi": submitted, on time, counts and
percentages per grade, quota status, missing people), the units that have not submitted and a
chart of the grade distribution per unit. The district (or city) roll-up has the same shape
one level up: a row per block ("Khoi", with the chart), then every unit.

Expected units come from the registry; units that sent data without being in the registry
are shown too, so nothing submitted is ever hidden.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from xlsxwriter import Workbook
from xlsxwriter.worksheet import Worksheet

from ..models import PeriodView, Unit
from ..settings import Settings
from .areas import area_scope_title, area_view, root_area, select_areas
from .common import (
    GRADES,
    RANKED,
    Styles,
    atomic_workbook,
    begin_sheet,
    block_label,
    fit_height,
    merged,
    period_label,
    period_title,
    print_setup,
    put,
)
from .letterhead import Head, area_head, block_head
from .pages import AUTO_ROW_PT, PageFlow
from .paths import area_rollup_path, block_rollup_path, district_rollup_path
from .stats import Tally, UnitLine, rejected_note, unit_lines
from .summary import write_summary_sheet

TITLE = "BÁO CÁO TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI CBCCVC, LĐHĐ {period}"
CHART_COLOURS = {"A": "#2E7D32", "B": "#5B9BD5", "C": "#FFC000", "D": "#C00000", "KXL": "#A6A6A6"}


# --------------------------------------------------------------------------- table pieces


@dataclass(frozen=True)
class Col:
    label: str
    width: float
    fmt: str = "td_c"
    group: str = ""


def _grade_cols(total_label: str = "Tổng số") -> list[Col]:
    counts = [Col(g, 6.5, "td_int", "Số người theo xếp loại") for g in GRADES]
    counts.append(Col(total_label, 8, "td_int", "Số người theo xếp loại"))
    shares = [Col(f"{g}", 7.5, "td_pct", "Tỷ lệ trên số người được xếp loại (%)") for g in RANKED]
    return counts + shares


def _grade_values(t: Tally) -> list[object]:
    return [t.counts[g] for g in GRADES] + [t.people] + [t.share(g) for g in RANKED]


def _table_head(ws: Worksheet, st: Styles, row: int, cols: Sequence[Col], flow: PageFlow) -> int:
    """Two header rows: group titles over their columns, single titles merged downwards."""
    for i, c in enumerate(cols):
        ws.set_column(i, i, c.width)
    flow.set_height(row, 30)
    flow.set_height(row + 1, 30)
    i = 0
    while i < len(cols):
        c = cols[i]
        if not c.group:
            merged(ws, row, i, i, c.label, st["th"], rows=2)
            i += 1
            continue
        j = i
        while j + 1 < len(cols) and cols[j + 1].group == c.group:
            j += 1
        merged(ws, row, i, j, c.group, st["th"])
        for k in range(i, j + 1):
            ws.write_string(row + 1, k, cols[k].label, st["th"])
        i = j + 1
    return row + 2


def _row(
    ws: Worksheet, st: Styles, row: int, cols: Sequence[Col], values: Sequence[object], total: bool = False
) -> None:
    for i, (c, v) in enumerate(zip(cols, values, strict=True)):
        fmt = c.fmt
        if total:
            fmt = {"td_int": "tt_int", "td_pct": "tt_pct", "td": "tt"}.get(fmt, "tt_c")
        put(ws, row, i, v, st[fmt])


UPPER = 1.3  # unit codes are capitals: wider than the average character a width counts


def _code_width(lines: Sequence[UnitLine]) -> float:
    """Width of the unit code column: the longest code on one line (13 to 30)."""
    longest = max((len(ln.code) for ln in lines), default=0)
    return min(30.0, max(13.0, round(longest * UPPER + 1, 1)))


def _unit_cols(with_block: bool, code_width: float = 13.0) -> list[Col]:
    cols = [Col("STT", 5), Col("Mã đơn vị", code_width), Col("Tên đơn vị", 34, "td")]
    if with_block:
        cols.append(Col("Khối", 16, "td"))
    cols += [Col("Đã nộp", 8), Col("Đúng hạn", 9)]
    cols += _grade_cols()
    cols += [Col("Tỷ lệ loại A", 15), Col("Số người còn thiếu", 10, "td_int"), Col("Ghi chú", 24, "td")]
    return cols


def _unit_values(n: int, ln: UnitLine, settings: Settings, with_block: bool) -> list[object]:
    values: list[object] = [n, ln.code, ln.name]
    if with_block:
        values.append(block_label(settings, ln.block))
    if not ln.submitted:
        rejected = len(ln.view.rejected_files) if ln.view else 0
        if rejected:  # what ``danhgia status`` calls "Bị trả lại"
            values += ["Bị trả lại", ""] + [None] * 10 + ["", ln.missing, f"{rejected} tệp bị trả lại, chưa nộp lại"]
        else:
            values += ["Chưa", ""] + [None] * 10 + ["", ln.missing, "Chưa nộp danh sách"]
        return values
    notes = []
    if ln.view and ln.view.rejected_files:
        notes.append(f"{len(ln.view.rejected_files)} tệp bị từ chối")
    if ln.view and ln.view.missing_people is None:
        notes.append("Chưa có danh mục")
    values += ["Có", "Muộn" if ln.late else "Đúng hạn", *_grade_values(ln.tally)]
    values += ["Hợp lệ" if ln.valid else "Vượt tỷ lệ loại A", ln.missing, "; ".join(notes)]
    return values


def _units_sheet(
    wb: Workbook, st: Styles, settings: Settings, lines: list[UnitLine], titles: list[str], *,
    head: Head, today: date, with_block: bool, chart: bool,
) -> None:  # fmt: skip
    """Sheet "DonVi": one row per unit, a total row, the units not submitted and the chart."""
    cols = _unit_cols(with_block, _code_width(lines))
    ws, row = begin_sheet(
        wb, st, settings, "DonVi", [(c.label, c.width) for c in cols], titles,
        style=head.style, issuer=head.issuer, top=head.top, place=head.place, symbol=head.symbol,
        today=today, split=len(cols) // 2,
    )  # fmt: skip
    row += 1
    flow = _flow(ws, cols, row, head.issuer)
    row = _table_head(ws, st, row, cols, flow)
    flow.keep(row - 2, row)
    ws.freeze_panes(row, 3)
    for n, ln in enumerate(lines, start=1):
        values = _unit_values(n, ln, settings, with_block)
        height = fit_height([(ln.name, cols[2].width), (ln.code, cols[1].width / UPPER)], line_pt=16)
        row = flow.table_row(row, height or AUTO_ROW_PT, lambda r: _table_head(ws, st, r, cols, flow))
        _row(ws, st, row, cols, values)
        if not ln.valid and ln.submitted:
            ws.write_string(row, len(cols) - 3, "Vượt tỷ lệ loại A", st["td_bad"])
        if height:
            flow.set_height(row, height)
        row += 1
    total = Tally.total([ln.tally for ln in lines])
    submitted = sum(ln.submitted for ln in lines)
    lead: list[object] = ["", "", "Tổng cộng", *([""] if with_block else [])]
    missing = sum(ln.missing or 0 for ln in lines)
    row = flow.table_row(row, AUTO_ROW_PT, lambda r: _table_head(ws, st, r, cols, flow))
    _row(
        ws, st, row, cols, [*lead, f"{submitted}/{len(lines)}", "", *_grade_values(total), "", missing, ""], total=True
    )
    flow.flow(row + 1)
    row += 2
    start = row
    row = _not_submitted(ws, st, row, [ln for ln in lines if not ln.submitted], len(cols) - 1)
    flow.keep(start, row)
    end = row
    if chart and lines:
        data = [(ln.code, ln.tally) for ln in lines]
        end = _chart(wb, ws, row + 1, data, len(cols) + 1, "Cơ cấu xếp loại theo đơn vị", flow=flow)
    _finish(ws, flow, end, len(cols) - 1)


def _flow(ws: Worksheet, cols: Sequence[Col], row: int, issuer: str) -> PageFlow:
    """The sheet's pages, with the official header and titles (rows up to ``row``) placed."""
    flow = PageFlow(ws, [c.width for c in cols])
    if len(issuer) > 45:
        flow.note(1, 40)
    flow.keep(0, row)
    return flow


def _finish(ws: Worksheet, flow: PageFlow, end: int, last_col: int) -> None:
    print_setup(ws, landscape=True, fit=False)
    ws.print_area(0, 0, end, last_col)
    flow.finish()


def _not_submitted(ws: Worksheet, st: Styles, row: int, missing: list[UnitLine], last_col: int) -> int:
    merged(ws, row, 0, last_col, f"ĐƠN VỊ CHƯA NỘP DANH SÁCH ({len(missing)})", st["section"])
    row += 1
    if not missing:
        merged(ws, row, 0, last_col, "Tất cả các đơn vị đã nộp danh sách.", st["text"])
        return row + 1
    for n, ln in enumerate(missing, start=1):
        merged(ws, row, 0, last_col, f"{n}. {ln.name} ({ln.code}){rejected_note(ln)}", st["text"])
        row += 1
    return row


CHART_PT = 288 * 1.6 * 0.75  # xlsxwriter's 288-px chart at y_scale 1.6, in points


def _chart(
    wb: Workbook, ws: Worksheet, row: int, data: Sequence[tuple[str, Tally]], data_col: int, title: str, *,
    flow: PageFlow,
) -> int:  # fmt: skip
    """A percent-stacked column chart of grades per row, never split by a page break; returns
    the last row it covers.

    Its data are this sheet's own cells: a copy of the categories and grade counts in hidden
    columns from ``data_col`` on, one row each (the printed table may be interrupted by its
    header written again on a new page, which a chart must not read as a unit).
    """
    put(ws, 0, data_col, "Mã")
    for k, grade in enumerate(GRADES):
        put(ws, 0, data_col + 1 + k, grade)
    for i, (code, tally) in enumerate(data, start=1):
        put(ws, i, data_col, code)
        for k, grade in enumerate(GRADES):
            put(ws, i, data_col + 1 + k, tally.counts[grade])
    ws.set_column(data_col, data_col + len(GRADES), None, None, {"hidden": True})
    chart = wb.add_chart({"type": "column", "subtype": "percent_stacked"})
    assert chart is not None
    name, n = ws.get_name(), len(data)
    for k, grade in enumerate(GRADES):
        chart.add_series(
            {
                "name": [name, 0, data_col + 1 + k],
                "categories": [name, 1, data_col, n, data_col],
                "values": [name, 1, data_col + 1 + k, n, data_col + 1 + k],
                "fill": {"color": CHART_COLOURS[grade]},
                "gap": 60,
            }
        )
    chart.show_hidden_data()
    chart.set_title({"name": title, "name_font": {"name": "Times New Roman", "size": 13, "bold": True}})
    chart.set_y_axis(
        {"num_format": "0%", "num_font": {"name": "Times New Roman", "size": 10}, "major_gridlines": {"visible": True}}
    )
    chart.set_x_axis({"num_font": {"name": "Times New Roman", "size": 9, "rotation": -45 if n > 12 else 0}})
    chart.set_legend({"position": "bottom", "font": {"name": "Times New Roman", "size": 11}})
    flow.set_height(row, 20)
    flow.keep(row, row + 1, extra=CHART_PT)
    ws.insert_chart(row, 0, chart, {"x_scale": 2.4, "y_scale": 1.6, "object_position": 3})
    return row + 1 + math.ceil(CHART_PT / AUTO_ROW_PT)


def _today(view: PeriodView) -> date:
    return view.generated_at.date() if view.generated_at else date.today()


# --------------------------------------------------------------------------- public API


def write_block_rollup(view: PeriodView, block: str, settings: Settings) -> Path:
    """Write the roll-up of ``block`` for the block administrator and return its path.

    Args:
        view: the period across units (from the ledger); only units of ``block`` are shown.
        block: block code (``DANG``, ``CHINH_QUYEN``, ``TRUONG_HOC``…).
        settings: output folder and the names printed in the header.
    """
    path = block_rollup_path(settings, view.period, block)
    month = period_label(view.period)
    lines = unit_lines(view, settings, block)
    titles = [TITLE.format(period=period_title(view.period, upper=True)), block_label(settings, block)]
    head = block_head(view, block, settings, root_area(view))
    with atomic_workbook(path, f"Tổng hợp {block} {month}") as wb:
        st = Styles(wb)
        write_summary_sheet(wb, st, settings, view, lines, titles, today=_today(view), head=head)
        _units_sheet(wb, st, settings, lines, titles, today=_today(view), with_block=False, chart=True, head=head)
    return path


def write_area_rollups(view: PeriodView, settings: Settings, *, scope: str = "all") -> list[Path]:
    """Write the roll-up of every area of the period chosen by ``scope`` (:mod:`.areas`): each
    ward, commune, district or city of the registry; one named after ``[reports] district``
    when the registry has no levels. Returns the paths."""
    chosen = select_areas(view, scope)
    if not chosen:
        return [write_district_rollup(view, settings, scope=scope)]
    return [write_district_rollup(area_view(view, a), settings, scope=scope, area=a) for a in chosen]


def write_district_rollup(
    view: PeriodView, settings: Settings, *, scope: str = "district", area: Unit | None = None
) -> Path:
    """Write the roll-up of ``area`` (default: the registry without levels, ``[reports]``)
    across blocks and return its path.

    Sheets: "TongHop" (totals), "Khoi" (one row per block, with the chart), "DonVi" (every unit).
    """
    if area is None:
        path = district_rollup_path(settings, view.period, scope)
    else:
        path = area_rollup_path(settings, view.period, area.name)
    month = period_label(view.period)
    lines = unit_lines(view, settings)
    titles = [TITLE.format(period=period_title(view.period, upper=True)), area_scope_title(area, settings, scope)]
    head = area_head(area, view, settings)
    with atomic_workbook(path, f"Tổng hợp {area.name if area else scope} {month}") as wb:
        st = Styles(wb)
        write_summary_sheet(wb, st, settings, view, lines, titles, today=_today(view), head=head)
        _blocks_sheet(wb, st, settings, lines, titles, today=_today(view), head=head)
        _units_sheet(wb, st, settings, lines, titles, today=_today(view), with_block=True, chart=False, head=head)
    return path


def _blocks_sheet(
    wb: Workbook, st: Styles, settings: Settings, lines: list[UnitLine], titles: list[str], *,
    head: Head, today: date,
) -> None:  # fmt: skip
    """Sheet "Khoi": one row per block, a total row and the grade chart per block."""
    cols = [Col("STT", 5), Col("Mã khối", 17), Col("Khối", 26, "td"), Col("Số đơn vị", 9, "td_int"),
            Col("Đã nộp", 8, "td_int"), Col("Chưa nộp", 9, "td_int"), Col("Nộp muộn", 9, "td_int")]  # fmt: skip
    cols += _grade_cols()
    cols += [Col("Số đơn vị vượt tỷ lệ loại A", 12, "td_int"), Col("Số người còn thiếu", 10, "td_int")]
    ws, row = begin_sheet(
        wb, st, settings, "Khoi", [(c.label, c.width) for c in cols], titles,
        style=head.style, issuer=head.issuer, top=head.top, place=head.place, symbol=head.symbol,
        today=today, split=len(cols) // 2,
    )  # fmt: skip
    row += 1
    flow = _flow(ws, cols, row, head.issuer)
    row = _table_head(ws, st, row, cols, flow)
    flow.keep(row - 2, row)
    ws.freeze_panes(row, 3)
    blocks = list(dict.fromkeys([*settings.codes.codes("blocks"), *(ln.block for ln in lines)]))
    for n, block in enumerate(blocks, start=1):
        mine = [ln for ln in lines if ln.block == block]
        row = flow.table_row(row, AUTO_ROW_PT, lambda r: _table_head(ws, st, r, cols, flow))
        _row(ws, st, row, cols, [n, block, block_label(settings, block), *_block_figures(mine)])
        row += 1
    row = flow.table_row(row, AUTO_ROW_PT, lambda r: _table_head(ws, st, r, cols, flow))
    _row(ws, st, row, cols, ["", "", "Tổng cộng", *_block_figures(lines)], total=True)
    flow.flow(row + 1)
    row += 2
    data = [(block_label(settings, b), Tally.total([ln.tally for ln in lines if ln.block == b])) for b in blocks]
    end = _chart(wb, ws, row, data, len(cols) + 1, "Cơ cấu xếp loại theo khối", flow=flow)
    _finish(ws, flow, end, len(cols) - 1)


def _block_figures(lines: list[UnitLine]) -> list[object]:
    done = [ln for ln in lines if ln.submitted]
    tally = Tally.total([ln.tally for ln in lines])
    return [
        len(lines),
        len(done),
        len(lines) - len(done),
        sum(ln.late for ln in done),
        *_grade_values(tally),
        sum(not ln.valid for ln in done),
        sum(ln.missing or 0 for ln in lines),
    ]
