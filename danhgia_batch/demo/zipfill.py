"""Fill templates 01 and 02 at the zip level: thousands of files in seconds.

``templates.fill_*`` open each template with openpyxl, exactly as a clerk's Excel does; that
costs about a second per unit list (the template carries 200 formatted rows). The demo's full
district and the city benchmark need thousands of files, so this module writes the same cells
straight into the template's sheet XML: it locates fields once per template (defined names and
column labels, with openpyxl), then for each file replaces the empty input cells ``<c r="D5"
s="9"/>`` by cells holding the value (inline strings, numbers, date serials in the template's
own date style) and copies every other part of the workbook unchanged. Formulas stay formulas
with no cached value, as after an openpyxl save. ``tests/test_demo.py`` checks that a file
filled here reads back cell for cell like one filled by ``templates.fill_*``.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import openpyxl
from openpyxl.utils.cell import column_index_from_string, get_column_letter

from .. import layout
from ..templates.fill import find_header_row

_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_REF = re.compile(r"([A-Z]+)([0-9]+)")
_EMPTY_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?)/>')
_EPOCH = date(1899, 12, 30)


def _serial(value: date | datetime) -> str:
    if isinstance(value, datetime):
        delta = value - datetime(1899, 12, 30)
        return repr(delta.days + delta.seconds / 86400)
    return str((value - _EPOCH).days)


def _cell_xml(ref: str, style: str, value: Any) -> str:
    if isinstance(value, bool):
        value = "Có" if value else "Không"
    if isinstance(value, date | datetime):
        return f'<c r="{ref}"{style}><v>{_serial(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    text = escape(str(value))
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title → zip member of its XML."""
    book = ET.fromstring(zf.read("xl/workbook.xml"))
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("rel:Relationship", _NS)}
    out: dict[str, str] = {}
    for sheet in book.findall("m:sheets/m:sheet", _NS):
        target = targets[sheet.get(f"{{{_NS['r']}}}id")]
        out[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    return out


def _append_rows(xml: str, cells: dict[str, Any]) -> str:
    """Cells below the template's last row: new ``<row>`` elements (a clerk inserting rows)."""
    rows: dict[int, list[tuple[int, str, Any]]] = {}
    for ref, value in cells.items():
        col, row = _split_ref(ref)
        rows.setdefault(row, []).append((column_index_from_string(col), ref, value))
    parts = []
    for row in sorted(rows):
        body = "".join(_cell_xml(ref, "", v) for _, ref, v in sorted(rows[row]))
        parts.append(f'<row r="{row}">{body}</row>')
    return xml.replace("</sheetData>", "".join(parts) + "</sheetData>", 1)


def _split_ref(ref: str) -> tuple[str, int]:
    m = _REF.fullmatch(ref)
    if m is None:
        raise ValueError(f"not a cell reference: {ref}")
    return m.group(1), int(m.group(2))


def fill_sheet_xml(xml: str, cells: Mapping[str, Any]) -> str:
    """Write ``cells`` (A1 → value; None skipped) into the empty cells of a sheet's XML."""
    todo = {ref: v for ref, v in cells.items() if v is not None}

    def repl(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref not in todo:
            return m.group(0)
        return _cell_xml(ref, m.group(2), todo.pop(ref))

    xml = _EMPTY_CELL.sub(repl, xml)
    if todo:
        last = max((int(n) for n in re.findall(r'<row r="([0-9]+)"', xml)), default=0)
        below = {ref: v for ref, v in todo.items() if _split_ref(ref)[1] > last}
        if len(below) != len(todo):
            missing = sorted(set(todo) - set(below))
            raise KeyError(f"cells not found as empty input cells of the template: {missing[:5]}")
        xml = _append_rows(xml, below)
    return xml


class ZipFiller:
    """A template prepared once, then filled many times at the zip level."""

    def __init__(self, template: Path) -> None:
        self.template = Path(template)
        wb = openpyxl.load_workbook(self.template)
        self.named: dict[str, tuple[str, str]] = {}
        for name, dn in wb.defined_names.items():
            dests = list(dn.destinations)
            if len(dests) == 1:
                self.named[name] = (dests[0][0], dests[0][1].replace("$", ""))
        self.columns: dict[str, int] = {}
        self.first_row = 0
        self.criteria_rows: dict[str, int] = {}
        if layout.SHEET_UNIT_LIST in wb.sheetnames:
            from ..templates.fill import _unit_list_fields

            row, self.columns = find_header_row(wb[layout.SHEET_UNIT_LIST], _unit_list_fields(wb))
            self.first_row = row + 1
        if layout.SHEET_INDIVIDUAL in wb.sheetnames:
            ws = wb[layout.SHEET_INDIVIDUAL]
            row, self.columns = find_header_row(ws, layout.INDIVIDUAL_TABLE)
            for r in range(row + 1, ws.max_row + 1):
                value = ws.cell(row=r, column=self.columns["code"]).value
                if isinstance(value, str) and value.strip():
                    self.criteria_rows.setdefault(value.strip(), r)
        self.registry_rows: dict[str, tuple[int, dict[str, int]]] = {}
        for title, fields in ((layout.SHEET_UNITS, layout.UNIT_COLUMNS), (layout.SHEET_PEOPLE, layout.PEOPLE_COLUMNS)):
            if title in wb.sheetnames:
                row, columns = find_header_row(wb[title], fields)
                self.registry_rows[title] = (row + 1, columns)
        wb.close()
        with zipfile.ZipFile(self.template) as zf:
            self.sheets = _sheet_members(zf)
            self.infos = zf.infolist()
            self.data = {i.filename: zf.read(i) for i in self.infos}

    def _header_cells(self, fields: Iterable[layout.Field], values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        by_key = {f.key: f for f in fields}
        out: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            sheet, coord = self.named[by_key[key].name]
            out.setdefault(sheet, {})[coord] = value
        return out

    def write(self, out: Path, cells: Mapping[str, Mapping[str, Any]]) -> Path:
        """Write a copy of the template with ``cells`` ({sheet title: {A1: value}}) filled."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        changed = {self.sheets[title]: values for title, values in cells.items()}
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for info in self.infos:
                data = self.data[info.filename]
                if info.filename in changed:
                    data = fill_sheet_xml(data.decode("utf-8"), changed[info.filename]).encode("utf-8")
                zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
        return out

    def fill_unit_list(self, out: Path, header: Mapping[str, Any], rows: Iterable[Mapping[str, Any]]) -> Path:
        """Same arguments and result as ``templates.fill_unit_list``."""
        cells = self._header_cells(layout.UNIT_LIST_HEADER, header)
        sheet = cells.setdefault(layout.SHEET_UNIT_LIST, {})
        for i, row in enumerate(rows):
            values = dict(row)
            values.setdefault("stt", i + 1)
            for key, value in values.items():
                sheet[f"{get_column_letter(self.columns[key])}{self.first_row + i}"] = value
        return self.write(out, cells)

    def fill_registry(self, out: Path, units: Iterable[Mapping[str, Any]], people: Iterable[Mapping[str, Any]]) -> Path:
        """Same arguments and result as ``templates.fill_registry`` (template 00), fast enough
        for a city registry of hundreds of thousands of people."""
        cells: dict[str, dict[str, Any]] = {}
        for title, rows in ((layout.SHEET_UNITS, units), (layout.SHEET_PEOPLE, people)):
            first, columns = self.registry_rows[title]
            sheet = cells.setdefault(title, {})
            letters = {key: get_column_letter(col) for key, col in columns.items()}
            for i, row in enumerate(rows):
                for key, value in row.items():
                    sheet[f"{letters[key]}{first + i}"] = value
        return self.write(out, cells)

    def fill_individual(
        self,
        out: Path,
        header: Mapping[str, Any],
        criteria: Mapping[str, tuple[Any, ...]],
        results: Mapping[str, Any],
    ) -> Path:
        """Same arguments and result as ``templates.fill_individual``."""
        cells = self._header_cells(layout.INDIVIDUAL_HEADER, header)
        for sheet, values in self._header_cells(layout.INDIVIDUAL_RESULTS, results).items():
            cells.setdefault(sheet, {}).update(values)
        sheet_cells = cells.setdefault(layout.SHEET_INDIVIDUAL, {})
        for code, scores in criteria.items():
            for key, value in zip(("self_score", "final_score"), scores, strict=False):
                sheet_cells[f"{get_column_letter(self.columns[key])}{self.criteria_rows[code]}"] = value
        return self.write(out, cells)
