"""Where printed pages break: no table, chart or signature block split by a page break (SPEC §10).

A sheet printed "fit to width" lets the spreadsheet program choose the breaks, and repeated
header rows then print above whatever starts a page (a totals table, a chart). Instead, a
:class:`PageFlow` follows the rows as a report writes them, knowing each row's printed height
(set through :meth:`PageFlow.set_height`, else the automatic height of one line of 13-pt Times
New Roman) and the page's height at the print scale it sets itself (fit to width, computed
from the column widths): a block that does not fit in what is left of the page starts on the
next one (a manual break, which LibreOffice and Excel honour at a fixed scale), and a long
table continues on the next page under its own header rows, written again there.

The model errs on the safe side (a few percent of each page is left unused), so a printer's
own break never falls inside a block the flow placed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xlsxwriter.worksheet import Worksheet

A4_PT = (595.3, 841.9)
MARGINS_IN = {"left": 0.6, "right": 0.4, "top": 0.6, "bottom": 0.7}
DIGIT_PT = 6.5  # a column width counts digits of the default font, Times New Roman 13 pt
WIDTH_PAD = 0.71  # what a spreadsheet adds to each column width (5 px of 7)
AUTO_ROW_PT = 17.2  # LibreOffice's automatic height of a one-line row in 13-pt Times New Roman
SAFETY = 0.97  # of each page, used at most (fonts and printers differ a little)


def column_pt(width: float) -> float:
    """Printed width of a column ``width`` characters wide, at 100 %."""
    return (width + WIDTH_PAD) * DIGIT_PT


class PageFlow:
    """The pages of one sheet as it is written top to bottom.

    Args:
        ws: the sheet.
        widths: its column widths (characters).
        landscape: A4 landscape (else portrait).
    """

    def __init__(self, ws: Worksheet, widths: Sequence[float], *, landscape: bool = True) -> None:
        self.ws = ws
        self.landscape = landscape
        page_w, page_h = (A4_PT[1], A4_PT[0]) if landscape else A4_PT
        avail_w = page_w - 72 * (MARGINS_IN["left"] + MARGINS_IN["right"])
        avail_h = page_h - 72 * (MARGINS_IN["top"] + MARGINS_IN["bottom"])
        total = sum(column_pt(w) for w in widths) or 1.0
        self.scale = max(10, min(100, int(avail_w / total * 100 * 0.99)))
        self.capacity = avail_h * 100 / self.scale * SAFETY
        self.used = 0.0
        self.breaks: list[int] = []
        self.heights: dict[int, float] = {}
        self.next_row = 0  # rows before this one are counted

    # ------------------------------------------------------------------ heights

    def set_height(self, row: int, points: float) -> None:
        """Set the printed height of ``row`` (and remember it)."""
        self.heights[row] = points
        self.ws.set_row(row, points)

    def note(self, row: int, points: float) -> None:
        """Remember the height of ``row``, set by someone else."""
        self.heights[row] = points

    def height(self, first: int, end: int) -> float:
        """Printed height of rows ``first`` .. ``end - 1``."""
        return sum(self.heights.get(r, AUTO_ROW_PT) for r in range(first, end))

    @property
    def left(self) -> float:
        """What is left of the current page (points at 100 %)."""
        return self.capacity - self.used

    # ------------------------------------------------------------------ placing

    def flow(self, end: int) -> None:
        """Rows up to ``end`` (exclusive) run on, breaking wherever the page is full."""
        for r in range(self.next_row, end):
            h = self.heights.get(r, AUTO_ROW_PT)
            if self.used and self.used + h > self.capacity:
                self.page_break(r)
            self.used += h
        self.next_row = max(self.next_row, end)

    def keep(self, first: int, end: int, extra: float = 0.0) -> None:
        """Rows ``first`` .. ``end - 1`` (plus ``extra`` points drawn over them, a chart)
        on one page: a new page starts at ``first`` when they do not fit in what is left."""
        self.flow(first)
        h = self.height(first, end) + extra
        if self.used and self.used + h > self.capacity:
            self.page_break(first)
        self.used += h
        while self.used > self.capacity:  # taller than a page: it runs on
            self.used -= self.capacity
        self.next_row = max(self.next_row, end)

    def fits(self, points: float) -> bool:
        """Whether ``points`` more fit on the current page (after the rows already counted)."""
        return self.used + points <= self.capacity

    def page_break(self, row: int) -> None:
        """Start a new page at ``row``."""
        if row not in self.breaks and row > 0:
            self.breaks.append(row)
        self.used = 0.0

    def table_row(self, row: int, points: float, header: Callable[[int], int]) -> int:
        """Before writing a table row of ``points`` at ``row``: when it does not fit, start a new
        page there and write the table's header again (``header(row)`` returns the next row).
        Returns the row to write the table row at."""
        self.flow(row)
        if not self.fits(points):
            self.page_break(row)
            start = row
            row = header(row)
            self.used += self.height(start, row)
            self.next_row = row
        return row

    def finish(self) -> None:
        """Write the breaks and the print scale to the sheet (call after print setup)."""
        self.ws.set_h_pagebreaks(sorted(self.breaks))
        self.ws.set_print_scale(self.scale)
