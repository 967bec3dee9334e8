"""Pieces shared by the dashboard's sections: the page's data, the series, links, figures."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ...models import PeriodView, RejectedFile, TrendPoint, Unit
from .svg import Series

GRADE_SERIES = [
    Series("A", "Loại A", "#2E7D32"),
    Series("B", "Loại B", "#5B9BD5"),
    Series("C", "Loại C", "#FFC000"),
    Series("D", "Loại D", "#C00000"),
    Series("KXL", "Không xếp loại", "#A6A6A6"),
]
# what a leader asks of a unit: sent on time, late, sent but invalid, sent but rejected, nothing
STATE_SERIES = [
    Series("on_time", "Đúng hạn", "#2E7D32"),
    Series("late", "Nộp muộn", "#8FAADC"),
    Series("invalid", "Không hợp lệ", "#ED7D31"),
    Series("rejected", "Bị trả lại", "#C00000"),
    Series("missing", "Chưa nộp", "#A6A6A6"),
]
STATE_LABEL = {s.key: s.label for s in STATE_SERIES}


@dataclass
class DashboardPage:
    """What one dashboard page shows; built by ``pipeline.dashboard`` from one read.

    ``status`` is ``StatusResult.to_dict()`` of the same view: the object ``status --json``
    prints, so the page and the command cannot disagree.
    """

    status: dict[str, Any]
    view: PeriodView
    trend: list[TrendPoint]
    rejected: list[RejectedFile]
    blocks: list[str]  # block codes that have a page of their own (navigation)
    rollups: list[Path] = field(default_factory=list)  # roll-up workbooks written with it (links)
    scope: str = "district"
    generated_at: datetime = field(default_factory=datetime.now)
    area: Unit | None = None  # a ward, commune or district of a city's ledger: the page is its own
    # the top page of a city's ledger: (area, its status dict) of each area with a page of its own
    areas: list[tuple[Unit, dict[str, Any]]] = field(default_factory=list)


def display_state(unit: dict[str, Any]) -> str:
    """The state a leader reads: valid lists split into on time and late."""
    if unit["state"] == "valid":
        return "on_time" if unit["on_time"] else "late"
    return str(unit["state"])


def href(target: Path, here: Path) -> str:
    """A relative URL from the folder ``here`` to ``target`` (works on a share and from file://)."""
    rel = os.path.relpath(target, here)
    return "/".join(quote(part) for part in Path(rel).parts)


def link(target: Path, here: Path, text: str) -> str:
    return f'<a href="{escape(href(target, here))}">{escape(text)}</a>'


def state_counts(units: Sequence[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(STATE_LABEL, 0)
    for u in units:
        counts[display_state(u)] += 1
    return counts


def share_a(grades: dict[str, int]) -> str:
    ranked = sum(grades[g] for g in ("A", "B", "C", "D"))
    return f"{grades['A'] * 100 / ranked:.1f}%".replace(".", ",") if ranked else "–"


def figure(caption: str, svg: str, rows: list[str], table_id: str) -> str:
    return (
        f'<figure class="chart-box"><figcaption>{escape(caption)}</figcaption>{svg}</figure>'
        f'<table id="{table_id}" class="data"><caption>Số liệu của biểu đồ: {escape(caption)}</caption>'
        + "".join(rows)
        + "</table>"
    )
