"""Fill a generated template the way a clerk's Excel does: open it with openpyxl, write cells
found through defined names and column labels (:func:`layout.fold_label`), save a copy.

Values are written as given: dates as real dates, numbers as numbers, strings as strings
(a clerk may type "9,5" or "25/01/2022" as text; pass them as strings to get that).
``None`` leaves a cell empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from .. import layout

HEADER_SCAN_ROWS = 60
DATE_FORMAT = "dd/mm/yyyy"


def _put(cell: Cell, value: Any) -> None:
    """Write ``value`` keeping the template's number format for dates."""
    if value is None:
        return
    if isinstance(value, bool):
        value = layout_yes_no(value)
    fmt = cell.number_format
    cell.value = value
    if isinstance(value, datetime | date):
        cell.number_format = fmt if fmt and "yy" in fmt.lower() else DATE_FORMAT


def layout_yes_no(value: bool) -> str:
    """The registry's "Đang công tác" value for a boolean."""
    return "Có" if value else "Không"


def _named_cells(wb: Workbook) -> dict[str, tuple[str, str]]:
    """Defined name → (sheet title, A1 coordinate) for single-cell names."""
    out: dict[str, tuple[str, str]] = {}
    for name, dn in wb.defined_names.items():
        dests = list(dn.destinations)
        if len(dests) == 1:
            sheet, coord = dests[0]
            out[name] = (sheet, coord.replace("$", ""))
    return out


def _write_header(wb: Workbook, fields: Iterable[layout.Field], values: Mapping[str, Any]) -> None:
    by_key = {f.key: f for f in fields}
    unknown = set(values) - set(by_key)
    if unknown:
        raise KeyError(f"unknown header fields: {sorted(unknown)}")
    named = _named_cells(wb)
    for key, value in values.items():
        name = by_key[key].name
        if name not in named:
            raise KeyError(f"defined name {name} missing from the template")
        sheet, coord = named[name]
        _put(wb[sheet][coord], value)


def find_header_row(ws: Worksheet, fields: Iterable[layout.Field]) -> tuple[int, dict[str, int]]:
    """Locate the header row holding the most labels of ``fields``.

    Returns:
        (1-based row number, field key → 1-based column) for the labels found.

    Raises:
        LookupError: no row of the first :data:`HEADER_SCAN_ROWS` holds two labels or more.
    """
    wanted = {folded: f.key for f in fields for folded in f.folded}
    best: tuple[int, dict[str, int]] = (0, {})
    for r, row in enumerate(ws.iter_rows(min_row=1, max_row=HEADER_SCAN_ROWS, values_only=True), start=1):
        found: dict[str, int] = {}
        for c, value in enumerate(row, start=1):
            key = wanted.get(layout.fold_label(value)) if value is not None else None
            if key is not None and key not in found:
                found[key] = c
        if len(found) > len(best[1]):
            best = (r, found)
    if len(best[1]) < 2:
        raise LookupError(f"no header row found in sheet {ws.title}")
    return best


def _write_rows(ws: Worksheet, fields: tuple[layout.Field, ...], rows: Iterable[Mapping[str, Any]]) -> None:
    header_row, cols = find_header_row(ws, fields)
    for i, row in enumerate(rows):
        values = dict(row)
        if "stt" in cols and "stt" not in values:
            values["stt"] = i + 1
        unknown = set(values) - set(cols)
        if unknown:
            raise KeyError(f"no column for {sorted(unknown)} in sheet {ws.title}")
        for key, value in values.items():
            _put(ws.cell(row=header_row + 1 + i, column=cols[key]), value)


def _load(template: Path) -> Workbook:
    return openpyxl.load_workbook(template)


def _save(wb: Workbook, out: Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def fill_unit_list(
    template: Path,
    out: Path,
    header: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[layout.Field] = (),
) -> Path:
    """Fill template 02: ``header`` by :data:`layout.UNIT_LIST_HEADER` keys, one row per person.

    Row keys are the keys of :func:`layout.unit_list_columns` (``person_code``, ``self_I``,
    ``final_grade``, ``kpi_assigned``…); ``stt`` is numbered automatically when absent. Rows
    start right under the header row. ``columns``: the template's columns when known (a
    regime's template with cap flag columns, SPEC §13); else read from the header labels.
    """
    wb = _load(template)
    _write_header(wb, layout.UNIT_LIST_HEADER, header)
    fields = tuple(columns) or _unit_list_fields(wb)
    _write_rows(wb[layout.SHEET_UNIT_LIST], fields, rows)
    return _save(wb, out)


def _unit_list_fields(wb: Workbook) -> tuple[layout.Field, ...]:
    """Columns of the 02 sheet as labelled in the workbook (any framework's part codes)."""
    ws = wb[layout.SHEET_UNIT_LIST]
    fixed = [f for f in _base_columns() if f.part is None]
    extra: list[layout.Field] = []
    for row in ws.iter_rows(min_row=1, max_row=HEADER_SCAN_ROWS, values_only=True):
        for value in row:
            if not isinstance(value, str):
                continue
            kpi = {label: key for key, label in layout.KPI_INPUTS}
            if value in kpi:
                extra.append(layout.Field(f"kpi_{kpi[value]}", value, "score"))
            for prefix, make in (("self", layout.self_part_label), ("final", layout.final_part_label)):
                stem = make("")
                if value.startswith(stem):
                    code = value[len(stem) :].strip()
                    extra.append(layout.Field(f"{prefix}_{code}", value, "score", part=code))
    return (*fixed, *extra)


def _base_columns() -> tuple[layout.Field, ...]:
    from ..domain import Framework

    return layout.unit_list_columns(Framework("", "", "", ()))


def fill_individual(
    template: Path,
    out: Path,
    header: Mapping[str, Any],
    criteria: Mapping[str, tuple[Any, ...]],
    results: Mapping[str, Any],
) -> Path:
    """Fill template 01.

    Args:
        header: :data:`layout.INDIVIDUAL_HEADER` keys.
        criteria: criterion (or criterion-less part) code → (self score, final score);
            either may be ``None``.
        results: :data:`layout.INDIVIDUAL_RESULTS` keys (``self_grade``, ``final_grade``,
            ``comments``, ``note``; a total given here types over its formula).
    """
    wb = _load(template)
    inputs = {k: v for k, v in header.items() if k.startswith(("kpi_", "flag_"))}
    header = {k: v for k, v in header.items() if k not in inputs}
    _write_header(wb, layout.INDIVIDUAL_HEADER, header)
    if inputs:  # SPEC §13: a regime's template, defined names SP_… and GIOI_HAN_…
        fields = [layout.Field(k, k, name=("SP_" if k.startswith("kpi_") else "GIOI_HAN_") + k.split("_", 1)[1].upper())
                  for k in inputs]  # fmt: skip
        _write_header(wb, fields, inputs)
    _write_header(wb, layout.INDIVIDUAL_RESULTS, results)
    ws = wb[layout.SHEET_INDIVIDUAL]
    header_row, cols = find_header_row(ws, layout.INDIVIDUAL_TABLE)
    code_rows: dict[str, int] = {}
    for r in range(header_row + 1, ws.max_row + 1):
        value = ws.cell(row=r, column=cols["code"]).value
        if isinstance(value, str) and value.strip():
            code_rows.setdefault(value.strip(), r)
    for code, scores in criteria.items():
        if code not in code_rows:
            raise KeyError(f"criterion {code} not in the template")
        for key, value in zip(("self_score", "final_score"), scores, strict=False):
            _put(ws.cell(row=code_rows[code], column=cols[key]), value)
    return _save(wb, out)


def fill_registry(
    template: Path, out: Path, units: Iterable[Mapping[str, Any]], people: Iterable[Mapping[str, Any]]
) -> Path:
    """Fill template 00: ``units`` by :data:`layout.UNIT_COLUMNS` keys into ``DonVi``,
    ``people`` by :data:`layout.PEOPLE_COLUMNS` keys into ``CanBo`` (``active`` may be a bool)."""
    wb = _load(template)
    _write_rows(wb[layout.SHEET_UNITS], layout.UNIT_COLUMNS, units)
    _write_rows(wb[layout.SHEET_PEOPLE], layout.PEOPLE_COLUMNS, people)
    return _save(wb, out)
