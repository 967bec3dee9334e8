"""The last steps of a file in ``danhgia process``: outputs, the original's move, done (issue 6 ¶3),
and what a run says when the disk or a folder stops it (issue 17 ¶2).

An environment problem (a full disk, a read-only or vanished outbox or archive) is never a
file's fault and never a success: the files it stopped stay recorded in the ledger with their
originals in the inbox (the next run finishes each of them once), the run's result carries one
Vietnamese line saying what to fix, and its exit code is :data:`~.results.EXIT_ENVIRONMENT`.
"""

from __future__ import annotations

import errno
import logging
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..issues import Issue
from ..ledger import Claim, FileRecord, Ledger
from ..safe import close_isolated, context
from ..settings import Settings
from ..textsafe import fs_text
from . import effects
from .results import SKIPPED, BatchResult, FileResult

log = logging.getLogger(__name__)

# recorded lists held back (outputs, move, done) while their unit's lists keep arriving
HOLD_MAX = 1024
ERROR_WRITERS = 1  # a thread waiting on the isolated children that write error workbooks (one at a time: memory)
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
_MISSING = {errno.ENOENT, errno.ENOTDIR, errno.EEXIST, errno.EISDIR, errno.ESTALE}
_AFTER = "các tệp chưa xong vẫn ở hộp thư đến, lần chạy sau sẽ làm tiếp"


@dataclass
class Item:
    """A file of the current chunk, from claim to done."""

    path: Path
    claim: Claim
    file: FileRecord
    result: FileResult
    issues: list[Issue] = field(default_factory=list)


def environment_message(exc: BaseException, where: Path) -> str:
    """One Vietnamese line: what stopped the run and what to fix (``where``: the folder written)."""
    target = fs_text(getattr(exc, "filename", None) or where)
    code = getattr(exc, "errno", None)
    if code in _FULL:
        return f"Đĩa đầy: không ghi được {target}. Hãy giải phóng dung lượng rồi chạy lại; {_AFTER}."
    if code in _READ_ONLY:
        return (
            f"Không có quyền ghi vào {target} (chỉ đọc). Hãy cấp quyền ghi cho tài khoản chạy danhgia "
            f"rồi chạy lại; {_AFTER}."
        )
    if code in _MISSING:
        return (
            f"Thư mục {target} không còn hoặc không phải là thư mục. Hãy tạo lại thư mục (hoặc gắn lại ổ mạng) "
            f"rồi chạy lại; {_AFTER}."
        )
    if isinstance(exc, OSError):
        return f"Không ghi được {target} ({exc.strerror or exc}). Hãy kiểm tra ổ đĩa và thư mục rồi chạy lại; {_AFTER}."
    return (
        f"Lỗi khi ghi kết quả vào {target} ({type(exc).__name__}). Hãy chạy lại; nếu vẫn lỗi, báo quản trị "
        f"kèm nhật ký; {_AFTER}."
    )


def _unit_of(item: Item) -> tuple[str, str] | None:
    """(period, unit code) of a recorded list whose unit outputs it changes, else ``None``."""
    f = item.file
    if f.state == "recorded" and f.outcome in ("accepted", "invalid") and f.period and f.unit_code:
        return (f.period, f.unit_code)
    return None


def _units_of(items: Iterable[Item]) -> set[tuple[str, str]]:
    return {u for u in map(_unit_of, items) if u is not None}


@dataclass
class _UnitJob:
    """The writer process's job for some units; its paths are counted once."""

    future: Future[list[Path]]
    taken: bool = False


class Finisher:
    """Writes the outputs of recorded files, moves their originals, marks them done."""

    def __init__(self, settings: Settings, ledger: Ledger, result: BatchResult) -> None:
        self.settings, self.ledger, self.result = settings, ledger, result
        # error workbooks are written by isolated children (~0.4 s each): started as soon as
        # a file is recorded rejected, so they overlap the reading and recording of the others
        self._writers: ThreadPoolExecutor | None = None
        self._error_jobs: dict[int, Future[list[Path]]] = {}
        # rejected files whose error workbook was still being written when their chunk ended:
        # finished with the next chunk (or at the end of the run), so the run does not wait
        self._later: list[Item] = []
        # issue 19: with ``apart``, a unit's workbooks are written by one kept writer process
        # while this one decides and records the next chunks; its lists wait for that job
        self.apart = False
        self._unit_pool: ProcessPoolExecutor | None = None
        self._unit_jobs: dict[tuple[str, str], _UnitJob] = {}
        # files of the run not yet taken into a chunk, per unit folder (None: outside one); set
        # by ``process_inbox``. A unit whose folder has none left is written without waiting
        # for a chunk without its lists. ``None``: unknown (every touched unit waits)
        self.coming: Counter[str | None] | None = None

    def close(self) -> None:
        if self._writers is not None:
            self._writers.shutdown(wait=True)
        if self._unit_pool is not None:
            self._unit_pool.shutdown(wait=True)
            self._unit_pool = None
        close_isolated()  # the child that wrote the error workbooks (kept between files of the run)

    def problem(self, exc: BaseException, where: Path) -> None:
        """Note an environment problem: the run is not a success (the first one is shown)."""
        message = environment_message(exc, where)
        log.error("%s (%s: %s)", message, type(exc).__name__, exc)
        if self.result.problem is None:
            self.result.problem = message

    def start_errors(self, item: Item) -> None:
        """Begin writing the error workbook of a recorded rejected file (idempotent)."""
        if item.file.id in self._error_jobs:
            return
        if self._writers is None:
            self._writers = ThreadPoolExecutor(ERROR_WRITERS, thread_name_prefix="danhgia-errors")
        source = item.path if item.path.exists() else effects.archive_path(self.settings, item.file)
        job = self._writers.submit(effects.write_errors, self.settings, item.file, source, list(item.issues))
        self._error_jobs[item.file.id] = job

    def _error_files(self, item: Item) -> list[str] | None:
        """The error workbook of a rejected file (written now if not started); ``None`` if it failed."""
        try:
            job = self._error_jobs.pop(item.file.id, None)
            if job is not None:
                paths = job.result()
            else:
                source = item.path if item.path.exists() else effects.archive_path(self.settings, item.file)
                paths = effects.write_errors(self.settings, item.file, source, item.issues)
        except Exception as exc:  # the outbox cannot be written: the file stays in the inbox
            self.problem(exc, self.settings.outbox / effects.ERRORS_DIR)
            return None
        return [str(p) for p in paths]

    def rollups(self) -> None:
        if all(job.done() for job in self._error_jobs.values()):  # every error workbook is written:
            close_isolated()  # the child that wrote them is stopped, its memory free for the roll-ups (issue 19)
        try:
            self.result.outputs += effects.write_pending_rollups(self.settings, self.ledger)
        except Exception as exc:  # they stay marked in the ledger: the next run rewrites them
            self.problem(exc, self.settings.outbox)

    def _may_come(self, item: Item) -> bool:
        """Whether more lists of ``item``'s unit may come later in this run: files still to be
        taken from its unit folder, or from outside any unit folder (their units are unknown)."""
        coming = self.coming
        if coming is None or coming[None] > 0:
            return True
        folder = item.file.unit_folder
        return coming[folder] > 0 if folder is not None else any(n > 0 for n in coming.values())

    def _writing(self, item: Item) -> bool:
        job = self._error_jobs.get(item.file.id)
        return job is not None and not job.done()

    def finish(self, items: list[Item], write: bool, *, last: bool = True) -> None:
        """Outputs of the chunk, then each original's move, then done (issue 6 ¶3).

        Unless ``last``, a rejected file whose error workbook is still being written waits for
        the next call, and so does a list of a unit that this chunk recorded lists of (with
        ``write``) while more of its lists may come (:meth:`_may_come`): the unit's workbooks
        are written once, when its lists stop arriving (a school's individual forms arrive
        together, issue 19); with ``apart``, also a list of a unit waiting for the busy writer
        process. Either stays recorded in the ledger meanwhile: a crash leaves it to the next
        run's ``finish_unfinished``, like any recorded file, and its outputs are still written
        before its original moves.
        """
        touched = _units_of(items)
        for unit in touched:  # lists of the unit arrived after its job began: it is written again
            self._unit_jobs.pop(unit, None)
        items, self._later = [*self._later, *items], []
        if not last:
            writing = [i for i in items if i.file.state == "recorded" and self._writing(i)]
            # the unit's outputs are written once, when its lists stop arriving (issue 19)
            held = [i for i in items if write and _unit_of(i) in touched and self._may_come(i)]
            later = {id(i) for i in writing}
            if len(held) <= HOLD_MAX:  # bounded: a unit spread over the whole inbox is written more often
                later |= {id(i) for i in held}
            if write and self.apart:
                # a unit waiting for the writer process keeps its lists too, within the bound
                waiting = self._start_units(
                    _units_of(i for i in items if id(i) not in later), may_wait=len(items) <= HOLD_MAX
                )
                later |= {id(i) for i in items if _unit_of(i) in waiting or self._unit_busy(_unit_of(i))}
            self._later = [i for i in items if id(i) in later]
            items = [i for i in items if id(i) not in later]
        recorded = [i for i in items if i.file.state == "recorded" and i.result.outcome != SKIPPED]
        error_files: dict[int, list[str]] = {}
        stopped: set[int] = set()
        for item in [i for i in recorded if i.file.outcome == "rejected"]:
            paths = self._error_files(item)
            if paths is None:
                stopped.add(item.file.id)
            else:
                error_files[item.file.id] = paths
        units = _units_of(recorded)
        if write and units:
            failed = self._unit_outputs(units)
            stopped |= {i.file.id for i in recorded if _unit_of(i) in failed}
        if last:  # after this process wrote its own units beside the writer's last jobs
            self._finish_units_apart()
        recorded = [i for i in recorded if i.file.id not in stopped]
        for item in recorded:
            effects.step_done("outputs", item.file)
        moved = self._move(recorded, error_files, stopped)
        # one transaction for the chunk: a crash before it leaves the files "recorded" with
        # their originals archived, and the next run's finish_unfinished redoes the (idempotent) move
        self.ledger.mark_done_many(moved)
        for item in items:
            if item.file.id in stopped:
                item.result.finished = False
            self.result.files.append(item.result)

    def _finish_units_apart(self) -> None:
        """The last call: let the writer process finish its jobs (their futures keep what they
        gave), then stop it: its memory is free before the roll-ups are built."""
        if self._unit_pool is None:
            return
        self._unit_pool.shutdown(wait=True)
        self._unit_pool = None

    def start_apart(self) -> None:
        """Start the writer process now (``apart``): its imports and ledger connection overlap
        the reading of the first chunks (issue 19). A failure only means a later start."""
        if not self.apart or self._unit_pool is not None:
            return
        try:
            self._unit_pool = ProcessPoolExecutor(1, mp_context=context())
            self._unit_pool.submit(effects.warm_unit_writer, self.settings)
        except Exception:  # the next _start_units tries again, or this process writes the units
            log.exception("the unit writer process could not be started")

    def _start_units(self, units: set[tuple[str, str]], *, may_wait: bool = False) -> set[tuple[str, str]]:
        """Give the writer process the units not given yet (one job for them all); return the
        units left waiting for it.

        With ``may_wait``, units wait while the writer is busy with an earlier job: the writer
        has at most one job at a time, so that at the end of the run this process writes the
        waiting units beside the writer's last job instead of waiting for a queue of them
        (district month: 1.4 s idle before the roll-ups, issue 19)."""
        units = {u for u in units if u not in self._unit_jobs}
        if not units:
            return set()
        if may_wait and any(not job.future.done() for job in self._unit_jobs.values()):
            return units
        try:
            if self._unit_pool is None:
                self._unit_pool = ProcessPoolExecutor(1, mp_context=context())
            staff = effects.unit_staff(self.ledger, units)  # the writer loads no people (issue 19)
            job = self._unit_pool.submit(effects.write_unit_outputs_apart, self.settings, units, staff)
        except Exception:  # the writer process died (a broken pool): this process writes them
            log.exception("the unit writer process is gone; unit workbooks are written here")
            self.apart = False
            return set()
        shared = _UnitJob(job)
        for unit in units:
            self._unit_jobs[unit] = shared
        return set()

    def _unit_busy(self, unit: tuple[str, str] | None) -> bool:
        job = self._unit_jobs.get(unit) if unit is not None else None
        return job is not None and not job.future.done()

    def _unit_outputs(self, units: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """Write (or take from the writer process) the workbooks of ``units``; return the units
        whose workbooks could not be written (an environment problem, noted).

        The units without a job are written here first, while the writer process works on its
        jobs (at the end of a run this process would otherwise wait for the writer, then write
        the last units alone: issue 19); then the jobs' results are taken."""
        jobs: dict[int, tuple[_UnitJob, set[tuple[str, str]]]] = {}
        here: set[tuple[str, str]] = set()
        for unit in units:
            job = self._unit_jobs.pop(unit, None)
            if job is None:
                here.add(unit)
            else:
                jobs.setdefault(id(job), (job, set()))[1].add(unit)
        failed = self._write_here(here, beside=bool(jobs)) if here else set()
        again: set[tuple[str, str]] = set()  # units of a failed job: written here after all
        for job, done in jobs.values():
            try:
                paths = job.future.result()
                if not job.taken:  # a job of several units is taken once, whichever is finished first
                    job.taken = True
                    self.result.outputs += paths
            except OSError as exc:  # a full disk, or a report open in Excel on Windows: next run
                self.problem(exc, self.settings.outbox)
                failed |= done
            except Exception:  # the writer process failed (or died): this process writes them
                log.exception("the unit writer process failed; writing %d unit(s) here", len(done))
                again |= done
        return failed | (self._write_here(again) if again else set())

    def _write_here(self, units: set[tuple[str, str]], *, beside: bool = False) -> set[tuple[str, str]]:
        """Write the workbooks of ``units`` in this process (``beside`` the writer process's
        jobs: without a pool of its own, two more processes would only compete for the cores);
        return ``units`` if they could not be written (the problem noted), else nothing."""
        pool_min = len(units) + 1 if beside else effects.POOL_MIN_UNITS
        try:
            self.result.outputs += effects.write_unit_outputs(self.settings, self.ledger, units, pool_min=pool_min)
        except Exception as exc:  # a full disk, or a report open in Excel on Windows: next run
            self.problem(exc, self.settings.outbox)
            return set(units)
        return set()

    def _move(
        self, recorded: list[Item], error_files: dict[int, list[str]], stopped: set[int]
    ) -> list[tuple[int, str | None, str | None]]:
        moved: list[tuple[int, str | None, str | None]] = []
        for item in recorded:
            try:
                dest = effects.move_original(self.settings, item.file)
            except OSError as exc:
                self.problem(exc, self.settings.archive)
                stopped.add(item.file.id)
                continue
            effects.step_done("moved", item.file)
            errs = error_files.get(item.file.id, [])
            moved.append((item.file.id, str(dest) if dest else None, errs[0] if errs else None))
            item.result.archived = fs_text(dest) if dest else None
            item.result.error_files = [fs_text(e) for e in errs]
        return moved
