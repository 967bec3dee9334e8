"""Read the tables of templates 02 (unit list) and 00 (registry) into typed rows.

Columns are found by label (:func:`recognise.find_table`), so inserted or reordered columns
are harmless; blank rows are skipped; reading stops at the last row holding data, not at the
sheet's declared dimension; every value keeps its real Excel address (SPEC §8).
"""

from __future__ import annotations

from typing import Any

from .. import layout
from ..domain import Framework, Part
from ..kpi import TaskInputs, input_problems, leader_points, leader_problems, task_points
from ..models import EvaluationRow, ListHeader, Person, Unit
from . import normalise as norm
from .recognise import Ctx, Stop, check_columns, check_framework_period, find_table, header_cells
from .workbook import Grid, a1, col_letter

# Codes of the evaluated person, checked by the batch schema (read/schema.py), not here.
_ROW_CODES = ("position_code", "category", "group", "self_grade", "final_grade", "evaluator_position")
_NAME_KEYS = ("full_name", "unit_name", "decider_name", "evaluator_name", "prepared_by", "position_title")


def parse_value(ctx: Ctx, f: layout.Field, raw: Any, sheet: str, cell: str) -> Any:
    """Typed value of ``raw`` for field ``f``, recording a normalisation issue at ``cell``."""
    value: Any
    if raw is None or raw == "":
        return None if f.kind not in ("text", "code", "grade") else ""
    if f.kind in ("score", "total"):
        value, code = norm.number(raw)
        if code == "score-decimals":
            ctx.add(code, sheet=sheet, cell=cell, column=f.label, value=norm.display(raw))
            return value  # keep the value: it is a number, only too precise
        if not code and f.kind == "score" and isinstance(raw, str):
            # text ('9,05'): the sheet's SUM skips it, so the total the decider signed differs (SPEC §8)
            ctx.add("score-as-text", sheet=sheet, cell=cell, column=f.label, value=norm.display(raw))
    elif f.kind == "date":
        value, code = norm.to_date(raw, ctx.date1904)
    elif f.kind == "period":
        value = norm.period(raw, ctx.date1904)
        code = "" if value is not None or norm.is_blank(raw) else "period-invalid"
    elif f.kind in ("code", "grade"):
        value, code = norm.code(raw)
        if f.codes == "groups":  # a group may be typed as one of its aliases ("LĐHĐ")
            value = ctx.settings.codes.resolve("groups", value)
    elif f.kind == "int":
        value, code = (None, "")
    elif f.key in _NAME_KEYS:
        value, code = norm.name(raw)
    else:
        value, code = norm.text(raw)
    if code:
        ctx.add(code, sheet=sheet, cell=cell, column=f.label, value=norm.display(raw), limit=norm.MAX_TEXT)
        if code not in ("text-control-chars", "name-control-chars", "text-too-long"):
            return None
    return value


def read_header(ctx: Ctx, fields: tuple[layout.Field, ...], sheet: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Header values (typed) and their cells, through defined names or labels."""
    values: dict[str, Any] = {}
    cells: dict[str, str] = {}
    found = header_cells(ctx, fields, sheet)
    by_key = {f.key: f for f in fields}
    for key, (sh, ref, raw) in found.items():
        cells[key] = ref
        f = by_key[key]
        values[key] = value = parse_value(ctx, f, raw, sh, ref)
        if f.codes and value and value not in ctx.settings.codes.codes(f.codes) and f.key not in _ROW_CODES:
            ctx.add("code-unknown", sheet=sh, cell=ref, column=f.label, value=value)
    for f in fields:
        if f.required and key_blank(values.get(f.key)) and not _has_issue(ctx, cells.get(f.key, "")):
            sh = found[f.key][0] if f.key in found else sheet
            ctx.add("header-missing", sheet=sh, cell=cells.get(f.key, ""), column=f.label)
    return values, cells


def key_blank(value: Any) -> bool:
    return value is None or value == ""


def _has_issue(ctx: Ctx, cell: str) -> bool:
    return bool(cell) and any(i.cell == cell and i.severity == "error" for i in ctx.issues)


def list_header(ctx: Ctx, values: dict[str, Any], cells: dict[str, str]) -> ListHeader:
    """A :class:`ListHeader` from typed header values; codes are case-insensitive."""
    h = ListHeader(cells=cells)
    for key in ("period", "unit_code", "unit_name", "block", "decider_name", "decider_position", "prepared_by"):
        value = values.get(key)
        if value:
            setattr(h, key, str(value).upper() if key == "unit_code" else str(value))
    h.decision_date = values.get("decision_date")
    h.prepared_date = values.get("prepared_date")
    return h


def data_rows(grid: Grid, header_row: int, cols: dict[str, int], keys: tuple[str, ...]) -> list[int]:
    """Row numbers below ``header_row`` where any of ``keys`` holds a value (blank rows skipped)."""
    watch = [cols[k] for k in keys if k in cols]
    out = []
    for r in range(header_row + 1, grid.max_row + 1):
        row = grid.rows[r - 1]
        if any(c <= len(row) and not norm.is_blank(row[c - 1]) for c in watch):
            out.append(r)
    return out


def read_row(
    ctx: Ctx, grid: Grid, r: int, fields: tuple[layout.Field, ...], cols: dict[str, int]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values and cells of row ``r`` for the fields whose column was found."""
    values: dict[str, Any] = {}
    cells: dict[str, str] = {}
    line = grid.rows[r - 1]
    width = len(line)
    for f in fields:
        c = cols.get(f.key)
        if c is None:
            continue
        ref = f"{col_letter(c)}{r}"
        cells[f.key] = ref
        if f.formula:
            continue  # recomputed, never read (SPEC §8); typed-over formulas: checks.totals
        values[f.key] = parse_value(ctx, f, line[c - 1] if c <= width else "", grid.name, ref)
    return values, cells


def _dec_sum(values: list[Any]) -> Any:
    if not values or any(v is None for v in values):
        return None
    return sum(values)


def evaluation_row(
    r: int, values: dict[str, Any], cells: dict[str, str], fw: Framework, leaders: frozenset[str] = frozenset()
) -> EvaluationRow:
    """An :class:`EvaluationRow` from the typed values of one 02 row; totals recomputed
    (``leaders``: the leader/deputy position codes, for a computed part's leader variant)."""
    category = values.get("category") or ""
    row = EvaluationRow(
        row=r,
        person_code=(values.get("person_code") or "").upper(),
        full_name=values.get("full_name") or "",
        position_code=values.get("position_code") or "",
        category=category,
        group=values.get("group") or category,  # SPEC §3: default group = category
        group_given=bool(values.get("group")),
        birth_date=values.get("birth_date"),
        position_title=values.get("position_title") or "",
        self_grade=values.get("self_grade") or "",
        final_grade=values.get("final_grade") or "",
        self_date=values.get("self_date"),
        evaluator_name=values.get("evaluator_name") or "",
        evaluator_position=values.get("evaluator_position") or "",
        note=values.get("note") or "",
        cells=cells,
    )
    row.flags = tuple(k.removeprefix("flag_") for k, v in values.items() if k.startswith("flag_") and v)
    row.inputs = {k.removeprefix("kpi_"): v for k, v in values.items() if k.startswith("kpi_") and v is not None}
    for p in fw.parts:
        if p.computed and row.inputs.get("assigned"):  # SPEC §13: recomputed, never read
            if is_leader(p, row, leaders):  # SPEC §13: the mean of six (kpi.leader_points)
                points = leader_points(TaskInputs.of(row.inputs), row.inputs, p.max).points
            else:
                points = task_points(TaskInputs.of(row.inputs), p.max).points
            values[f"self_{p.code}"] = values[f"final_{p.code}"] = points
        for side, parts in (("self", row.self_parts), ("final", row.final_parts)):
            v = values.get(f"{side}_{p.code}")
            if v is not None:
                parts[p.code] = v
    row.self_total = _bounded(fw, _dec_sum([values.get(f"self_{p.code}") for p in fw.parts]))
    row.final_total = _bounded(fw, _dec_sum([values.get(f"final_{p.code}") for p in fw.parts]))
    return row


def is_leader(part: Part, row: EvaluationRow, leaders: frozenset[str]) -> bool:
    """Whether ``row`` is scored by the leader variant of computed ``part`` (SPEC §13)."""
    return bool(part.computed and part.leaders and row.position_code in leaders)


def _bounded(fw: Framework, total: Any) -> Any:
    return fw.bounded(total) if total is not None else None


def check_inputs(
    ctx: Ctx, sheet: str, row: EvaluationRow, fields: tuple[layout.Field, ...], leader: bool = False
) -> None:
    """``kpi-input-invalid`` at each impossible input of a computed part (Decree 335); with
    ``leader``, also at a leader component that is blank or outside 0–100."""
    if not row.inputs:
        return
    labels = {f.key: f.label for f in fields}
    problems = input_problems(TaskInputs.of(row.inputs))
    if leader and row.inputs.get("assigned"):  # SPEC §13: a leader's three components
        problems += leader_problems(row.inputs)
    for key, expected in problems:
        value = row.inputs.get(key)
        ctx.add(
            "kpi-input-invalid",
            sheet=sheet,
            cell=row.cells.get(f"kpi_{key}", ""),
            column=labels.get(f"kpi_{key}", key),
            value=norm.display(float(value)) if value is not None else "(trống)",
            expected=expected,
        )


ROW_KEYS_02 = ("person_code", "full_name", "self_grade", "final_grade", "position_code", "category")


def read_unit_list(ctx: Ctx, fw: Framework) -> tuple[ListHeader, list[EvaluationRow], str]:
    """Template 02: header, rows and the data sheet name."""
    sheet = layout.SHEET_UNIT_LIST
    grid = ctx.grid(sheet)
    if grid is None:
        ctx.add("sheet-missing", sheet=sheet, expected=sheet)
        raise Stop
    values, cells = read_header(ctx, layout.UNIT_LIST_HEADER, sheet)
    header = list_header(ctx, values, cells)
    check_framework_period(ctx, fw, header.period, sheet, cells.get("period", ""))
    fields = layout.unit_list_columns(fw, ctx.settings.catalogue.caps_for(fw.id))
    table = find_table(grid, fields)
    if table is None:
        ctx.add("column-missing", sheet=sheet, column=fields[1].label)
        raise Stop
    check_columns(ctx, grid, table, fields)
    keys = ROW_KEYS_02 + tuple(f.key for f in fields if f.kind == "score")
    leaders = ctx.settings.codes.leaders()
    rows = []
    for r in data_rows(grid, table.row, table.cols, keys):
        vals, row_cells = read_row(ctx, grid, r, fields, table.cols)
        rows.append(evaluation_row(r, vals, row_cells, fw, leaders))
        leader = any(is_leader(p, rows[-1], leaders) for p in fw.parts)
        check_inputs(ctx, sheet, rows[-1], fields, leader)
    if not rows:
        ctx.add("table-empty", sheet=sheet, cell=a1(table.row + 1, table.cols.get("person_code", 1)))
    return header, rows, sheet


def _active(value: Any) -> bool:
    s = layout.fold_label(value)
    return not (s and s in layout.ACTIVE_NO)


def _required(
    ctx: Ctx, fields: tuple[layout.Field, ...], values: dict[str, Any], cells: dict[str, str], sheet: str
) -> None:
    for f in fields:
        if f.required and f.key in cells and key_blank(values.get(f.key)) and not _has_issue(ctx, cells[f.key]):
            ctx.add("value-required", sheet=sheet, cell=cells[f.key], column=f.label)


def _registry_table(
    ctx: Ctx, sheet: str, fields: tuple[layout.Field, ...]
) -> list[tuple[int, dict[str, Any], dict[str, str]]]:
    grid = ctx.grid(sheet)
    if grid is None:
        ctx.add("sheet-missing", sheet=sheet, expected=sheet)
        return []
    table = find_table(grid, fields)
    if table is None:
        ctx.add("column-missing", sheet=sheet, column=fields[0].label)
        return []
    check_columns(ctx, grid, table, fields)
    out = []
    for r in data_rows(grid, table.row, table.cols, tuple(f.key for f in fields if f.required)):
        values, cells = read_row(ctx, grid, r, fields, table.cols)
        _required(ctx, fields, values, cells, sheet)
        out.append((r, values, cells))
    return out


_ORG_TEXT = ("header_top", "header_issuer", "place", "signer_authority", "signer_title", "signer_name")


def _org_fields(v: dict[str, Any]) -> dict[str, Any]:
    """The optional level and letterhead columns of ``DonVi`` (SPEC §3, §10)."""
    form = layout.fold_label(v.get("header_form") or "")
    out: dict[str, Any] = {k: v.get(k) or "" for k in _ORG_TEXT}
    out["level"] = (v.get("level") or "").upper()
    out["administers"] = (v.get("administers") or "").upper()
    out["header_form"] = layout.HEADER_FORM_WORDS.get(layout.strip_accents(form), form)
    out["valid_from"] = v.get("valid_from")
    out["valid_to"] = v.get("valid_to")
    return out


def read_registry(ctx: Ctx) -> tuple[list[Unit], list[Person]]:
    """Template 00: units (``DonVi``) and people (``CanBo``)."""
    units = [
        Unit(
            code=(v.get("unit_code") or "").upper(),
            name=v.get("unit_name") or "",
            block=v.get("block") or "",
            kind=v.get("unit_kind") or "",
            parent_code=(v.get("parent_code") or "").upper(),
            **_org_fields(v),
            row=r,
            cells=c,
            emails=v.get("emails") or "",
        )
        for r, v, c in _registry_table(ctx, layout.SHEET_UNITS, layout.UNIT_COLUMNS)
    ]
    people = []
    for r, v, c in _registry_table(ctx, layout.SHEET_PEOPLE, layout.PEOPLE_COLUMNS):
        category = v.get("category") or ""
        people.append(
            Person(
                code=(v.get("person_code") or "").upper(),
                full_name=v.get("full_name") or "",
                unit_code=(v.get("unit_code") or "").upper(),
                position_code=v.get("position_code") or "",
                category=category,
                group=v.get("group") or category,
                birth_date=v.get("birth_date"),
                position_title=v.get("position_title") or "",
                active=_active(v.get("active")),
                row=r,
                cells=c,
                email=v.get("email") or "",
            )
        )
    if not units and not people:
        ctx.add("table-empty", sheet=layout.SHEET_PEOPLE)
    return units, people
