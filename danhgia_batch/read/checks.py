"""Per-file checks in plain Python: typed-over formulas (SPEC §8).

A formula's cached value is never trusted: totals and grades are recomputed. Two things are
issues (SPEC §8: a cached value that disagrees is reported):

- a total (or grade-by-score) cell whose formula was typed over with a constant that disagrees
  with the recomputed value (``formula-overwritten``; the formula's absence is read from the
  sheet XML, :class:`~.preflight.SheetInfo.formulas`);
- an intact formula whose cached value disagrees (``formula-cached-mismatch``): the sheet the
  decider signed shows another total or grade than the product computes, e.g. a score typed as
  text with a decimal comma ('9,05', which a spreadsheet's SUM skips) or a workbook saved without
  recalculating. No cached value (openpyxl-saved files) and xlsxwriter's placeholder 0 say
  nothing and are not compared.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .. import layout
from ..domain import Framework
from ..issues import Issue, make_issue
from ..models import EvaluationRow
from ..settings import GradingSettings
from . import normalise as norm

if TYPE_CHECKING:  # (the decision imports this module: no reader machinery for it, issue 19)
    from .recognise import Ctx
    from .workbook import Grid


def band(total: Decimal, grading: GradingSettings) -> str:
    """The grade-by-score formula of the templates, recomputed (only to compare a typed-over cell)."""
    for grade, low in (("A", grading.a), ("B", grading.b), ("C", grading.c)):
        if total >= Decimal(str(low)):
            return grade
    return "D"


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f") if d != d.to_integral_value() else str(int(d))


def _overwritten(ctx: Ctx, grid: Grid, ref: str, expected: Any, label: str) -> None:
    """formula-overwritten when ``ref`` holds a constant (no formula) that disagrees with
    ``expected``; formula-cached-mismatch when its formula's cached value does."""
    shown_cell = _shown(grid, ref) if expected is not None else None
    if shown_cell is None:
        return
    raw, formula = shown_cell
    if isinstance(expected, Decimal):
        value, code = norm.number(raw)
        same = not code and value == expected
        shown = _fmt(expected)
    else:
        same = norm.code(raw)[0] == expected
        shown = str(expected)
    if not same:
        code = "formula-cached-mismatch" if formula else "formula-overwritten"
        ctx.add(code, sheet=grid.name, cell=ref, column=label, value=norm.display(raw), expected=shown)


BAND_CODES = ("formula-overwritten", "formula-cached-mismatch")


def _shown(grid: Grid, ref: str) -> tuple[Any, bool] | None:
    """What the cell ``ref`` shows (its value, whether it holds a formula); ``None`` when there
    is nothing to compare: no cell, blank, or xlsxwriter's never-calculated placeholder 0."""
    if not ref:
        return None
    raw = grid.at(ref)
    if norm.is_blank(raw):
        return None
    formula = grid.has_formula(ref)
    if formula and (raw == 0 or raw == "0"):  # xlsxwriter's placeholder: never calculated
        return None
    return raw, formula


def keep_band(grid: Grid, row: EvaluationRow) -> None:
    """Record the grade-by-score cell on ``row`` (``band_typed``) for the decision, which checks
    it against the bands of the regime in force (SPEC §13; the reader's own check below uses the
    settings' bands and is replaced by the decision's)."""
    shown_cell = _shown(grid, ref=row.cells.get("band_grade", ""))
    if shown_cell is None:
        return
    raw, formula = shown_cell
    row.band_typed = (grid.name, norm.code(raw)[0], norm.display(raw), formula)


def band_issues(row: EvaluationRow, grading: GradingSettings, label: str, file: str = "") -> list[Issue]:
    """An issue when ``row``'s recorded grade-by-score cell disagrees with the band of its
    final total under ``grading`` (the regime in force): ``formula-overwritten`` for a constant,
    ``formula-cached-mismatch`` for a formula's cached value (the reader's codes, SPEC §8)."""
    if row.band_typed is None or row.final_total is None:
        return []
    sheet, typed, shown, formula = row.band_typed
    expected = band(row.final_total, grading)
    if typed == expected:
        return []
    code = "formula-cached-mismatch" if formula else "formula-overwritten"
    ref = row.cells.get("band_grade", "")
    return [
        make_issue(code, file=file, sheet=sheet, cell=ref, row=row.row, column=label, value=shown, expected=expected)
    ]


def bands_in_force(
    issues: list[Issue], rows: list[EvaluationRow], grading: GradingSettings, label: str, file: str
) -> list[Issue]:
    """``issues`` with the reader's grade-by-score findings (made with the settings' bands)
    replaced by those under ``grading``, the bands of the regime the decision chose (SPEC §13)."""
    typed = {(r.band_typed[0], r.cells.get("band_grade", "")) for r in rows if r.band_typed}
    kept = [i for i in issues if not (i.code in BAND_CODES and (i.sheet, i.cell) in typed)]
    return kept + [i for r in rows for i in band_issues(r, grading, label, file)]


def check_row_formulas(ctx: Ctx, grid: Grid, row: EvaluationRow, labels: dict[str, str]) -> None:
    """Totals and grade-by-score of a 02 row (``labels``: column key → label)."""
    _overwritten(ctx, grid, row.cells.get("self_total", ""), row.self_total, labels["self_total"])
    _overwritten(ctx, grid, row.cells.get("final_total", ""), row.final_total, labels["final_total"])
    expected = band(row.final_total, ctx.settings.grading) if row.final_total is not None else None
    _overwritten(ctx, grid, row.cells.get("band_grade", ""), expected, labels["band_grade"])
    keep_band(grid, row)
    for key in [k for k in row.cells if k.startswith(("self_", "final_")) and k in labels and row.inputs]:
        part = key.partition("_")[2]  # a computed part (Decree 335): typed over, not recomputed
        parts = row.self_parts if key.startswith("self_") else row.final_parts
        if part in parts and "kpi_assigned" in row.cells:
            _overwritten(ctx, grid, row.cells[key], parts[part], labels[key])


def check_form_formulas(ctx: Ctx, row: EvaluationRow, fw: Framework) -> None:
    """Part subtotals, table totals, result totals and grade-by-score of a 01 form."""
    grid = ctx.grid(layout.SHEET_INDIVIDUAL)
    if grid is None:
        return
    results = {f.key: f.label for f in layout.INDIVIDUAL_RESULTS}
    for side, parts, total in (
        ("self", row.self_parts, row.self_total),
        ("final", row.final_parts, row.final_total),
    ):
        for p in fw.parts:
            if p.criteria:
                _overwritten(ctx, grid, row.cells.get(f"{side}_{p.code}", ""), parts.get(p.code), f"Phần {p.code}")
        _overwritten(ctx, grid, row.cells.get(f"table_{side}_total", ""), total, "TỔNG CỘNG")
        _overwritten(ctx, grid, row.cells.get(f"{side}_total", ""), total, results[f"{side}_total"])
    expected = band(row.final_total, ctx.settings.grading) if row.final_total is not None else None
    _overwritten(ctx, grid, row.cells.get("band_grade", ""), expected, results["band_grade"])
    keep_band(grid, row)
