"""Recognise a workbook: template kind and version from ``_meta`` (never the file name), the
scoring framework, header fields through defined names (falling back to their labels), and
table columns by folded header label (SPEC §8)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import layout
from ..domain import Framework
from ..issues import Issue, make_issue
from ..settings import Settings
from . import normalise as norm
from .preflight import Container
from .workbook import Book, Grid, a1

HEADER_SCAN_ROWS = 60
KINDS = (layout.KIND_REGISTRY, layout.KIND_INDIVIDUAL, layout.KIND_UNIT_LIST)
MAIN_SHEETS = {
    layout.KIND_REGISTRY: (layout.SHEET_UNITS, layout.SHEET_PEOPLE),
    layout.KIND_INDIVIDUAL: (layout.SHEET_INDIVIDUAL,),
    layout.KIND_UNIT_LIST: (layout.SHEET_UNIT_LIST,),
}


class Stop(Exception):
    """Reading cannot go on (the issue that says why is already recorded)."""


@dataclass
class Ctx:
    """What the table readers share while reading one file."""

    path: Path
    settings: Settings
    container: Container
    book: Book
    issues: list[Issue] = field(default_factory=list)

    @property
    def file(self) -> str:
        return self.path.name

    @property
    def date1904(self) -> bool:
        return self.container.date1904

    def add(self, code: str, *, sheet: str = "", cell: str = "", **params: Any) -> Issue:
        row = params.pop("row", None)
        if row is None and cell:
            digits = "".join(ch for ch in cell if ch.isdigit())
            row = int(digits) if digits else None
        issue = make_issue(code, file=self.file, sheet=sheet, cell=cell, row=row, **params)
        self.issues.append(issue)
        return issue

    def grid(self, name: str) -> Grid | None:
        info = self.container.sheet(name)
        return self.book.grid(name, info.formulas if info else set())


def read_meta(ctx: Ctx) -> dict[str, str]:
    """Key → value of the ``_meta`` sheet (column A key, column B value)."""
    grid = ctx.grid(layout.META_SHEET)
    if grid is None:
        return {}
    out: dict[str, str] = {}
    for r in range(1, min(grid.max_row, 50) + 1):
        key = norm.text(grid.get(r, 1))[0]
        if key:
            value = grid.get(r, 2)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            out[key] = norm.text(value)[0]
    return out


def recognise_kind(ctx: Ctx, meta: dict[str, str]) -> tuple[str, str]:
    """(kind, version) from ``_meta``; records template-unknown / template-version / template-kind."""
    kind = meta.get("template_kind", "").zfill(2) if meta.get("template_kind") else ""
    version = meta.get("template_version", "")
    if kind not in KINDS:
        ctx.add("template-unknown", sheet=layout.META_SHEET if meta else "")
        raise Stop
    if version not in layout.SUPPORTED_VERSIONS[kind]:
        ctx.add(
            "template-version",
            sheet=layout.META_SHEET,
            kind=kind,
            version=version or "?",
            value=version,
            expected=layout.TEMPLATE_VERSION,
        )
        raise Stop
    names = set(ctx.book.sheet_names)
    wanted = MAIN_SHEETS[kind]
    if not names & set(wanted):
        other = [k for k, sheets in MAIN_SHEETS.items() if names & set(sheets)]
        if other:
            detail = f"trang '_meta' ghi mẫu {kind} nhưng các trang tính là của mẫu {other[0]}"
            ctx.add("template-kind", kind=other[0], value=kind, detail=detail)
        else:
            ctx.add("sheet-missing", sheet=wanted[0], expected=wanted[0])
        raise Stop
    return kind, version


def recognise_framework(ctx: Ctx, meta: dict[str, str]) -> Framework:
    """The framework named in ``_meta``; records framework-unknown and stops when missing."""
    fid, version = meta.get("framework_id", ""), meta.get("framework_version", "")
    fw = ctx.settings.framework(fid, version)
    if fw is None:
        ctx.add("framework-unknown", sheet=layout.META_SHEET, framework=fid or "?", version=version or "?", value=fid)
        raise Stop
    return fw


def check_framework_period(ctx: Ctx, fw: Framework, period: str, sheet: str, cell: str) -> None:
    """framework-period when ``fw`` is not in force for ``period`` (SPEC §5)."""
    if period and not fw.applies_to(period):
        current = ctx.settings.framework_for(fw.id, period)
        ctx.add(
            "framework-period",
            sheet=sheet,
            cell=cell,
            framework=fw.id,
            version=fw.version,
            period=period,
            value=fw.version,
            expected=current.version if current else "?",
        )


def _label_search(grid: Grid, f: layout.Field) -> str:
    """Fallback when a defined name is missing: the first non-empty cell right of the label."""
    wanted = set(f.folded)
    for r in range(1, min(grid.max_row, HEADER_SCAN_ROWS) + 1):
        for c in range(1, grid.max_col + 1):
            value = grid.get(r, c)
            if isinstance(value, str) and value and layout.fold_label(value) in wanted:
                for c2 in range(c + 1, min(c + 6, grid.max_col) + 1):  # not as far as the hints
                    if not norm.is_blank(grid.get(r, c2)):
                        return a1(r, c2)
                return a1(r, c + 1)
    return ""


def header_cells(ctx: Ctx, fields: Iterable[layout.Field], sheet: str) -> dict[str, tuple[str, str, Any]]:
    """Field key → (sheet, A1, raw value) through defined names, else by label search."""
    out: dict[str, tuple[str, str, Any]] = {}
    main = ctx.grid(sheet)
    for f in fields:
        target = ctx.container.defined_names.get(f.name)
        if target is not None:
            grid = ctx.grid(target[0])
            if grid is not None:
                out[f.key] = (target[0], target[1], grid.at(target[1]))
                continue
        if main is not None:
            ref = _label_search(main, f)
            if ref:
                out[f.key] = (sheet, ref, main.at(ref))
    return out


@dataclass
class TableHeader:
    """The header row of a table and the 1-based column of each field found."""

    row: int
    cols: dict[str, int]
    duplicates: dict[str, list[int]]


def find_table(grid: Grid, fields: Iterable[layout.Field]) -> TableHeader | None:
    """Locate the header row holding the most labels of ``fields`` (NFC, case, spacing folded)."""
    wanted: dict[str, str] = {}
    for f in fields:
        for folded in f.folded:
            wanted.setdefault(folded, f.key)
    best: TableHeader | None = None
    for r in range(1, min(grid.max_row, HEADER_SCAN_ROWS) + 1):
        cols: dict[str, int] = {}
        dups: dict[str, list[int]] = {}
        for c, value in enumerate(grid.rows[r - 1], start=1):
            if not isinstance(value, str) or not value:
                continue
            key = wanted.get(layout.fold_label(value))
            if key is None:
                continue
            if key in cols:
                dups.setdefault(key, [cols[key]]).append(c)
            else:
                cols[key] = c
        if len(cols) >= 2 and (best is None or len(cols) > len(best.cols)):
            best = TableHeader(r, cols, dups)
    return best


def check_columns(ctx: Ctx, grid: Grid, table: TableHeader, fields: Iterable[layout.Field]) -> None:
    """column-missing for required columns not found, column-duplicate for repeated labels."""
    for f in fields:
        if f.key not in table.cols and f.required:
            ctx.add("column-missing", sheet=grid.name, cell=a1(table.row, 1), column=f.label)
        if f.key in table.duplicates:
            refs = ", ".join(a1(table.row, c) for c in table.duplicates[f.key])
            ctx.add(
                "column-duplicate",
                sheet=grid.name,
                cell=a1(table.row, table.duplicates[f.key][1]),
                column=f.label,
                detail=refs,
            )
