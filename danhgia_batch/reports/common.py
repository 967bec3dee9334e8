"""Shared pieces of every output workbook: safe options, formats, official header, print setup.

Outputs are official documents a district office prints and signs (letter §2.6), so every
workbook gets the same look: Times New Roman, the official header of its block, a bold merged
title, bordered tables, A4 print setup with repeated header rows and "Trang x/y" footers.

Input text (names, notes, titles) is never interpreted: the workbook is created with
``strings_to_formulas``/``strings_to_urls``/``strings_to_numbers`` off and every piece of
input text goes through :func:`put` → ``write_string`` (SPEC §10: a name starting with "="
stays text). Files are written to a temp file in the target folder and renamed into place
(:func:`atomic_path`), so a crash never leaves a half-written report (SPEC §9).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from .. import periods
from ..atomic import atomic_path
from ..settings import Settings

FONT = "Times New Roman"
XLSX_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "in_memory": True,  # no per-part temp files: much faster on slow or network disks
    "default_format_properties": {"font_name": FONT, "font_size": 13},
    "default_row_height": 23,
}
GRADES = ("A", "B", "C", "D", "KXL")
RANKED = ("A", "B", "C", "D")
CATEGORY_SHORT = {"CBCC": "CBCC", "VC": "VC", "KCT": "KCT", "LDHD": "LĐHĐ"}
FOOTER = '&C&"Times New Roman"&11Trang &P/&N'


# --------------------------------------------------------------------------- files


def slug(text: str) -> str:
    """ASCII file-name slug: "Trường THCS Ái Mộ" → "truong_thcs_ai_mo"."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "x"


def safe_code(code: str) -> str:
    """A code usable as a folder name: kept as is when it is plain ASCII, else slugged."""
    return code if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", code) else slug(code).upper()


@contextmanager
def atomic_workbook(path: Path, title: str = "") -> Iterator[Workbook]:
    """An xlsxwriter workbook with the safe options, written atomically to ``path``."""
    with atomic_path(path) as tmp:
        # a fresh copy: xlsxwriter writes into default_format_properties, and a shared dict made
        # every workbook after a process's first one differ from it (font scheme of the default font)
        options = {**XLSX_OPTIONS, "default_format_properties": dict(XLSX_OPTIONS["default_format_properties"])}
        wb = Workbook(str(tmp), options)
        wb.set_properties({"title": title, "author": "danhgia_batch", "comments": "Tạo tự động bởi danhgia_batch"})
        try:
            yield wb
        finally:
            wb.close()


# --------------------------------------------------------------------------- formats


class Styles:
    """The formats of one workbook, by name (``st["th"]``, ``st["td_c"]``…)."""

    def __init__(self, wb: Workbook, table_size: int = 12) -> None:
        base: dict[str, Any] = {"font_name": FONT, "font_size": 13, "valign": "vcenter"}
        cell = {**base, "font_size": table_size, "border": 1, "text_wrap": True}
        specs: dict[str, dict[str, Any]] = {
            "text": {**base},
            "wrap": {**base, "text_wrap": True},
            "bold": {**base, "bold": True},
            "italic": {**base, "italic": True},
            "center": {**base, "align": "center"},
            "center_bold": {**base, "align": "center", "bold": True, "text_wrap": True},
            "center_bold_u": {**base, "align": "center", "bold": True, "underline": 1},
            "center_italic": {**base, "align": "center", "italic": True, "text_wrap": True},
            "right_italic": {**base, "align": "right", "italic": True},
            "title": {**base, "align": "center", "bold": True, "font_size": 14, "text_wrap": True},
            "subtitle": {**base, "align": "center", "bold": True, "text_wrap": True},
            "section": {**base, "bold": True},
            "alert": {**base, "bold": True, "font_color": "#C00000", "text_wrap": True, "align": "center"},
            "note": {**base, "font_size": table_size, "text_wrap": True, "valign": "top"},
            "recv_head": {**base, "font_size": 12, "bold": True, "italic": True, "valign": "top"},
            "recv": {**base, "font_size": 11, "valign": "top", "text_wrap": True},
            "number": {**base, "align": "center", "font_size": 13},
            "th": {**cell, "bold": True, "align": "center", "bg_color": "#DDEBF7"},
            "th_small": {**cell, "bold": True, "italic": True, "align": "center", "font_size": table_size - 1},
            "td": {**cell, "indent": 1},
            "td_c": {**cell, "align": "center"},
            "td_num": {**cell, "align": "center", "num_format": "0.##;-0.##;0"},
            "td_int": {**cell, "align": "center", "num_format": "0"},
            "td_pct": {**cell, "align": "center", "num_format": "0.0%"},
            "td_bad": {**cell, "align": "center", "bold": True, "font_color": "#C00000"},
            "td_ok": {**cell, "align": "center"},
            "td_group": {**cell, "bold": True, "bg_color": "#F2F2F2", "indent": 1},
            "tt": {**cell, "bold": True, "bg_color": "#F2F2F2", "indent": 1},
            "tt_c": {**cell, "bold": True, "align": "center", "bg_color": "#F2F2F2"},
            "tt_int": {**cell, "bold": True, "align": "center", "num_format": "0", "bg_color": "#F2F2F2"},
            "tt_pct": {**cell, "bold": True, "align": "center", "num_format": "0.0%", "bg_color": "#F2F2F2"},
        }
        self._wb = wb
        self._specs = specs
        self._formats: dict[str, Format] = {}

    def __getitem__(self, name: str) -> Format:
        """The format ``name``, added to the workbook when first used (a workbook uses about
        half of them; unused formats were never written to the file anyway)."""
        fmt = self._formats.get(name)
        if fmt is None:
            fmt = self._formats[name] = self._wb.add_format(self._specs[name])
        return fmt


def put(ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None) -> None:
    """Write one value with the right typed writer; text always as a plain string."""
    kind = type(value)
    if kind is str:  # the common case first
        if value:
            ws.write_string(row, col, value, fmt)
        else:
            ws.write_blank(row, col, None, fmt)
    elif value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "Có" if value else "Không", fmt)
    elif isinstance(value, Decimal | int | float):
        ws.write_number(row, col, float(value), fmt)
    elif isinstance(value, datetime | date):
        ws.write_string(row, col, value.strftime("%d/%m/%Y"), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def merged(ws: Worksheet, row: int, first: int, last: int, text: str, fmt: Format, *, rows: int = 1) -> None:
    """A merged cell holding ``text`` written as a string (never parsed)."""
    if last > first or rows > 1:
        ws.merge_range(row, first, row + rows - 1, last, "", fmt)
    if text:
        ws.write_string(row, first, text, fmt)
    else:
        ws.write_blank(row, first, None, fmt)


def percent(count: int, total: int) -> float | None:
    """Share of ``count`` in ``total`` (0..1), or ``None`` when nothing is ranked."""
    return count / total if total else None


def lines_needed(text: str, width: float) -> int:
    """Rough number of wrapped lines of ``text`` in a column ``width`` characters wide."""
    if not text:
        return 1
    per_line = max(1.0, width * 1.05)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def fit_height(cells: Sequence[tuple[str, float]], *, line_pt: float = 16.5) -> float | None:
    """The height a row needs so that every (text, column width) pair fits when wrapped
    (``None``: one line, the automatic height)."""
    n = max((lines_needed(t, w) for t, w in cells), default=1)
    return n * line_pt + 3 if n > 1 else None


def fit_row(ws: Worksheet, row: int, cells: Sequence[tuple[str, float]], *, line_pt: float = 16.5) -> float | None:
    """Set the height of ``row`` so that every (text, column width) pair fits when wrapped;
    returns the height set (``None``: left automatic)."""
    height = fit_height(cells, line_pt=line_pt)
    if height is not None:
        ws.set_row(row, height)
    return height


def period_label(period: str) -> str:
    """Period "2022-01" → "01/2022", "2026-Q1" → "I/2026" (templates and reports show MM/YYYY)."""
    return periods.period_label(period)


def period_title(period: str, *, upper: bool = False) -> str:
    """ "tháng 01/2022" / "quý I/2026" (``upper``: "THÁNG 01/2022" / "QUÝ I/2026")."""
    return periods.period_title(period, upper=upper)


def date_line(settings: Settings, when: date | None = None, place: str = "") -> str:
    """The place and date line of official papers: "Long Biên, ngày 05 tháng 02 năm 2022"
    (``place`` from the registry, else ``[reports] place``)."""
    d = when or date.today()
    return f"{place or settings.reports.place}, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"


def number_line(style: str, symbol: str) -> str:
    """The document number line, its number left for the clerk's register (Decree 30/2020
    Appendix I: "Số: …/DS-…"; Hướng dẫn 36-HD/VPTW: "Số …-DS/…")."""
    return f"Số         -{symbol}/" if style == "party" else f"Số:         /{symbol}-"


def block_label(settings: Settings, block: str) -> str:
    return settings.codes.label("blocks", block)


def header_style(settings: Settings, block: str) -> str:
    """``party`` or ``state``: the official header of ``block`` (codes.toml, SPEC §10)."""
    for code in settings.codes.blocks:
        if code.code == block:
            return str(code.extra.get("header", "state"))
    return "state"


def official_header(
    ws: Worksheet,
    st: Styles,
    settings: Settings,
    *,
    style: str,
    issuer: str,
    last_col: int,
    split: int,
    when: date | None = None,
    top: str | None = None,
    place: str = "",
    symbol: str = "DS",
) -> int:
    """Write the two-sided official header in rows 0..3 and return the next free row.

    ``split`` is the first column of the right-hand side. Party papers (letter 528-CV/QU
    itself): "ĐẢNG BỘ …" over the issuing body, "ĐẢNG CỘNG SẢN VIỆT NAM" on the right.
    State papers: district over the unit, the national motto on the right.
    """
    first = settings.reports.party_committee if style == "party" else f"UBND {settings.reports.district}"
    if top is not None:
        first = top
    left = [(first.upper(), "center")] if first else []
    left += [(issuer.upper(), "center_bold"), ("*" if style == "party" else "", "center")]
    left += [("", "center")] * (3 - len(left))
    if style == "party":
        right = [("ĐẢNG CỘNG SẢN VIỆT NAM", "center_bold_u"), ("", "center"), ("", "center")]
    else:
        right = [
            ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "center_bold"),
            ("Độc lập - Tự do - Hạnh phúc", "center_bold_u"),
            ("", "center"),
        ]
    for i, ((ltext, lfmt), (rtext, rfmt)) in enumerate(zip(left, right, strict=True)):
        merged(ws, i, 0, split - 1, ltext, st[lfmt])
        merged(ws, i, split, last_col, rtext, st[rfmt])
    if len(issuer) > 45:
        ws.set_row(1, 40)
    merged(ws, 3, 0, split - 1, number_line(style, symbol), st["number"])
    merged(ws, 3, split, last_col, date_line(settings, when, place), st["center_italic"])
    return 5


def print_setup(
    ws: Worksheet,
    *,
    landscape: bool = True,
    repeat: tuple[int, int] | None = None,
    fit: bool = True,
) -> None:
    """A4, margins, fit to one page wide (``fit``; else a :class:`~.pages.PageFlow` sets the
    scale and the breaks), repeated table header rows, "Trang x/y" footer."""
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(left=0.6, right=0.4, top=0.6, bottom=0.7)
    ws.center_horizontally()
    if fit:
        ws.fit_to_pages(1, 0)
    if repeat is not None:
        ws.repeat_rows(*repeat)
    ws.set_footer(FOOTER)
    ws.hide_gridlines(2)


def signatures(
    ws: Worksheet,
    st: Styles,
    row: int,
    *,
    left: tuple[int, int],
    right: tuple[int, int],
    left_title: str = "NGƯỜI LẬP BIỂU",
    right_title: str = "THỦ TRƯỞNG ĐƠN VỊ",
    left_name: str = "",
    right_name: str = "",
    authority: str = "",
    recipients: Sequence[str] = (),
    recipients_at: tuple[int, int] | None = None,
    recipients_width: float = 30.0,
) -> int:
    """Signature blocks: titles, "(Ký, ghi rõ họ tên)", room to sign, printed names.

    Decree 30/2020 Art. 8: the signer's block on the right, with the authority line ("TM. …",
    "KT. …") over the title where it applies; "Nơi nhận" at the left of the same rows
    (``recipients_at``; without it, under the blocks).
    """
    right_lines = [authority, right_title] if authority else [right_title]
    blocks = ((left, [left_title], left_name), (right, right_lines, right_name))
    for (first, last), titles, name in blocks:
        for i, title in enumerate(titles):
            merged(ws, row + i, first, last, title, st["center_bold"])
        merged(ws, row + len(titles), first, last, "(Ký, ghi rõ họ tên)", st["center_italic"])
        if name:
            merged(ws, row + 5 + len(titles) - 1, first, last, name, st["center_bold"])
    end = row + 7 + len(right_lines) - 1
    if recipients:
        first, last = recipients_at or (left[0], left[1])
        start = row if recipients_at else end
        merged(ws, start, first, last, "Nơi nhận:", st["recv_head"])
        for i, text in enumerate(recipients, start=1):
            merged(ws, start + i, first, last, text, st["recv"])
            fit_row(ws, start + i, [(text, recipients_width * 1.3)], line_pt=15)  # 11 pt in 13 pt columns
        end = max(end, start + len(recipients) + 2)
    return end


def grade_counts(grades: Sequence[str]) -> dict[str, int]:
    """Counts of A/B/C/D/KXL (unknown or empty grades are not counted)."""
    counts = dict.fromkeys(GRADES, 0)
    for g in grades:
        if g in counts:
            counts[g] += 1
    return counts


def begin_sheet(
    wb: Workbook,
    st: Styles,
    settings: Settings,
    name: str,
    columns: Sequence[tuple[str, float]],
    titles: Sequence[str],
    *,
    style: str,
    issuer: str,
    today: date | None = None,
    split: int = 3,
    top: str | None = None,
    place: str = "",
    symbol: str = "DS",
) -> tuple[Worksheet, int]:
    """A sheet with column widths, the official header (``style``, ``issuer``) and the titles."""
    ws = wb.add_worksheet(name)
    last = len(columns) - 1
    for i, (_, width) in enumerate(columns):
        ws.set_column(i, i, width)
    row = official_header(
        ws, st, settings, style=style, issuer=issuer, last_col=last, split=split, when=today, top=top,
        place=place, symbol=symbol,
    )  # fmt: skip
    for i, text in enumerate(titles):
        merged(ws, row, 0, last, text, st["title" if i == 0 else "subtitle"])
        row += 1
    return ws, row


def table_header(ws: Worksheet, st: Styles, row: int, columns: Sequence[tuple[str, float]]) -> int:
    """Column titles and the "(1) (2) …" numbering row of official tables; returns next row."""
    ws.set_row(row, 36)
    for i, (label, _) in enumerate(columns):
        ws.write_string(row, i, label, st["th"])
        ws.write_string(row + 1, i, f"({i + 1})", st["th_small"])
    return row + 2
