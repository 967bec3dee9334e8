"""Read template 01 (the individual self-assessment form) into one :class:`EvaluationRow`.

Header and result cells are reached through their defined names (labels as a fallback); the
criteria table is found by its header labels and its rows by the criterion code in column
"Mã", so inserted rows or columns are harmless. Part subtotals and totals are recomputed
from the criteria, never taken from the formulas' cached values (SPEC §8).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .. import layout
from ..domain import Framework
from ..kpi import TaskInputs, leader_points, task_points
from ..layout import criterion_label
from ..models import EvaluationRow, ListHeader
from . import normalise as norm
from .recognise import Ctx, Stop, check_framework_period, find_table
from .tables import check_inputs, is_leader, list_header, parse_value, read_header
from .workbook import Grid, a1

SELF_FIELD, FINAL_FIELD = layout.INDIVIDUAL_TABLE[3], layout.INDIVIDUAL_TABLE[4]


def _code_rows(grid: Grid, header_row: int, code_col: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in range(header_row + 1, grid.max_row + 1):
        value = grid.get(r, code_col)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        code = norm.text(value)[0].upper()
        if code and code not in out:
            out[code] = r
    return out


def _score(ctx: Ctx, grid: Grid, side: str, code: str, r: int, col: int) -> tuple[Decimal | None, str]:
    ref = a1(r, col)
    f = layout.Field(f"{side}_{code}", criterion_label(side, code), "score", True)
    return parse_value(ctx, f, grid.get(r, col), grid.name, ref), ref


def _criteria(ctx: Ctx, grid: Grid, fw: Framework, row: EvaluationRow) -> None:
    table = find_table(grid, layout.INDIVIDUAL_TABLE)
    if table is None or "code" not in table.cols:
        ctx.add("column-missing", sheet=grid.name, column=layout.INDIVIDUAL_TABLE[0].label)
        raise Stop
    cols = {"self": table.cols.get("self_score"), "final": table.cols.get("final_score")}
    for side, col in cols.items():
        if col is None:
            label = SELF_FIELD.label if side == "self" else FINAL_FIELD.label
            ctx.add("column-missing", sheet=grid.name, cell=a1(table.row, 1), column=label)
    rows = _code_rows(grid, table.row, table.cols["code"])
    for part in fw.parts:
        pr = rows.get(part.code.upper())
        items = [(c.code, rows.get(c.code.upper())) for c in part.criteria] or [(part.code, pr)]
        sums: dict[str, list[Decimal | None]] = {"self": [], "final": []}
        for code, r in items:
            if r is None:
                ctx.add("value-required", sheet=grid.name, column=criterion_label("self", code))
                sums["self"].append(None)
                sums["final"].append(None)
                continue
            scores: dict[str, Decimal | None] = {}
            for side, col in cols.items():
                value, ref = _score(ctx, grid, side, code, r, col) if col else (None, "")
                scores[side] = value
                sums[side].append(value)
                if ref:
                    row.cells[f"{side}_{code}"] = ref
            row.criteria[code] = (scores["self"], scores["final"])
        for side, parts in (("self", row.self_parts), ("final", row.final_parts)):
            values = [v for v in sums[side] if v is not None]
            if values and len(values) == len(sums[side]):
                parts[part.code] = sum(values, Decimal(0))
            if pr is not None and part.criteria and cols[side]:
                row.cells[f"{side}_{part.code}"] = a1(pr, cols[side])  # type: ignore[arg-type]
    total_row = max(rows.values(), default=table.row) + 0
    for r in range(table.row + 1, grid.max_row + 1):
        if layout.fold_label(grid.get(r, table.cols.get("name", 2))) == "tổng cộng":
            total_row = r
            break
    for side, col in cols.items():
        if col:
            row.cells[f"table_{side}_total"] = a1(total_row, col)


def read_individual(ctx: Ctx, fw: Framework) -> tuple[ListHeader, list[EvaluationRow], str]:
    """Template 01: the header (as a :class:`ListHeader`) and one row, and the sheet name."""
    sheet = layout.SHEET_INDIVIDUAL
    grid = ctx.grid(sheet)
    if grid is None:
        ctx.add("sheet-missing", sheet=sheet, expected=sheet)
        raise Stop
    values, cells = read_header(ctx, layout.INDIVIDUAL_HEADER, sheet)
    results, result_cells = read_header(ctx, layout.INDIVIDUAL_RESULTS, sheet)
    header = list_header(ctx, values, dict(cells))
    check_framework_period(ctx, fw, header.period, sheet, cells.get("period", ""))
    inputs = layout.individual_inputs(fw, ctx.settings.catalogue.caps_for(fw.id))
    extra, extra_cells = read_header(ctx, inputs, sheet) if inputs else ({}, {})
    v: dict[str, Any] = {
        **values,
        **{k: x for k, x in results.items() if k not in ("self_total", "final_total", "band_grade")},
    }
    category = v.get("category") or ""
    row = EvaluationRow(
        row=_row_of(cells.get("person_code", "")),
        person_code=(v.get("person_code") or "").upper(),
        full_name=v.get("full_name") or "",
        position_code=v.get("position_code") or "",
        category=category,
        group=v.get("group") or category,  # SPEC §3: default group = category
        group_given=bool(v.get("group")),
        birth_date=v.get("birth_date"),
        position_title=v.get("position_title") or "",
        self_grade=v.get("self_grade") or "",
        final_grade=v.get("final_grade") or "",
        self_date=v.get("self_date"),
        evaluator_name=v.get("evaluator_name") or "",
        evaluator_position=v.get("evaluator_position") or "",
        note=v.get("note") or "",
        cells={**cells, **result_cells},
    )
    row.cells.update(extra_cells)
    row.flags = tuple(k.removeprefix("flag_") for k, x in extra.items() if k.startswith("flag_") and x)
    row.inputs = {k.removeprefix("kpi_"): x for k, x in extra.items() if k.startswith("kpi_") and x is not None}
    _criteria(ctx, grid, fw, row)
    leaders = ctx.settings.codes.leaders()
    for part in fw.parts:  # SPEC §13: a computed part is recomputed from the inputs, never read
        if part.computed and row.inputs.get("assigned"):
            if is_leader(part, row, leaders):  # the mean of six (kpi.leader_points), as template 02
                points = leader_points(TaskInputs.of(row.inputs), row.inputs, part.max).points
            else:
                points = task_points(TaskInputs.of(row.inputs), part.max).points
            row.criteria[part.code] = (points, points)
            row.self_parts[part.code] = row.final_parts[part.code] = points
    if inputs:
        check_inputs(ctx, sheet, row, inputs, any(is_leader(p, row, leaders) for p in fw.parts))
    parts = [p.code for p in fw.parts]
    if all(p in row.self_parts for p in parts):
        row.self_total = fw.bounded(sum((row.self_parts[p] for p in parts), Decimal(0)))
    if all(p in row.final_parts for p in parts):
        row.final_total = fw.bounded(sum((row.final_parts[p] for p in parts), Decimal(0)))
    return header, [row], sheet


def _row_of(ref: str) -> int:
    digits = "".join(ch for ch in ref if ch.isdigit())
    return int(digits) if digits else 0
