"""Read one file into a :class:`FormResult` — in the current process (the worker's body).

Never call this on untrusted input in a long-lived process: use :func:`danhgia_batch.read.read_form`
or :func:`~danhgia_batch.read.read_forms`, which run it in a child process with memory and
time limits. It never raises on bad input: every problem becomes an issue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .. import layout
from ..issues import Issue, make_issue
from ..models import FormResult
from ..settings import Settings
from ..textsafe import fs_text
from .checks import check_form_formulas, check_row_formulas
from .individual import read_individual
from .preflight import Rejected, preflight, registry_rows
from .recognise import Ctx, Stop, read_meta, recognise_framework, recognise_kind
from .tables import read_registry, read_unit_list
from .workbook import Book

log = logging.getLogger(__name__)


def _open(
    path: Path, form: FormResult, settings: Settings, on_big_registry: Callable[[int], None] | None
) -> Ctx | None:
    try:
        container = preflight(path, settings.reader)
    except Rejected as rej:
        form.issues.append(_with_file(rej.issue, path))
        return None
    rows = registry_rows(container)
    if rows > settings.reader.max_rows and on_big_registry is not None:
        on_big_registry(rows)
    try:
        book = Book(path, container.content)
    except Exception as exc:  # calamine: ZipError, XmlError, CalamineError…
        form.issues.append(make_issue("file-corrupt", file=path.name, detail=f"{type(exc).__name__}"))
        return None
    return Ctx(path, settings, container, book, form.issues)


def _with_file(issue: Issue, path: Path) -> Issue:
    return replace(issue, file=path.name)


def read_form_here(path: Path, settings: Settings, on_big_registry: Callable[[int], None] | None = None) -> FormResult:
    """Read ``path`` in this process (the body of a reader worker).

    ``on_big_registry(rows)`` is called before the cells are loaded when the registry sheets
    (template 00) hold more than ``reader.max_rows`` rows: the worker raises its limits then.
    """
    path = Path(path)
    form = FormResult(path=path)
    ctx = _open(path, form, settings, on_big_registry)
    if ctx is None:
        return form
    try:
        _read(ctx, form)
    except Stop:
        pass
    except MemoryError:
        limit = f"{settings.reader.memory_mb} MB bộ nhớ"
        form.issues.append(make_issue("file-too-large", file=path.name, detail="vượt giới hạn bộ nhớ", limit=limit))
    except Exception as exc:  # a reader bug or a file calamine chokes on: never crash the caller
        log.warning("reading %s failed: %r", fs_text(path), exc)
        form.issues.append(make_issue("file-corrupt", file=path.name, detail=type(exc).__name__))
    finally:
        ctx.book.close()
    return form


def _read(ctx: Ctx, form: FormResult) -> None:
    meta = read_meta(ctx)
    kind, version = recognise_kind(ctx, meta)
    form.kind, form.template_version = kind, version
    if kind == layout.KIND_REGISTRY:
        form.sheet = layout.SHEET_PEOPLE
        form.units, form.people = read_registry(ctx)
        return
    limits = ctx.settings.reader
    for sheet in ctx.container.sheets:  # registry-sized sheets are for the registry only
        if sheet.max_row > limits.max_rows:
            form.issues.append(
                make_issue(
                    "file-too-many-cells",
                    file=ctx.file,
                    sheet=sheet.name,
                    detail=f"{sheet.max_row} dòng × {sheet.max_col} cột",
                    limit=f"{limits.max_rows} dòng × {limits.max_cols} cột",
                )
            )
            return
    fw = recognise_framework(ctx, meta)
    form.framework_id, form.framework_version = fw.id, fw.version
    if kind == layout.KIND_UNIT_LIST:
        form.header, form.rows, form.sheet = read_unit_list(ctx, fw)
        grid = ctx.grid(form.sheet)
        if grid is not None:
            labels = {f.key: f.label for f in layout.unit_list_columns(fw)}
            for row in form.rows:
                check_row_formulas(ctx, grid, row, labels)
    else:
        form.header, form.rows, form.sheet = read_individual(ctx, fw)
        for row in form.rows:
            check_form_formulas(ctx, row, fw)
