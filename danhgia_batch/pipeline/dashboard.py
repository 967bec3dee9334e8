"""The HTML dashboards of a period (issue 20), written with its roll-ups from the same read.

Each page is given ``StatusResult.to_dict()`` of its view, the very object ``danhgia status
--json`` prints for that period and block, so the page and the command show the same figures.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ..ledger import Ledger
from ..models import PeriodView
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
    from ..reports.dashboard import DashboardPage, write_dashboard
    from ..reports.paths import dashboard_path
    from .admin import status_from_view

    whole = found[None]
    period = whole.period
    pages: list[str | None] = [*blocks, None]  # the blocks first: the district page links to them
    trends = ledger.trend(period, pages, TREND_PERIODS)
    rejected = ledger.rejected_files(period)
    written = []
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
        )
        written.append(write_dashboard(page, settings))
    log.info("dashboards of %s: %s pages", period, len(written))
    return written
