"""The effects of a run on disk, in the order of issue 6 ¶3: outputs, then the original's move.

Where things go (decided here, documented in the README):

- accepted or quota-invalid list → ``archive/<YYYY-MM>/<unit>/<id>_<name>``;
- rejected file → ``archive/rejected/<YYYY-MM-DD>/<id>_<name>`` (arrival date), its error
  workbook and .txt summary → ``outbox/_loi/<YYYY-MM-DD>/<id>_<stem>_loi.xlsx``;
- duplicate → ``archive/duplicate/<YYYY-MM-DD>/<id>_<name>``;
- registry (template 00) → ``archive/danh_muc/<id>_<name>``.

The file id prefix keeps two submissions with the same name apart, and every path is a pure
function of the ledger row, so a restart computes the same destinations.

:data:`CRASH_HOOK` is the fault-injection point of the crash tests: it is called with the
name of each step just completed (``recorded``, ``outputs``, ``moved``).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import TEMP_SUFFIX, atomic_path, atomic_write_text, is_stale_temp
from ..issues import Issue
from ..ledger import FileRecord, Ledger
from ..models import PeriodView, UnitView
from ..progress import Progress, Steps
from ..reports.common import safe_code
from ..settings import Settings
from ..textsafe import find_path, fs_text

if TYPE_CHECKING:  # the ledger's views import SQLAlchemy: ``check`` imports this module without it
    from ..ledger.views import StaffSlice

log = logging.getLogger(__name__)

CRASH_HOOK: Callable[[str, FileRecord | None], None] | None = None

ERRORS_DIR = "_loi"
MOVE_DELAYS = (0.5, 1.0, 2.0)
UNIT_WRITERS = 2  # worker processes writing unit workbooks when a run has many units
POOL_MIN_UNITS = 24  # below this, starting the workers costs more than it saves
# danhgia report has no reader running: the writers would start the forkserver (pandas,
# pandera preloaded, 1-3 s of CPU) and lost to one process for a district month (perf-watch)
REPORT_POOL_MIN_UNITS = 400
# Above this many evaluations in a period, its outputs are built a batch of units at a time
# and its roll-ups from summarised views (ledger.views.summarise): a city month read whole
# held ~1.8 GB (benchmarks, 24/11/2026); a district month (~5,000) keeps the one-read path.
LARGE_PERIOD_ROWS = 30_000
# units whose full views are read at once on the large path; two batches are in memory while
# the writers work (issue 19: 400 held ~150 MB more in a city month's report)
UNIT_BATCH = 100
WRITER_CHUNK = 8  # views sent to a writer process at once


def step_done(step: str, file: FileRecord | None = None) -> None:
    """Tell the fault-injection hook (tests) that ``step`` has just completed."""
    if CRASH_HOOK is not None:
        CRASH_HOOK(step, file)


NAME_BYTES = 150  # of the clerk's stem in a stored name: the file system allows 255 bytes a name


def fit(text: str, max_bytes: int = NAME_BYTES) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes (whole characters): a 250-byte file
    name must not make its archive copy or error workbook impossible to write."""
    raw = text.encode("utf-8")
    return text if len(raw) <= max_bytes else raw[:max_bytes].decode("utf-8", "ignore")


def _stored_name(file: FileRecord) -> str:
    name = Path(file.name)
    return f"{file.id}_{fit(name.stem)}{fit(name.suffix, 16)}"


def archive_path(settings: Settings, file: FileRecord) -> Path:
    """Where the original of ``file`` goes once recorded."""
    day = file.arrival.strftime("%Y-%m-%d")
    root = settings.archive
    if file.outcome == "duplicate":
        return root / "duplicate" / day / _stored_name(file)
    if file.outcome in ("rejected", "failed"):
        return root / "rejected" / day / _stored_name(file)
    if file.kind == "00":
        return root / "danh_muc" / _stored_name(file)
    period = safe_code(file.period) if file.period else "_khong_ky"
    unit = safe_code(file.unit_code) if file.unit_code else "_khong_don_vi"
    return root / period / unit / _stored_name(file)


def error_report_path(settings: Settings, file: FileRecord) -> Path:
    """Where the error workbook of a rejected ``file`` goes."""
    day = file.arrival.strftime("%Y-%m-%d")
    return settings.outbox / ERRORS_DIR / day / f"{file.id}_{fit(Path(file.name).stem)}_loi.xlsx"


def write_errors(settings: Settings, file: FileRecord, source: Path, issues: list[Issue]) -> list[Path]:
    """The annotated error workbook and its .txt summary (reader engineer's writer)."""
    out = error_report_path(settings, file)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        from ..reports.errors import write_error_workbook

        return list(write_error_workbook(source, issues, out))
    except OSError:  # a full disk or a read-only outbox: the caller reports it, never a success
        raise
    except Exception:  # never let a broken report keep a recorded file in the inbox
        log.exception("error workbook for %s failed; writing the text summary only", fs_text(file.name))
        lines = [f"Tệp: {file.name}", f"Nhận lúc: {file.arrival:%d/%m/%Y %H:%M}", ""]
        lines += [f"- [{i.code}] {i.where()}: {i.message}".replace(" : ", ": ") for i in issues]
        return [atomic_write_text(out.with_suffix(".txt"), "\n".join(lines) + "\n")]


LEFTOVER_SCAN_SECONDS = 600.0  # a long-running watcher looks for litter this often
_last_leftover_scan: dict[tuple[Path, ...], float] = {}


def remove_leftovers(settings: Settings, *, stale_after: float | None = None) -> list[Path]:
    """Remove the temp files of interrupted writes from the outbox and the archive (issue 17 ¶6).

    A temp file is litter when its writer (on this machine) is dead, or when it is older than
    the claim timeout; a live writer's temp file is never touched. Runs at most every
    :data:`LEFTOVER_SCAN_SECONDS` per process. Returns the files removed.
    """
    roots = (settings.outbox, settings.archive)
    now = time.monotonic()
    last = _last_leftover_scan.get(roots)
    if last is not None and now - last < LEFTOVER_SCAN_SECONDS:
        return []
    _last_leftover_scan[roots] = now
    stale = settings.watcher.claim_timeout_minutes * 60 if stale_after is None else stale_after
    removed: list[Path] = []
    wall = time.time()
    for root in roots:
        for folder, _dirs, names in os.walk(root):
            for name in names:
                if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
                    continue
                path = Path(folder) / name
                try:
                    if is_stale_temp(name, wall - path.lstat().st_mtime, stale):
                        path.unlink()
                        removed.append(path)
                except OSError:  # gone meanwhile, or not ours to remove
                    continue
    if removed:
        log.info("removed %d leftover temp file(s) of interrupted writes", len(removed))
    return removed


def source_of(settings: Settings, file: FileRecord) -> Path:
    """Absolute path of the original as recorded (inbox-relative, or absolute for a PATH argument)."""
    return find_path(file.inbox_path, settings.inbox)  # a name stored with \xNN escapes: found on disk


def move_original(settings: Settings, file: FileRecord) -> Path | None:
    """Move the original out of the inbox into the archive (copy it when it came from elsewhere).

    Idempotent: when the source is gone and the destination exists (a crash after the move),
    nothing is done. Returns the archive path, or ``None`` when neither exists.
    """
    src = source_of(settings, file)
    dest = archive_path(settings, file)
    inside = not Path(file.inbox_path).is_absolute()
    if not src.exists():
        if dest.exists():
            return dest
        log.warning("original of file %s (%s) is gone and was never archived", file.id, fs_text(file.name))
        return None
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not inside:
        with atomic_path(dest) as tmp:
            shutil.copy2(src, tmp)
        return dest
    for delay in (*MOVE_DELAYS, None):
        try:
            try:
                os.replace(src, dest)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                # another filesystem: copy, rename into place, then delete the original
                with atomic_path(dest) as tmp:
                    shutil.copy2(src, tmp)
                src.unlink()
            return dest
        except PermissionError:  # held open (Excel on Windows, an antivirus scan): wait a little
            if delay is None:
                raise
            time.sleep(delay)
    return dest


def write_unit_outputs(
    settings: Settings,
    ledger: Ledger,
    units: set[tuple[str, str]],
    *,
    pool_min: int = POOL_MIN_UNITS,
    staff: dict[str, StaffSlice] | None = None,
) -> list[Path]:
    """Unit list and commendation list of each (period, unit code), from the ledger.

    The views are read here; many units' workbooks are written by :data:`UNIT_WRITERS`
    worker processes (xlsxwriter is pure Python: threads would not help), a few in-process.
    ``staff``: per period, the registry's people of its units (:func:`unit_staff`).
    """

    views: list[UnitView] = []
    by_period: dict[str, set[str]] = {}
    for period, unit_code in units:
        by_period.setdefault(period, set()).add(unit_code)
    for period, codes in sorted(by_period.items()):
        given = (staff or {}).get(period)
        found = ledger.unit_views(period, codes) if given is None else ledger.unit_views_given(period, codes, given)
        views += [view for _code, view in sorted(found.items()) if view.lists]
    return _write_unit_views(settings, views, pool_min)


def unit_staff(ledger: Ledger, units: set[tuple[str, str]]) -> dict[str, StaffSlice]:
    """Per period, the registry's people of ``units`` as this process holds them, for the unit
    writer process (:func:`write_unit_outputs_apart`): it then loads no people (issue 19)."""
    from ..ledger.views import staff_slice

    out: dict[str, StaffSlice] = {}
    for period in sorted({p for p, _ in units}):
        registry = ledger.registry_for(period)
        if registry is not None and registry.version is not None:
            out[period] = staff_slice(registry, sorted(u for p, u in units if p == period))
    return out


_APART: dict[str, Ledger] = {}  # the writer process's own ledger, kept between its jobs


def _apart_ledger(settings: Settings) -> Ledger:
    from ..ledger import open_ledger, open_ledger_read_only

    ledger = _APART.get(settings.ledger_url)
    if ledger is None:  # it only reads: no write lock, never in the deciding process's way
        ledger = _APART[settings.ledger_url] = open_ledger_read_only(settings) or open_ledger(settings)
    return ledger


def warm_unit_writer(settings: Settings) -> None:
    """The unit writer process's first job, given when a run begins (issue 19): its imports and
    its ledger connection are made while the files are read, not when the first units are ready."""
    from ..reports import unit  # noqa: F401  (xlsxwriter and the report modules)

    _apart_ledger(settings)


def write_unit_outputs_apart(
    settings: Settings, units: set[tuple[str, str]], staff: dict[str, StaffSlice] | None = None
) -> list[Path]:
    """:func:`write_unit_outputs` in the run's unit writer process (``Finisher``, issue 19),
    through that process's own connection to the ledger (the lists are committed before).
    ``staff`` (:func:`unit_staff`): the registry's people of ``units``, so that this process
    loads only the registry's units (a city's 170,000 people cost ~80 MB per process)."""
    ledger = _apart_ledger(settings)
    try:
        return write_unit_outputs(settings, ledger, units, pool_min=len(units) + 1, staff=staff)
    except OSError:  # a full disk, a read-only outbox: the run's environment problem, as in-process
        raise
    except Exception as exc:  # given back picklable: the caller writes the units itself
        raise RuntimeError(f"{type(exc).__name__}: {exc}") from None


def _write_unit_views(settings: Settings, views: list[UnitView], pool_min: int = POOL_MIN_UNITS) -> list[Path]:
    return _write_unit_batches(settings, [views], len(views), pool_min)


def _write_unit_batches(
    settings: Settings, batches: Iterable[list[UnitView]], units: int, pool_min: int, steps: Steps | None = None
) -> list[Path]:
    """Unit workbooks of views that arrive in batches: in-process below ``pool_min`` units,
    else by :data:`UNIT_WRITERS` worker processes, one pool for every batch."""
    from ..reports import write_unit_reports

    steps = steps or Steps(None, "", units)
    written: list[Path] = []
    if units < pool_min:
        for views in batches:
            for view in views:
                written += write_unit_reports(view, settings)
                steps.advance()
        return written
    from ..reports.unit import write_unit_reports_of  # by reference: the writers import reports only
    from ..safe import context

    with ProcessPoolExecutor(UNIT_WRITERS, mp_context=context()) as pool:
        # a batch is handed to the writers before the next one is read (the read overlaps the
        # writing), and its results are taken once that next batch is in: two batches in memory
        pending: list[tuple[Future[list[list[Path]]], int]] = []
        for views in batches:
            submitted = [
                (
                    pool.submit(write_unit_reports_of, views[i : i + WRITER_CHUNK], settings),
                    len(views[i : i + WRITER_CHUNK]),
                )
                for i in range(0, len(views), WRITER_CHUNK)
            ]
            del views
            written += _results(pending, steps)
            pending = submitted
        written += _results(pending, steps)
    return written


def _results(pending: list[tuple[Future[list[list[Path]]], int]], steps: Steps) -> list[Path]:
    out: list[Path] = []
    for future, count in pending:
        for paths in future.result():
            out += paths
        steps.advance(count)
    return out


def write_rollups(
    settings: Settings, ledger: Ledger, period: str, blocks: set[str], *, scope: str = "all"
) -> list[Path]:
    """Block roll-ups of ``blocks`` ("" = none) and the roll-up of each area (ward, district, city) of ``period``."""
    wanted = [b for b in sorted(blocks) if b]
    # one read of the period for all of them (summarised: roll-ups need no evaluation rows)
    found = ledger.period_views(period, [*wanted, None], summary=_large(ledger, period))
    return _write_rollups(settings, ledger, found, wanted, scope)


def _large(ledger: Ledger, period: str) -> bool:
    """Whether ``period`` takes the batched, bounded-memory path (:data:`LARGE_PERIOD_ROWS`)."""
    return ledger.evaluation_count(period=period) > LARGE_PERIOD_ROWS


def _write_rollups(
    settings: Settings,
    ledger: Ledger,
    found: dict[str | None, PeriodView],
    blocks: list[str],
    scope: str,
    steps: Steps | None = None,
) -> list[Path]:
    """The roll-ups (each block, each ward, district or city), then the HTML dashboards
    (issue 20) of the same views."""
    from ..reports import write_area_rollups, write_block_rollup
    from .dashboard import write_dashboards

    steps = steps or Steps(None, "", len(blocks) + 1)
    written = []
    for b in blocks:
        written.append(write_block_rollup(found[b], b, settings))
        steps.advance()
    written += write_area_rollups(found[None], settings, scope=scope)  # each ward, district, city
    steps.advance()
    return written + write_dashboards(settings, ledger, found, blocks, scope, written)


def write_pending_rollups(settings: Settings, ledger: Ledger) -> list[Path]:
    """Rewrite the roll-ups marked by recorded lists, then clear the marks (once per run)."""
    pending = ledger.pending_rollups()
    by_period: dict[str, list[tuple[str, int]]] = {}
    for period, block, generation in pending:
        by_period.setdefault(period, []).append((block, generation))
    written: list[Path] = []
    for period, marks in sorted(by_period.items()):
        written += write_rollups(settings, ledger, period, {b for b, _ in marks})
        step_done("rollups")
        for block, generation in marks:
            ledger.rollup_written(period, block, generation)
    return written


def write_period_outputs(
    settings: Settings,
    ledger: Ledger,
    units: set[tuple[str, str]],
    *,
    scope: str = "all",
) -> list[Path]:
    """Unit reports of ``units`` ((period, unit code)), then the roll-ups of their blocks and periods.

    One read of each period serves its unit reports and its roll-ups: a unit's view in the
    period read whole is the one :meth:`Ledger.unit_views` reads for it (perf-watch, issue 9).
    """
    written: list[Path] = []
    for period in sorted({p for p, _ in units}):
        large = _large(ledger, period)
        found = ledger.period_views(period, [None, *settings.codes.codes("blocks")], summary=large)
        codes = {u for p, u in units if p == period}
        written += _period_outputs(settings, ledger, period, found, codes, scope, large=large)
    return written


def write_period_reports(
    settings: Settings,
    ledger: Ledger,
    period: str,
    *,
    block: str | None = None,
    unit: str | None = None,
    scope: str = "all",
    progress: Progress | None = None,
) -> list[Path]:
    """``danhgia report``: the unit reports of every unit of ``period`` (of ``block``, or only
    ``unit``) that has lists, and the roll-ups of their blocks and of the period, from one read."""
    large = _large(ledger, period)
    wanted = list(dict.fromkeys([None, block, *settings.codes.codes("blocks")]))
    found = ledger.period_views(period, wanted, summary=large)
    codes = {u.unit_code for u in found[block].units if u.lists and (unit is None or u.unit_code == unit)}
    if not codes:
        return []
    return _period_outputs(settings, ledger, period, found, codes, scope, large=large, progress=progress)


def _period_outputs(
    settings: Settings,
    ledger: Ledger,
    period: str,
    found: dict[str | None, PeriodView],
    codes: set[str],
    scope: str,
    *,
    large: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Unit reports of ``codes`` and the roll-ups of their blocks and of the period.

    ``large``: ``found`` holds summarised views, so the unit reports are written from full
    views read :data:`UNIT_BATCH` units at a time.
    """
    listed = {v.unit_code: v for v in found[None].units if v.unit_code in codes}
    blocks = {v.block for v in listed.values()}
    if codes - set(listed):  # nothing recorded for them: the blocks of their registry units
        blocks |= {v.block for v in ledger.unit_views(period, codes - set(listed)).values()}
    wanted = [b for b in sorted(blocks) if b]
    with_lists = [code for code, v in sorted(listed.items()) if v.lists]
    steps = Steps(progress, "Ghi báo cáo", len(with_lists) + len(wanted) + 1)
    batches: Iterable[list[UnitView]] = [[listed[code] for code in with_lists]]
    if large:
        batches = (
            [v for v in batch.values() if v.lists] for batch in ledger.unit_view_batches(period, with_lists, UNIT_BATCH)
        )
    written = _write_unit_batches(settings, batches, len(with_lists), REPORT_POOL_MIN_UNITS, steps)
    if any(b not in found for b in wanted):  # a block code not in codes.toml
        found = {**found, **ledger.period_views(period, [b for b in wanted if b not in found], summary=large)}
    return written + _write_rollups(settings, ledger, found, wanted, scope, steps)
