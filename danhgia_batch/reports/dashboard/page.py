"""The HTML dashboard of a period (issue 20): ``outbox/<YYYY-MM>/index.html`` for the district
(or city) and ``outbox/<YYYY-MM>/<KHOI>/index.html`` for each block, written with the roll-ups.

One static, self-contained page: CSS and SVG inline, no script, no network, relative links
only, so it opens from the SMB share in any browser and prints. Its figures are the
``danhgia status --json`` object of the same view (``status``), never recounted here; the page
only adds what a leader reads beside them: links to the unit workbooks and error workbooks,
quota violations, the people missing from the lists and the trend of the last periods.

Everything that came from a clerk's file (unit and person names, file names, messages) is
escaped: the page must never run or show markup a unit typed into a cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from ...atomic import atomic_write_text
from ...settings import Settings
from ..areas import root_area
from ..common import GRADES, block_label, period_title
from ..paths import area_dashboard_path, dashboard_path
from .base import GRADE_SERIES, STATE_LABEL, STATE_SERIES, DashboardPage, figure, link, share_a, state_counts
from .sections import areas_section, missing_section, quota_section, trend_section, units_section
from .style import CSS
from .svg import stacked_bars


def write_dashboard(page: DashboardPage, settings: Settings) -> Path:
    """Write the page of ``page.status["block"]`` (``None``: the district) and return its path."""
    period, block = page.status["period"], page.status["block"]
    path = page_path(page, settings)
    here = path.parent
    title = f"Theo dõi đánh giá, xếp loại {period_title(period)} – {_where(page, settings)}"
    body = [
        _header(page, settings, title, here),
        _overview(page),
        areas_section(page, settings, here) if page.areas else "",
        _blocks_section(page, settings) if block is None else "",
        trend_section(page),
        quota_section(page),
        missing_section(page),
        units_section(page, settings, here),  # the long table last: a leader reads problems first
    ]
    html = (
        '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(p for p in body if p)
        + "\n</body>\n</html>\n"
    )
    return atomic_write_text(path, html)


def page_path(page: DashboardPage, settings: Settings) -> Path:
    """Where ``page`` is written: an area's page beside its roll-up, else ``index.html``."""
    period = page.status["period"]
    if page.area is not None:
        return area_dashboard_path(settings, period, page.area.name)
    return dashboard_path(settings, period, page.status["block"])


def _where(page: DashboardPage, settings: Settings) -> str:
    block = page.status["block"]
    if page.area is not None:
        return page.area.name
    if block:
        return block_label(settings, block)
    root = root_area(page.view)  # the ward or city of the registry, by its own name (issue 16)
    if root is not None:
        return f"Toàn {root.name}"
    return "Toàn thành phố" if page.scope == "city" else f"Toàn {settings.reports.district.title()}"


def _header(page: DashboardPage, settings: Settings, title: str, here: Path) -> str:
    period, block = page.status["period"], page.status["block"]
    state = "Đã công khai (kỳ đang khóa)" if page.status["locked"] else "Chưa công khai"
    nav = []
    if block or page.area is not None:
        nav.append(link(dashboard_path(settings, period, None), here, "← Toàn bộ"))
    else:
        nav += [link(dashboard_path(settings, period, b), here, block_label(settings, b)) for b in page.blocks]
    if page.area is not None:  # its own roll-up only
        mine = page_path(page, settings)
        books = [p for p in page.rollups if p.with_suffix(".html") == mine]
    else:  # this page's own roll-up workbooks (an area with a page of its own is linked from its row)
        own = {area_dashboard_path(settings, period, a.name).with_suffix(".xlsx") for a, _ in page.areas}
        books = [p for p in page.rollups if p.parent == here and p not in own]
    for book in books:
        what = "khối" if block else (book.stem if len(books) > 1 else "")
        nav.append(link(book, here, " ".join(["Bảng tổng hợp", what, "(Excel)"]).replace("  ", " ")))
    registry = "" if page.status["has_registry"] else '<p class="warn">Chưa nạp danh mục đơn vị, cán bộ (mẫu 00).</p>'
    return (
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="meta">Tình trạng kỳ: <strong id="period-state">{escape(state)}</strong> · '
        f"Cập nhật lúc {page.generated_at:%H:%M ngày %d/%m/%Y}</p>{registry}"
        f'<nav aria-label="Liên kết">{" · ".join(nav)}</nav></header>'
    )


def _units(page: DashboardPage) -> list[dict[str, Any]]:
    return [u for b in page.status["blocks"] for u in b["units"]]


def _overview(page: DashboardPage) -> str:
    units = _units(page)
    counts = state_counts(units)
    people = sum(u["people"] for u in units)
    cards = [("units", "Số đơn vị", len(units)), ("people", "Số người được đánh giá", people)]
    cards += [(k, STATE_LABEL[k], counts[k]) for k in STATE_LABEL]
    items = "".join(
        f'<div class="card card-{k}"><span class="num" data-overview="{k}">{n}</span>'
        f'<span class="cap">{escape(label)}</span></div>'
        for k, label, n in cards
    )
    return f'<section id="tong-quan"><h2>Tổng quan</h2><div class="cards">{items}</div></section>'


def _blocks_section(page: DashboardPage, settings: Settings) -> str:
    """Submission states and grades per block (district page only): two charts, two tables."""
    blocks = page.status["blocks"]
    state_rows = [(b["label"] or b["block"], state_counts(b["units"])) for b in blocks]
    grade_rows = [(b["label"] or b["block"], b["grades"]) for b in blocks]
    head = '<tr><th scope="col">Khối</th><th scope="col">Số đơn vị</th>'
    state_table = [head + "".join(f'<th scope="col">{escape(s.label)}</th>' for s in STATE_SERIES) + "</tr>"]
    for b in blocks:
        counts = state_counts(b["units"])
        cells = "".join(f'<td class="n" data-state="{k}">{counts[k]}</td>' for k in STATE_LABEL)
        state_table.append(
            f'<tr data-block="{escape(b["block"])}"><th scope="row">{escape(b["label"] or b["block"])}</th>'
            f'<td class="n" data-units>{len(b["units"])}</td>{cells}</tr>'
        )
    return (
        '<section id="theo-khoi"><h2>Tình hình nộp và xếp loại theo khối</h2>'
        + figure("Tình hình nộp theo khối", stacked_bars("Tình hình nộp theo khối", STATE_SERIES, state_rows,
                                                           chart_id="chart-nop-khoi"), state_table, "tbl-nop-khoi")
        + figure("Cơ cấu xếp loại theo khối", stacked_bars("Cơ cấu xếp loại theo khối", GRADE_SERIES, grade_rows,
                                                             chart_id="chart-xep-loai-khoi"),
                  _grade_table(blocks), "tbl-xep-loai-khoi")
        + "</section>"
    )  # fmt: skip


def _grade_table(blocks: Sequence[dict[str, Any]]) -> list[str]:
    rows = ['<tr><th scope="col">Khối</th>' + "".join(f'<th scope="col">{g}</th>' for g in GRADES)]
    rows[0] += '<th scope="col">Tổng số</th><th scope="col">Tỷ lệ loại A</th></tr>'
    for b in blocks:
        g = b["grades"]
        cells = "".join(f'<td class="n" data-grade="{k}">{g[k]}</td>' for k in GRADES)
        rows.append(
            f'<tr data-block="{escape(b["block"])}"><th scope="row">{escape(b["label"] or b["block"])}</th>'
            f'{cells}<td class="n">{sum(g.values())}</td><td class="n">{share_a(g)}</td></tr>'
        )
    return rows
