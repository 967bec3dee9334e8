"""``danhgia process``: take everything in the inbox through read → validate → rules → ledger →
outputs → archive (SPEC §9, issue 6).

Order of effects per file, so that a crash at any point loses nothing and duplicates nothing:

1. **claim** the content hash in the ledger (one process per bytes; issue 10);
2. read, validate, apply the rules (no effect);
3. **record** the outcome, issues and rows in one transaction (state ``recorded``);
4. write the outputs (error workbook; unit reports and roll-ups, from the ledger) to temp
   files renamed into place;
5. **move** the original out of the inbox into the archive;
6. mark the file ``done``.

A restart finds files left in state ``recorded`` by a dead run and redoes 4–6 (outputs are
regenerated from the ledger, the move is idempotent); a file claimed but not recorded is
simply processed again. Files are handled in chunks; the block and district roll-ups are
marked in the ledger when a list is recorded and rewritten once at the end of the run (a crash
leaves them marked, so the next run rewrites them).
"""

from __future__ import annotations

import errno
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from ..errors import DanhgiaError, LedgerError
from ..intake import GONE, sha256_file, unit_folder, wait_until_settled
from ..issues import make_issue
from ..layout import KIND_REGISTRY
from ..ledger import Claim, ClaimLost, FileRecord, Ledger, Record, Recorded, open_ledger
from ..ledger.claims import MAX_ATTEMPTS
from ..models import FormResult
from ..progress import Progress, Steps
from ..safe import warm_validation
from ..settings import Settings
from ..textsafe import fs_text
from . import effects
from .admin import pdf_copies, require_workdir
from .context import backfill_results, decide_and_record, decide_and_record_batch
from .decide import decide_duplicate
from .finish import Finisher, Item, environment_message
from .results import SKIPPED, BatchResult, FileResult, OddEntry, skipped
from .runtime import Reader, candidates, odd_entries, run_reader, stop_reader

log = logging.getLogger(__name__)

# files claimed, read, recorded and finished together: several workers share an inbox, and a
# killed one leaves at most this many behind (issue 17 ¶5). Each chunk pays fixed costs (two
# pandera validations of ~6 ms, a ledger transaction, the readers' round trip), and holds its
# files' rows and decisions in memory: 64 against 16 takes ~10 % off the city month's CPU and
# stays within its 500 MB (issue 19, benchmarks/README, "tenth pass")
CHUNK = 64
CLAIM_BATCH = 16  # claims taken in one ledger transaction (short: other watchers wait for it)
# from this many files, unit workbooks are written by a writer process beside this one (issue 19);
# the watcher's few files of an event are quicker without starting it
APART_MIN_FILES = 48


def process_inbox(
    settings: Settings,
    *,
    paths: Sequence[Path] | None = None,
    period: str | None = None,
    write_reports: bool | None = None,
    progress: Progress | None = None,
    settle: float = 0.0,
    ledger: Ledger | None = None,
    reader: Reader | None = None,
) -> BatchResult:
    """Process the inbox once (or the given files/folders) and return what happened.

    Args:
        settings: the run's settings.
        paths: files or folders to process instead of the inbox (folders are scanned like
            the inbox; files outside the inbox are copied, not moved, to the archive).
        period: only record files of this period ("YYYY-MM"); others stay where they are.
        write_reports: write unit reports and roll-ups (default ``reports.write_reports``);
            error workbooks of rejected files are always written.
        progress: told of each file processed (:mod:`~danhgia_batch.progress`; the CLI
            draws a bar on a terminal).
        settle: leave files changed less than this many seconds ago for a later run (a copy
            over SMB may still be in progress; ``danhgia process`` passes
            ``watcher.settle_seconds``, the watcher settles files itself). Whatever its value,
            a file beside a lock file (``~$name``) or an unreadable zip is left for later.
        ledger: an open ledger to use (and leave open) instead of opening one; the watcher
            keeps one across events (owner of this hook: perf-watch).
        reader: reads files in isolated workers like :func:`~danhgia_batch.read.read_forms`
            (``reader(paths, settings)``); the watcher passes its warm worker pool.

    Raises:
        LedgerError: the ledger cannot be opened.
        ConfigError: no ``paths`` and the current folder is not a work folder (no
            ``danhgia.toml``, no ``inbox/``): nothing is created there.
    """
    if paths is None and ledger is None:
        require_workdir(settings)
    write = settings.reports.write_reports if write_reports is None else write_reports
    effects.remove_leftovers(settings)
    found = list(candidates(settings, paths))
    result = BatchResult(odd=odd_entries(settings) if paths is None else [])
    if paths is None and not settings.inbox.is_dir():  # a share not mounted: no "nothing to do"
        result.problem = environment_message(FileNotFoundError(errno.ENOENT, "", str(settings.inbox)), settings.inbox)
    with _ledger(settings, ledger) as led, _progress(progress, len(found)) as advance, run_reader(reader) as read:
        backfill_results(led, settings)
        run = _Run(settings, led, result, period=period, write=write, advance=advance, reader=read)
        run.finisher.apart = write and len(found) >= APART_MIN_FILES
        run.finisher.start_apart()
        try:
            run.finish_unfinished()
            coming = run.finisher.coming = Counter(_folder_of(p, root) for p, root in found)
            pending = deque(found)  # taken chunk by chunk: a finished file's Path is not kept (issue 19)
            del found
            while pending:
                batch = [pending.popleft() for _ in range(min(CHUNK, len(pending)))]
                run.ahead = [p for p, _ in islice(pending, CHUNK)]
                coming.subtract(_folder_of(p, root) for p, root in batch)
                # settled chunk by chunk, just before its claims: a city inbox (44,000 files)
                # no longer waits ~14 s for every file's check before the first is read (issue 19)
                unsettled = _settle([p for p, _ in batch], settle)
                for path in sorted(unsettled):
                    if unsettled[path] == GONE:  # moved since the scan (finish_unfinished, another
                        run.advance()  # process): nothing to leave, as when a claim finds it gone
                    else:
                        run.skip(path)
                run.chunk([(p, root) for p, root in batch if p not in unsettled])
            # every file is read: the readers' memory is free for the last unit workbooks (written
            # here beside the writer process's last job) and the roll-ups (issue 19)
            stop_reader(read)
            run.finish_later()
            if write:  # block and district roll-ups once per run (marked in the ledger, crash-safe)
                run.rollups()
        finally:
            run.close()
    if settings.reports.pdf:
        _pdf_copies(settings, result, progress)
    log.info("process: %s", result.counts)
    return result


def _folder_of(path: Path, root: Path | None) -> str | None:
    """The unit folder a file of the run is recorded with (``None`` outside one)."""
    folder = unit_folder(path, root) if root is not None else None
    return fs_text(folder) if folder is not None else None


def _pdf_copies(settings: Settings, result: BatchResult, progress: Progress | None) -> None:
    """``reports.pdf``: PDF copies of this run's outputs and error workbooks. A missing
    LibreOffice is logged, not raised: the files are recorded and their workbooks written."""
    books = [*result.outputs, *(Path(p) for f in result.files for p in f.error_files)]
    try:
        result.outputs += pdf_copies(settings, books, True, progress)
    except DanhgiaError as exc:
        log.error("%s", exc)


def _wait(seconds: float) -> None:
    time.sleep(seconds)


def _settle(paths: list[Path], seconds: float) -> dict[Path, str]:
    """SPEC §9: the files not settled yet (:func:`~danhgia_batch.intake.unsettled_reason`),
    to be left in the inbox for a later run (neither claimed nor rejected).

    Files changed within ``seconds`` are watched until they are that old (at most ``seconds``);
    a file beside an Office / LibreOffice lock file, or a zip whose directory cannot be read,
    is left at once: a scheduled run does not wait for a clerk to close Excel.
    """
    unsettled = wait_until_settled(paths, seconds, timeout=seconds, sleep=lambda s: _wait(s))
    for path, reason in unsettled.items():
        if reason == GONE:  # moved since the scan: dropped by the caller, not left for later
            continue
        log.info("process: %s not settled (%s), left for a later run", fs_text(path), reason)
    return unsettled


@contextmanager
def _ledger(settings: Settings, given: Ledger | None) -> Iterator[Ledger]:
    """``given`` as is (its owner closes it), else a ledger opened and closed here."""
    if given is not None:
        yield given
        return
    with open_ledger(settings) as ledger:
        yield ledger


@contextmanager
def _progress(progress: Progress | None, total: int) -> Iterator[Callable[[], None]]:
    steps = Steps(progress, "Xử lý tệp", total)
    yield steps.advance


class _Run:
    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        result: BatchResult,
        *,
        period: str | None,
        write: bool,
        advance: Any,
        reader: Reader | None = None,
    ) -> None:
        self.settings, self.ledger, self.result = settings, ledger, result
        self.reader = reader
        self.period, self.write, self.advance = period, write, advance
        self.inbox = settings.inbox.resolve()
        self.finisher = Finisher(settings, ledger, result)
        self.ahead: list[Path] = []  # the next chunk's files: read while this one is recorded
        self.warm = False  # validation's libraries imported (while the workers read the first chunk)

    def close(self) -> None:
        self.finisher.close()

    # ---------------------------------------------------------------- chunks

    def finish_unfinished(self) -> None:
        """Redo outputs and the move for files a dead run recorded but did not archive."""
        items = []
        for file in self.ledger.unfinished():
            res = _file_result(file, effects.source_of(self.settings, file), resumed=True)
            res.issues = self.ledger.file_issues(file.id)
            items.append(Item(effects.source_of(self.settings, file), Claim("finish", file), file, res, res.issues))
        if items:
            log.info("finishing %d file(s) left half-done by an earlier run", len(items))
            self._finish(items, last=True)  # before the inbox's chunks: they may hold the same files

    def chunk(self, batch: Sequence[tuple[Path, Path | None]]) -> None:
        to_read: list[Item] = []
        ready: list[Item] = []
        copies: list[tuple[Path, Path | None]] = []  # copies of a file this chunk is reading
        for item in self._claim_all(batch, copies):
            if item is None:
                continue
            if item.claim.action == "finish":
                item.result.resumed = True
                item.issues = item.result.issues = self.ledger.file_issues(item.file.id)
                ready.append(item)
            elif item.claim.duplicate_of is not None:
                self._record_duplicate(item)
                ready.append(item)
            else:
                to_read.append(item)
        ready += self._read_and_record(to_read)
        while copies:  # the original is recorded now: each copy is a duplicate, or read again
            again: list[Item] = []
            later: list[tuple[Path, Path | None]] = []  # copies of a copy this round reads again
            for path, root in copies:
                item = self._claim(path, root, later)
                if item is not None and item.claim.duplicate_of is not None:
                    self._record_duplicate(item)
                    ready.append(item)
                elif item is not None:  # the original was rejected: the copy is read on its own
                    again.append(item)
            ready += self._read_and_record(again)
            if not again and len(later) == len(copies):  # held by nothing this run reads: never so
                for path, _root in later:
                    self.skip(path)
                later = []
            copies = later
        self._finish(ready)

    def _record_duplicate(self, item: Item) -> None:
        """Record a byte-identical copy; a failure is this file's outcome, never the run's."""
        assert item.claim.duplicate_of is not None
        try:
            self._record(item, decide_duplicate(item.file.name, item.claim.duplicate_of))
        except ClaimLost:
            item.result.outcome = SKIPPED
        except LedgerError:  # the ledger itself is gone: the run cannot go on (exit 2)
            raise
        except Exception as exc:
            log.exception("processing %s failed", fs_text(item.path))
            self._fail(item, f"{type(exc).__name__}: {exc}")

    def _claim_all(
        self, batch: Sequence[tuple[Path, Path | None]], copies: list[tuple[Path, Path | None]]
    ) -> Iterator[Item | None]:
        """:meth:`_claim` of every file of a chunk, the claims taken in one ledger transaction."""
        found: list[tuple[Path, Path | None, dict[str, Any]]] = []
        for path, root in batch:
            args = self._claim_args(path, root)
            if args is None:
                yield None
            else:
                found.append((path, root, args))
        for start in range(0, len(found), CLAIM_BATCH):
            part = found[start : start + CLAIM_BATCH]
            claims = self.ledger.claim_many([args for _, _, args in part])
            for (path, root, args), claim in zip(part, claims, strict=True):
                yield self._claimed(path, root, args, claim, copies)

    def _claim_args(self, path: Path, root: Path | None) -> dict[str, Any] | None:
        """The arguments of the ledger's claim of ``path`` (stat and hash), ``None`` if it is gone."""
        try:
            st = path.stat()
            sha = sha256_file(path)
        except OSError:  # gone meanwhile (another watcher moved it), or unreadable
            self.advance()
            if path.exists() and not any(o.path == fs_text(path) for o in self.result.odd):
                log.warning("Không đọc được %s; để nguyên trong hộp thư đến", fs_text(path))
                self.result.odd.append(OddEntry(fs_text(path), "unreadable"))
            return None
        # stored and shown as valid UTF-8 (issue 17 ¶1); effects.source_of finds the file again
        rel = fs_text(path.relative_to(self.inbox) if root == self.inbox else path)
        return {
            "sha256": sha,
            "name": fs_text(path.name),
            "inbox_path": rel,
            "unit_folder": _folder_of(path, root),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
        }

    def _claim(self, path: Path, root: Path | None, copies: list[tuple[Path, Path | None]]) -> Item | None:
        args = self._claim_args(path, root)
        if args is None:
            return None
        return self._claimed(path, root, args, self.ledger.claim(**args), copies)

    def _claimed(
        self,
        path: Path,
        root: Path | None,
        args: dict[str, Any],
        claim: Claim,
        copies: list[tuple[Path, Path | None]],
    ) -> Item | None:
        rel, sha = args["inbox_path"], args["sha256"]
        mine = claim.file is not None and claim.file.claimed_by == self.ledger.worker
        if claim.action == "busy" and mine and claim.file and claim.file.inbox_path != rel:
            copies.append((path, root))
            return None
        derived = claim.file is not None and claim.file.claim_key != sha  # "dup:…" or "again:…"
        if claim.action == "process" and derived and claim.file and not path.exists():
            # another process archived this very file between our hash and our claim: its
            # bytes are recorded (a duplicate) or were just rejected (an "again" claim would
            # record the same file a second time); either way it is not a new arrival
            self.ledger.unclaim(claim.file.id)
            claim = Claim("busy", claim.file)
        if claim.action == "busy" or claim.file is None:
            self.skip(path)
            return None
        return Item(path, claim, claim.file, _file_result(claim.file, path))

    def skip(self, path: Path) -> None:
        """Leave ``path`` in the inbox for a later run (not settled yet, or another live process
        holds its bytes)."""
        self.result.files.append(skipped(path))
        self.advance()

    def _read_and_record(self, items: list[Item]) -> list[Item]:
        if not items:
            return []
        from ..read import read_forms

        by_path = {str(i.path): i for i in items}
        done: list[Item] = []
        paths = [i.path for i in items]
        if self.reader is not None:
            prefetch = getattr(self.reader, "prefetch", None)
            if prefetch is not None and not self.warm:
                # the first chunk: the workers read it while this process imports pandas and
                # pandera for its validation (issue 19); the call below takes what they read
                prefetch(paths, self.settings)
                if len(paths) > 1:  # one file is validated without pandas (read.schema)
                    warm_validation()
            self.warm = True
            forms: Iterable[FormResult] = list(self.reader(paths, self.settings))
            if prefetch is not None and self.ahead:  # reading has no effect: claims come later
                prefetch(self.ahead, self.settings)
            self.ahead = []
        else:
            forms = read_forms(paths, self.settings, workers=self.settings.reader.workers)
        batch: list[tuple[Item, FormResult]] = []
        for form in forms:
            item = by_path.pop(str(form.path), None)
            if item is None:
                continue
            done.append(item)
            if self._other_period(item, form):
                continue
            if form.kind == KIND_REGISTRY:  # a new registry: the files after it are judged by it
                self._decide_and_record_batch(batch)
                batch = []
                self._decide_and_record(item, form)
            else:
                batch.append((item, form))
        self._decide_and_record_batch(batch)
        for item in by_path.values():  # the reader lost a file: count it as a failed attempt
            self._fail(item, "không nhận được kết quả đọc tệp")
            done.append(item)
        return done

    def _other_period(self, item: Item, form: FormResult) -> bool:
        """``process --period``: a file of another period is given back (left for later)."""
        if not (self.period and form.header.period and form.header.period != self.period and form.kind != "00"):
            return False
        try:
            self.ledger.unclaim(item.file.id)
            item.result.outcome = SKIPPED
        except Exception as exc:  # a bug or a transient failure: never lose the file
            log.exception("processing %s failed", fs_text(item.path))
            self._fail(item, f"{type(exc).__name__}: {exc}")
        return True

    def _decide_and_record_batch(self, batch: list[tuple[Item, FormResult]]) -> None:
        """Decide and record a chunk's forms in one ledger transaction (issue 19); each form's
        failure is its own outcome, as in :meth:`_decide_and_record`. Should the transaction
        itself fail, each form is taken again on its own."""
        if not batch:
            return
        if len(batch) == 1:
            self._decide_and_record(*batch[0])
            return
        try:
            outcomes = decide_and_record_batch(self.ledger, self.settings, [(i.file, f) for i, f in batch])
        except Exception:
            log.exception("recording %d files together failed; recording them one by one", len(batch))
            for item, form in batch:
                self._decide_and_record(item, form)
            return
        for (item, _), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, ClaimLost):
                item.result.outcome = SKIPPED
            elif isinstance(outcome, Exception):
                log.error("processing %s failed", fs_text(item.path), exc_info=outcome)
                self._fail(item, f"{type(outcome).__name__}: {outcome}")
            else:
                self._recorded(item, outcome)
        self.ledger.heartbeat()

    def _decide_and_record(self, item: Item, form: FormResult) -> None:
        try:
            decide_and_record(self.ledger, self.settings, item.file, form, lambda rec: self._record(item, rec))
        except ClaimLost:
            item.result.outcome = SKIPPED
        except Exception as exc:  # a bug or a transient failure: never lose the file
            log.exception("processing %s failed", fs_text(item.path))
            self._fail(item, f"{type(exc).__name__}: {exc}")
        self.ledger.heartbeat()

    def _record(self, item: Item, rec: Record) -> None:
        self._recorded(item, self.ledger.record(item.file.id, rec))

    def _recorded(self, item: Item, recorded: Recorded) -> None:
        item.file = recorded.file
        item.issues = recorded.issues
        item.result = _file_result(recorded.file, item.path)
        item.result.issues = recorded.issues
        item.result.superseded = recorded.superseded
        effects.step_done("recorded", item.file)
        if item.file.state == "recorded" and item.file.outcome == "rejected":
            try:
                self.finisher.start_errors(item)
            except Exception:  # recorded all the same: _finish writes it itself
                log.exception("could not start the error workbook of %s", fs_text(item.path))

    def _fail(self, item: Item, detail: str) -> None:
        """Unexpected error: keep the original in the inbox for a retry, reject after a few."""
        if item.file.attempts >= MAX_ATTEMPTS:
            issue = make_issue("processing-failed", file=item.path.name, detail=detail)
            self._record(item, Record(outcome="rejected", kind=item.file.kind, issues=[issue]))
            return
        item.file = self.ledger.release_failed(item.file.id, detail)
        item.result.outcome = "failed"
        item.result.issues = [make_issue("processing-failed", file=item.path.name, detail=detail)]

    # ---------------------------------------------------------------- effects

    def rollups(self) -> None:
        self.finisher.rollups()

    def finish_later(self) -> None:
        """Finish the rejected files whose error workbooks were still being written."""
        self.finisher.finish([], self.write)

    def _finish(self, items: list[Item], *, last: bool = False) -> None:
        self.finisher.finish(items, self.write, last=last)
        for _ in items:
            self.advance()
        self.ledger.heartbeat()


def _file_result(file: FileRecord, path: Path, *, resumed: bool = False) -> FileResult:
    return FileResult(
        path=fs_text(path),
        name=file.name,
        outcome=file.outcome or "processing",
        file_id=file.id,
        kind=file.kind,
        period=file.period,
        unit_code=file.unit_code,
        block=file.block,
        resumed=resumed,
        source=path,
    )


OUTCOME_LABELS = {
    "accepted": "Chấp nhận",
    "invalid": "Vi phạm tỷ lệ (không hợp lệ)",
    "rejected": "Bị trả lại",
    "duplicate": "Trùng lặp (đã nhận trước đó)",
    "failed": "Lỗi xử lý (giữ lại để thử lại)",
    SKIPPED: "Để lần sau (đang chép dở, khác kỳ, hoặc tiến trình khác đang xử lý)",
}


def summary_rows(result: BatchResult) -> Iterable[tuple[str, int]]:
    """(Vietnamese label, count) for the final summary table."""
    counts = result.counts
    rows = [(label, counts[k]) for k, label in OUTCOME_LABELS.items()]
    if result.unfinished:
        rows.append(("Chưa xong do lỗi ổ đĩa/thư mục (còn trong hộp thư đến)", result.unfinished))
    if result.odd:
        rows.append(("Không phải tệp thường (bỏ qua)", len(result.odd)))
    return rows
