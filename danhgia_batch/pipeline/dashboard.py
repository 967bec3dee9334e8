"""The HTML dashboards of a period (issue 20), written with its roll-ups from the same read.

Each page is given ``StatusResult.to_dict()`` of its view, the very object ``danhgia status
--json`` prints for that period and block, so the page and the command show the same figures.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ..ledger import Ledger
from ..models import PeriodView, Unit
from ..settings import Settings

log = logging.getLogger(__name__)

TREND_PERIODS = 12  # issue 20: the trend shows the last 12 periods


def write_dashboards(
    settings: Settings,
    ledger: Ledger,
    found: dict[str | None, PeriodView],
    blocks: Sequence[str],
    scope: str = "district",
    rollups: Sequence[Path] = (),
) -> list[Path]:
    """``index.html`` of the period (``found[None]``) and of each of ``blocks``, linked to the
    ``rollups`` just written beside them; their paths."""
    from ..reports.areas import area_view
    from ..reports.dashboard import DashboardPage, write_dashboard
    from ..reports.paths import dashboard_path
    from .admin import status_from_view

    whole = found[None]
    period = whole.period
    pages: list[str | None] = [*blocks, None]  # the blocks first: the district page links to them
    subareas = _subareas(whole, "all")  # every one is a row of the top page
    chosen = {a.code for a in _subareas(whole, scope)}  # those whose own page is written now
    parts = {a.code: area_view(whole, a) for a in subareas}
    codes = {code: {u.code for u in v.expected_units} | {u.unit_code for u in v.units} for code, v in parts.items()}
    trends = ledger.trend(period, pages, TREND_PERIODS, areas={_key(a): codes[a.code] for a in subareas})
    rejected = ledger.rejected_files(period)
    written = []
    area_pages = []
    for area in subareas:  # each ward, commune or district of a city's ledger: its own page
        part = parts[area.code]
        status = status_from_view(settings, part, None).to_dict()
        area_pages.append((area, status))
        if area.code not in chosen:
            continue
        page = DashboardPage(
            status=status,
            view=part,
            trend=trends[_key(area)],
            rejected=[r for r in rejected if r.unit_code in codes[area.code]],
            blocks=[],
            rollups=list(rollups),
            scope=scope,
            area=area,
        )
        written.append(write_dashboard(page, settings))
    for block in pages:
        status = status_from_view(settings, found[block], block).to_dict()
        linked = [
            b["block"]
            for b in status["blocks"]
            if b["block"] and (b["block"] in blocks or dashboard_path(settings, period, b["block"]).is_file())
        ]
        page = DashboardPage(
            status=status,
            view=found[block],
            trend=trends[block],
            rejected=[r for r in rejected if not block or r.block == block],
            blocks=linked,
            rollups=list(rollups),
            scope=scope,
            areas=area_pages if block is None else [],
        )
        written.append(write_dashboard(page, settings))
    log.info("dashboards of %s: %s pages", period, len(written))
    return written


def _key(area: Unit) -> str:
    return f"area:{area.code}"


def _subareas(view: PeriodView, scope: str) -> list[Unit]:
    """The areas under the root of a ledger with several (a city and its wards): each gets a
    page; the root is the period's ``index.html``. None for a ward's or a district's ledger."""
    from ..reports.areas import areas_in, root_area, select_areas

    areas = areas_in(view)
    if len(areas) < 2:
        return []
    root = root_area(view)
    try:
        chosen = select_areas(view, scope)
    except ValueError:
        return []
    return [a for a in chosen if root is None or a.code != root.code]
