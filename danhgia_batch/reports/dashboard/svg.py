"""Inline SVG bar charts for the HTML dashboard (issue 20): drawn here, in Python, so the page
needs no script and no network; every chart is followed on the page by a table of its figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

ROW_H = 26
BAR_H = 18
LABEL_W = 220
BAR_W = 640
RIGHT_W = 70


@dataclass(frozen=True)
class Series:
    """One kind of segment in a stacked bar (a grade, a submission state)."""

    key: str
    label: str
    colour: str


def _fmt_pct(share: float) -> str:
    return f"{share * 100:.1f}".replace(".", ",") + "%"


def stacked_bars(
    title: str,
    series: Sequence[Series],
    rows: Sequence[tuple[str, dict[str, int]]],
    *,
    chart_id: str,
) -> str:
    """Horizontal bars, one per row, each split by ``series`` into shares of the row's total.

    Args:
        title: the chart's accessible name (also shown as its caption by the page).
        series: segment kinds, in drawing order.
        rows: (label, counts by series key); a row with no count draws an empty frame.
        chart_id: id of the ``<svg>`` (the table behind it refers to it).
    """
    height = ROW_H * len(rows) + 44
    width = LABEL_W + BAR_W + RIGHT_W
    out = [
        f'<svg id="{escape(chart_id)}" class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, counts) in enumerate(rows):
        y = 4 + i * ROW_H
        total = sum(counts.get(s.key, 0) for s in series)
        out.append(
            f'<text x="{LABEL_W - 6}" y="{y + BAR_H - 4}" text-anchor="end" class="lbl">{escape(_short(label))}</text>'
        )
        out.append(f'<rect x="{LABEL_W}" y="{y}" width="{BAR_W}" height="{BAR_H}" class="frame"/>')
        x = float(LABEL_W)
        for s in series:
            n = counts.get(s.key, 0)
            if not n or not total:
                continue
            w = BAR_W * n / total
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_H}" fill="{s.colour}">'
                f"<title>{escape(label)} – {escape(s.label)}: {n} ({_fmt_pct(n / total)})</title></rect>"
            )
            if w > 34:
                out.append(f'<text x="{x + w / 2:.1f}" y="{y + BAR_H - 4}" text-anchor="middle" class="in">{n}</text>')
            x += w
        out.append(f'<text x="{LABEL_W + BAR_W + 6}" y="{y + BAR_H - 4}" class="lbl">{total}</text>')
    out.append(_legend(series, 8 + ROW_H * len(rows)))
    out.append("</svg>")
    return "".join(out)


def _legend(series: Sequence[Series], y: int) -> str:
    parts = []
    x = LABEL_W
    for s in series:
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{s.colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{y + 11}" class="lbl">{escape(s.label)}</text>')
        x += 24 + 8 * len(s.label)
    return "".join(parts)


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
