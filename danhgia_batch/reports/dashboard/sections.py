"""The dashboard's lower sections: every unit, quota violations, missing people, the trend."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from ...settings import Settings
from ..common import GRADES, period_label
from ..paths import area_dashboard_path, commendation_path, unit_list_path
from ..stats import quota_violations
from .base import (
    GRADE_SERIES,
    STATE_LABEL,
    STATE_SERIES,
    DashboardPage,
    display_state,
    figure,
    link,
    share_a,
    state_counts,
)
from .svg import Series, stacked_bars

TREND_STATES = [
    Series("valid", "Hợp lệ", "#2E7D32"),
    Series("invalid", "Không hợp lệ", "#ED7D31"),
    Series("rejected", "Bị trả lại", "#C00000"),
    Series("missing", "Chưa nộp", "#A6A6A6"),
]


def _files(unit: dict[str, Any], page: DashboardPage, settings: Settings, here: Path) -> str:
    """Links to what the unit's clerk and leader open: its workbooks and its error workbooks."""
    period, block, code = page.status["period"], unit["block"], unit["unit_code"]
    links = []
    for path, text in (
        (unit_list_path(settings, period, block, code), "Danh sách tổng hợp"),
        (commendation_path(settings, period, block, code), "Đề nghị khen thưởng"),
    ):
        if path.is_file():
            links.append(link(path, here, text))
    for n, rf in enumerate((r for r in page.rejected if r.unit_code == code), start=1):
        report = Path(rf.error_report) if rf.error_report else None
        if report is not None and report.is_file():
            links.append(
                f'<span class="err">{link(report, here, f"Tệp báo lỗi {n}")}</span>'
                f' <span class="small">({escape(rf.name)}, {rf.arrival:%d/%m %H:%M})</span>'
            )
    return "<br>".join(links)


def units_section(page: DashboardPage, settings: Settings, here: Path) -> str:
    """One row per unit: its state, its figures and links to its workbooks."""
    with_block = page.status["block"] is None
    head = ["STT", "Mã đơn vị", "Tên đơn vị", *(["Khối"] if with_block else []), "Tình trạng", "Số người"]
    head += [*GRADES, "Số người còn thiếu", "Tệp kết quả, tệp báo lỗi"]
    rows = ["<tr>" + "".join(f'<th scope="col">{escape(h)}</th>' for h in head) + "</tr>"]
    n = 0
    for b in page.status["blocks"]:
        for u in b["units"]:
            n += 1
            state = display_state(u)
            note = " (nộp muộn)" if u["state"] == "invalid" and u["on_time"] is False else ""
            missing = "" if u["missing_people"] is None else str(u["missing_people"])
            cells = [
                f'<td class="n">{n}</td>',
                f'<td class="code">{escape(u["unit_code"])}</td>',
                f'<th scope="row">{escape(u["unit_name"])}</th>',
                f"<td>{escape(b['label'] or b['block'])}</td>" if with_block else "",
                f'<td class="st st-{state}" data-state="{escape(u["state"])}">{escape(STATE_LABEL[state] + note)}</td>',
                f'<td class="n" data-people>{u["people"]}</td>',
                *(f'<td class="n" data-grade="{g}">{u["grades"][g]}</td>' for g in GRADES),
                f'<td class="n" data-missing>{missing}</td>',
                f"<td>{_files(u, page, settings, here)}</td>",
            ]
            on_time = "" if u["on_time"] is None else str(u["on_time"]).lower()
            rows.append(
                f'<tr data-unit="{escape(u["unit_code"])}" data-block="{escape(u["block"])}" '
                f'data-on-time="{on_time}">' + "".join(cells) + "</tr>"
            )
    return (
        '<section id="don-vi"><h2>Tình hình nộp của từng đơn vị</h2>'
        '<table id="tbl-don-vi" class="data units"><caption>Tình hình nộp, kết quả xếp loại và tệp của từng đơn vị'
        "</caption>" + "".join(rows) + "</table></section>"
    )


def quota_section(page: DashboardPage) -> str:
    """Lists recorded as invalid for exceeding the A-quota (letter §2.5.a), with the finding."""
    rows = []
    for u in page.view.units:
        for lst in u.lists:
            for issue in quota_violations(lst):
                rows.append(
                    f'<tr data-unit="{escape(u.unit_code)}"><td class="code">{escape(u.unit_code)}</td>'
                    f"<td>{escape(u.unit_name)}</td><td>{escape(lst.file_name)}</td>"
                    f"<td>{escape(issue.message)}</td></tr>"
                )
    if not rows:
        return (
            '<section id="vi-pham"><h2>Vi phạm tỷ lệ loại A</h2><p>Không có danh sách vượt tỷ lệ loại A.</p></section>'
        )
    head = "".join(f'<th scope="col">{h}</th>' for h in ("Mã đơn vị", "Tên đơn vị", "Tệp", "Nội dung vi phạm"))
    return (
        '<section id="vi-pham"><h2>Vi phạm tỷ lệ loại A</h2>'
        f'<table id="tbl-vi-pham" class="data"><caption>Danh sách vượt tỷ lệ loại A ({len(rows)})</caption>'
        f"<tr>{head}</tr>{''.join(rows)}</table></section>"
    )


def missing_section(page: DashboardPage) -> str:
    """People of the registry that no list of their unit covers (SPEC §3), in units that sent
    lists: a unit that sent nothing valid is shown whole by its state, not name by name."""
    rows = []
    for u in page.view.units:
        for p in (u.missing_people or []) if u.lists else []:
            rows.append(
                f'<tr data-unit="{escape(u.unit_code)}"><td class="code">{escape(u.unit_code)}</td>'
                f'<td>{escape(u.unit_name)}</td><td class="code">{escape(p.code)}</td>'
                f"<td>{escape(p.full_name)}</td><td>{escape(p.position_title)}</td></tr>"
            )
    title = "<h2>Người còn thiếu trong danh sách</h2>"
    if not rows:
        text = "Các đơn vị đã nộp có danh sách đủ so với danh mục cán bộ."
        if not page.status["has_registry"]:
            text = "Chưa có danh mục cán bộ: chưa kiểm tra được người còn thiếu."
        return f'<section id="con-thieu">{title}<p>{text}</p></section>'
    head = "".join(
        f'<th scope="col">{h}</th>' for h in ("Mã đơn vị", "Tên đơn vị", "Mã cán bộ", "Họ và tên", "Chức vụ")
    )
    return (
        f'<section id="con-thieu">{title}<table id="tbl-con-thieu" class="data">'
        f"<caption>Người có trong danh mục nhưng chưa có trong danh sách đơn vị đã nộp ({len(rows)}; "
        "đơn vị chưa nộp hoặc bị trả lại xem ở bảng từng đơn vị)</caption>"
        f"<tr>{head}</tr>{''.join(rows)}</table></section>"
    )


def trend_section(page: DashboardPage) -> str:
    """The last periods (up to 12): unit states and grades per month, two charts and one table."""
    points = page.trend
    grade_chart = stacked_bars(
        "Cơ cấu xếp loại qua các kỳ",
        GRADE_SERIES,
        [(period_label(p.period), p.grades) for p in points],
        chart_id="chart-xu-huong-xep-loai",
    )
    state_chart = stacked_bars(
        "Tình hình nộp qua các kỳ",
        TREND_STATES,
        [(period_label(p.period), p.states) for p in points],
        chart_id="chart-xu-huong-nop",
    )
    head = ["Kỳ", *(s.label for s in TREND_STATES), "Nộp muộn", *GRADES]
    rows = ["<tr>" + "".join(f'<th scope="col">{escape(h)}</th>' for h in head) + "</tr>"]
    for p in points:
        cells = "".join(f'<td class="n" data-state="{s.key}">{p.states.get(s.key, 0)}</td>' for s in TREND_STATES)
        cells += f'<td class="n" data-late>{p.late}</td>'
        cells += "".join(f'<td class="n" data-grade="{g}">{p.grades.get(g, 0)}</td>' for g in GRADES)
        rows.append(f'<tr data-period="{escape(p.period)}"><th scope="row">{period_label(p.period)}</th>{cells}</tr>')
    return (
        f'<section id="xu-huong"><h2>Xu hướng {len(points)} kỳ gần nhất</h2>'
        f'<figure class="chart-box"><figcaption>Tình hình nộp qua các kỳ (số đơn vị)</figcaption>{state_chart}</figure>'
        + figure("Cơ cấu xếp loại qua các kỳ (số người)", grade_chart, rows, "tbl-xu-huong")
        + "</section>"
    )


def areas_section(page: DashboardPage, settings: Settings, here: Path) -> str:
    """The top page of a city's ledger: one row per ward, commune or district, linked to its own
    page, with its submission states and its share of A (from each area's status object)."""
    head = '<tr><th scope="col">Đơn vị hành chính</th><th scope="col">Số đơn vị</th>'
    head += "".join(f'<th scope="col">{escape(st.label)}</th>' for st in STATE_SERIES)
    rows = [head + '<th scope="col">Số người</th><th scope="col">Tỷ lệ loại A</th></tr>']
    for area, status in page.areas:
        units = [u for b in status["blocks"] for u in b["units"]]
        counts = state_counts(units)
        grades = dict.fromkeys(GRADES, 0)
        for b in status["blocks"]:
            for g in GRADES:
                grades[g] += b["grades"][g]
        target = area_dashboard_path(settings, page.status["period"], area.name)
        cells = "".join(f'<td class="n" data-state="{k}">{counts[k]}</td>' for k in STATE_LABEL)
        rows.append(
            f'<tr data-area="{escape(area.code)}"><th scope="row">{link(target, here, area.name)}</th>'
            f'<td class="n" data-units>{len(units)}</td>{cells}'
            f'<td class="n">{sum(u["people"] for u in units)}</td><td class="n">{share_a(grades)}</td></tr>'
        )
    return (
        '<section id="theo-dia-ban"><h2>Tình hình theo phường, xã</h2>'
        f'<table id="tbl-dia-ban" class="data"><caption>Mỗi phường, xã có trang riêng</caption>{"".join(rows)}</table>'
        "</section>"
    )
