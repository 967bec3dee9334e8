"""Run the reader in child processes with a memory limit and a per-file timeout.

python-calamine can abort its whole process on a crafted file and openpyxl can exhaust memory
on a small zip bomb, so untrusted workbooks are never parsed in the caller's process. Workers
come from a ``forkserver`` (never a plain ``fork``: the watcher has threads) preloaded with the
reader path only (python-calamine and :mod:`danhgia_batch.read`: no pandas, pandera or
openpyxl), so the server starts in a fraction of a second and a new worker costs a fork. Each worker sets
``RLIMIT_AS`` to ``reader.memory_mb`` and, per file, ``RLIMIT_CPU`` to ``reader.cpu_seconds``
of CPU time: the limits measure the file, not the machine's load (issue 17 ¶9). The parent's
wall-clock limit ``reader.timeout_seconds`` only ends a truly stuck child: a file that hits it
is read once more, alone, with ``reader.retry_timeout_seconds``, and only rejected
(``file-timeout``) if that fails too; a file that passes on the retry is logged as "the server
was slow". When a worker dies it records ``file-reader-crash`` (``file-timeout`` when the CPU
limit killed it) for the file in hand, replaces the worker and goes on with the others.

Children die with their parent (:func:`die_with_parent`): when the watcher or ``danhgia
process`` is killed in a way that skips all clean-up (SIGKILL, OOM killer), a worker stuck in a
parse must not live on as an orphan, nor keep the forkserver alive.

A worker reads a batch of files (plain Python per file) and sends the batch back; the parent
validates the rows of every file of one :meth:`Pool.run` at once with pandera
(:func:`.read.schema.validate_batch`, one DataFrame for the whole run: issue 19; a single file
in plain Python from the same rules), on values that are already plain Python objects.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import multiprocessing as mp
import os
import select
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

from .issues import make_issue
from .models import FormResult
from .settings import Settings

log = logging.getLogger(__name__)

# the reader path only: the server starts fast and the workers stay small (issue 19)
PRELOAD = ["danhgia_batch.read.form", "python_calamine", "ctypes"]
MAX_BATCH = 16
_context: Any = None


def context() -> Any:
    """The multiprocessing context of reader workers (forkserver, preloaded once).

    Every process it starts (reader workers, :func:`run_isolated`, the report writers'
    ``ProcessPoolExecutor`` of ``pipeline.effects``) runs :func:`die_with_parent` first.
    """
    global _context
    if _context is None:
        try:
            server = _DyingForkServerContext()
            server.set_forkserver_preload(PRELOAD)
            _context = server
        except (ValueError, NameError):  # platforms without forkserver
            _context = mp.get_context("spawn")
    return _context


def start_early() -> None:
    """Start the forkserver now, without waiting for it (issue 19).

    It imports its preloads while the caller goes on importing the ledger and the pipeline,
    instead of after them (the first worker's start waits for those imports). Harmless when
    no file is read: the forkserver ends with this process.
    """
    ctx = context()
    if isinstance(ctx, mp.context.ForkServerContext):
        from multiprocessing import forkserver

        forkserver.ensure_running()


def limit_memory(memory_mb: int) -> None:
    """Cap this process's address space (``RLIMIT_AS``) at ``memory_mb`` MB."""
    try:
        import resource

        cap = memory_mb << 20
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-POSIX
        log.warning("cannot limit reader memory on this platform")


def limit_cpu(seconds: float) -> None:
    """Let this process use ``seconds`` more CPU time (``RLIMIT_CPU``); past it the kernel sends
    SIGXCPU, which ends the process (the parent reports the file in hand)."""
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
        _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-POSIX
        pass


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _release_forkserver() -> bool:
    """In a forkserver child, close its copy of the forkserver's "alive" pipe; True if done.

    CPython hands the write end of that pipe to every forkserver child (so that a child could
    start processes of its own) and the forkserver only exits when *all* holders are gone: a
    worker stuck in a parse would keep it alive after the main process died, and itself with
    it. Our workers never start processes, so only the main process keeps the pipe open and the
    forkserver exits when it dies. ``_forkserver_alive_fd`` is CPython's private attribute
    (set by ``multiprocessing.forkserver._serve_one``, 3.8 to 3.14): read defensively.
    """
    try:
        from multiprocessing import forkserver
    except ImportError:  # pragma: no cover - platforms without forkserver
        return False
    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if not isinstance(fd, int) or server is None or getattr(server, "_forkserver_pid", None) is not None:
        return False  # not a forkserver child (the main process has the pid, children do not)
    with contextlib.suppress(OSError):
        os.close(fd)
    server._forkserver_alive_fd = None
    return True


def die_with_parent() -> None:
    """Make this reader child die when the process that started it dies (Linux; no-op elsewhere).

    The chain, all in the kernel once set up (nothing here needs the GIL, so a worker spinning
    in C code dies too): the main process dies → the forkserver sees EOF on its "alive" pipe
    (held by the main process only, see :func:`_release_forkserver`) and exits → the kernel
    sends this worker ``SIGKILL`` (``PR_SET_PDEATHSIG``; the forkserver is single-threaded, so
    "the thread that forked us" is the forkserver itself) → the resource tracker, whose pipe the
    workers held, sees EOF and exits. PDEATHSIG is only set when the parent is the forkserver:
    under a plain ``spawn`` the parent is whichever main-process thread started the worker, and
    the watcher's threads come and go.
    """
    if not sys.platform.startswith("linux") or not _release_forkserver():
        return
    import ctypes  # (preloaded by the forkserver; the main process never needs it)

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    except (OSError, AttributeError) as exc:  # pragma: no cover - seccomp, odd libc
        log.warning("reader child cannot follow its parent's death: %s", exc)
        return
    parent = mp.parent_process()
    if parent is not None and not parent.is_alive():  # it died before prctl took effect
        os._exit(1)


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Start a child without the ``__main__`` script.

    A child started by CPython's forkserver runs the parent's main script first when it has
    one (not for ``python -m``): for the ``danhgia`` console script that is the whole CLI, typer
    and pydantic, ~0.1 s in every reader worker before it reads its first file (issue 19). Every
    child started here runs a function of this package, never one of ``__main__``, so the
    script's path is hidden while the child's preparation data are taken.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


if sys.platform != "win32":
    from multiprocessing.context import ForkServerContext, ForkServerProcess

    class _DyingProcess(ForkServerProcess):
        """A forkserver process that first makes sure it dies with its parent."""

        @staticmethod
        def _Popen(process_obj: Any) -> Any:
            with _main_script_hidden():
                return ForkServerProcess._Popen(process_obj)

        def run(self) -> None:
            die_with_parent()
            super().run()

    class _DyingForkServerContext(ForkServerContext):
        Process = _DyingProcess


def _worker(conn: Connection, settings: Settings) -> None:
    """Worker loop: receive a batch of paths, read each, send the results."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    limit_memory(settings.reader.memory_mb)
    from .read.form import read_form_here

    while True:
        try:
            batch = conn.recv()
        except EOFError:
            return
        if batch is None:
            return
        forms = []
        retire = False

        def on_big_registry(rows: int) -> None:
            # a city registry: more memory and time for this file, then this worker retires
            # (its heap stays grown; lowering the cap again would fail the next files)
            nonlocal retire
            retire = True
            limits = settings.reader
            if limits.registry_memory_mb > limits.memory_mb:
                limit_memory(limits.registry_memory_mb)
            limit_cpu(limits.cpu_seconds * math.ceil(rows / limits.max_rows))
            conn.send(("extend", limits.timeout_seconds * math.ceil(rows / limits.max_rows)))

        for i, path in enumerate(batch):
            conn.send(("start", i))
            limit_cpu(settings.reader.cpu_seconds)
            forms.append(read_form_here(path, settings, on_big_registry))
        # pickle protocol 5 (the default is 4): ~25 % less time to pickle and unpickle FormResults
        conn.send_bytes(ForkingPickler.dumps(("done", forms, retire), protocol=5))
        if retire:
            return


def warm_validation() -> None:
    """Import what :func:`validate_read` needs (pandas, pandera) now, e.g. while the workers read."""
    from .read.schema import warm

    warm()


def validate_read(forms: Sequence[FormResult], settings: Settings) -> None:
    """Validate the rows of ``forms`` together (pandera, in this process); a validation bug
    becomes a ``processing-failed`` issue of each file, never a lost file."""
    if not forms:
        return
    from .read.schema import validate_batch

    try:
        validate_batch(forms, settings)
    except MemoryError:
        raise
    except Exception as exc:
        log.exception("batch validation failed")
        for form in forms:
            form.issues.append(make_issue("processing-failed", file=form.path.name, detail=type(exc).__name__))


@dataclass
class _Slot:
    """A live worker and the batch it holds."""

    proc: Any
    conn: Connection
    batch: list[Path] = field(default_factory=list)
    index: int = -1  # file of ``batch`` being read
    deadline: float = math.inf
    timeout: float = 0.0  # wall-clock limit of this batch (longer for a retried file)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "không phản hồi"
    if code < 0:
        try:
            return f"tín hiệu {signal.Signals(-code).name}"
        except ValueError:
            return f"tín hiệu {-code}"
    return f"mã thoát {code}"


class Pool:
    """A small pool of reader workers with per-file timeouts and crash replacement.

    With ``validate`` (the default), :meth:`run` validates the rows of all its files at once
    in this process and yields them when every file is read; without it, each file is yielded
    as soon as its batch is back (unvalidated).
    """

    def __init__(self, settings: Settings, workers: int, *, validate: bool = True) -> None:
        self.settings = settings
        self.size = max(1, workers)
        self.validate = validate
        self.timeout = settings.reader.timeout_seconds
        self.retry_timeout = settings.reader.retry_timeout_seconds
        self.slots: list[_Slot] = []
        self.queue: deque[list[Path]] = deque()  # batches not handed to a worker yet
        self.retried: set[Path] = set()  # files read again after hitting the wall-clock limit

    def _spawn(self) -> _Slot:
        ctx = context()
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child, self.settings), daemon=True)
        proc.start()
        child.close()
        return _Slot(proc, parent)

    def _kill(self, slot: _Slot) -> None:
        if slot.proc.is_alive():
            slot.proc.kill()
        slot.proc.join(5)
        slot.conn.close()
        self.slots.remove(slot)

    def close(self) -> None:
        self.queue.clear()
        for slot in list(self.slots):
            with contextlib.suppress(OSError, ValueError):
                slot.conn.send(None)
        for slot in list(self.slots):
            slot.proc.join(2)
            self._kill(slot)

    def _failed(self, slot: _Slot, code: str, queue: deque[list[Path]]) -> list[FormResult]:
        """The worker died or hung: report the file in hand, re-queue the others of its batch.

        A file that only hit the wall-clock limit is re-queued alone for one retry with the
        longer limit (a busy server is not the clerk's fault); one that exceeded its CPU time
        is reported at once.
        """
        exit_text = _describe_exit(slot.proc.exitcode)
        cpu = slot.proc.exitcode == -getattr(signal, "SIGXCPU", -1)
        self._kill(slot)
        batch, i = slot.batch, slot.index
        bad, rest = ([batch[i]], batch[:i] + batch[i + 1 :]) if 0 <= i < len(batch) else (list(batch), [])
        for p in reversed(rest):
            queue.appendleft([p])
        failures = []
        for p in bad:
            if code == "file-timeout" and p not in self.retried:
                self.retried.add(p)
                log.warning("Đọc %s quá %g giây (đồng hồ); đọc lại một lần với giới hạn dài hơn", p, slot.timeout)
                queue.appendleft([p])
            elif cpu:
                failures.append(_failure(p, "file-timeout", exit_text, self.settings.reader.cpu_seconds))
            else:
                failures.append(_failure(p, code, exit_text, slot.timeout or self.timeout))
            if failures and failures[-1].path == p:
                self.retried.discard(p)
        return failures

    def _batch_timeout(self, batch: list[Path]) -> float:
        if len(batch) == 1 and batch[0] in self.retried:
            return self.retry_timeout or 4 * self.timeout
        return self.timeout

    def run(self, batches: Sequence[list[Path]]) -> Iterator[FormResult]:
        if not self.validate:
            yield from self._read(batches)
            return
        forms = list(self._read(batches))
        validate_read(forms, self.settings)
        yield from forms

    def _dispatch(self) -> None:
        """Hand queued batches to idle workers (starting workers up to :attr:`size`); no wait."""
        while self.queue and len([s for s in self.slots if s.batch]) < self.size:
            slot = next((s for s in self.slots if not s.batch), None) or self._new_slot()
            slot.batch, slot.index = self.queue.popleft(), -1
            slot.timeout = self._batch_timeout(slot.batch)
            slot.deadline = time.monotonic() + slot.timeout
            slot.conn.send(slot.batch)

    def _read(self, batches: Sequence[list[Path]]) -> Iterator[FormResult]:
        """Read ``batches`` and whatever was queued before them; yield as batches come back."""
        self.queue.extend(batches)
        try:
            while self.queue or any(s.batch for s in self.slots):
                self._dispatch()
                yield from self._step(self.queue)
        finally:
            self.close()

    def _new_slot(self) -> _Slot:
        slot = self._spawn()
        self.slots.append(slot)
        return slot

    def _step(self, queue: deque[list[Path]]) -> Iterator[FormResult]:
        busy = [s for s in self.slots if s.batch]
        now = time.monotonic()
        wait_for = max(0.0, min(s.deadline for s in busy) - now)
        handles: dict[Any, _Slot] = {}
        for s in busy:
            handles[s.conn] = s
            handles[s.proc.sentinel] = s
        ready = _wait(list(handles), wait_for)
        done: set[int] = set()
        for h in ready:
            slot = handles[h]
            if id(slot) in done or slot not in self.slots:
                continue
            done.add(id(slot))
            yield from self._drain(slot, queue)
        now = time.monotonic()
        for slot in [s for s in self.slots if s.batch and s.deadline <= now]:
            # debug only: _failed logs the retry or reports the file; whether the worker's "start"
            # arrived before the deadline (a race) decides whether the file or its batch is named
            log.debug(
                "reader timeout on %s", slot.batch[slot.index] if 0 <= slot.index < len(slot.batch) else slot.batch
            )
            yield from self._failed(slot, "file-timeout", queue)

    def _drain(self, slot: _Slot, queue: deque[list[Path]]) -> Iterator[FormResult]:
        try:
            while _readable(slot.conn):
                msg = slot.conn.recv()
                if msg[0] == "start":
                    slot.index = msg[1]
                    slot.deadline = time.monotonic() + slot.timeout
                elif msg[0] == "extend":  # a big registry: its own, longer deadline
                    slot.deadline = time.monotonic() + max(slot.timeout, msg[1])
                elif msg[0] == "done":
                    slot.batch, slot.index, slot.deadline = [], -1, math.inf
                    if msg[2]:  # the worker retires after a big registry
                        slot.proc.join(5)
                        self._kill(slot)
                    for form in msg[1]:
                        if form.path in self.retried:
                            self.retried.discard(form.path)
                            log.warning(
                                "Máy chủ chậm: %s đọc quá %g giây lần đầu, lần đọc lại thành công",
                                form.path,
                                self.timeout,
                            )
                    yield from msg[1]
                    return
        except (EOFError, OSError):
            pass
        if not slot.proc.is_alive():
            slot.proc.join(1)
            yield from self._failed(slot, "file-reader-crash", queue)


def _wait(handles: list[Any], timeout: float) -> list[Any]:
    """:func:`multiprocessing.connection.wait` for connections and sentinels (Linux: one
    ``poll(2)``, without building a selector each time: the parent waits about twice per file
    read, issue 19); elsewhere that function itself."""
    if not hasattr(select, "poll"):  # pragma: no cover - Windows
        return list(wait(handles, timeout=timeout))
    poller = select.poll()
    by_fd: dict[int, Any] = {}
    for h in handles:
        fd = h if isinstance(h, int) else h.fileno()
        by_fd[fd] = h
        poller.register(fd, select.POLLIN)
    ms = -1 if timeout == math.inf else math.ceil(timeout * 1000)  # as the selector rounds
    return [by_fd[fd] for fd, _events in poller.poll(ms)]


def _readable(conn: Connection) -> bool:
    """``conn.poll()`` (a message, or the end of the pipe, is waiting) in one ``poll(2)``."""
    if not hasattr(select, "poll"):  # pragma: no cover - Windows
        return conn.poll()
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def _failure(path: Path, code: str, exit_text: str, timeout: float) -> FormResult:
    form = FormResult(path=Path(path))
    params: dict[str, Any] = {"limit": f"{timeout:g}"} if code == "file-timeout" else {"detail": exit_text}
    form.issues.append(make_issue(code, file=Path(path).name, **params))
    return form


def batches(paths: Sequence[Path], workers: int) -> list[list[Path]]:
    """Split ``paths`` into batches: a few per worker, at most :data:`MAX_BATCH` files each."""
    if not paths:
        return []
    size = max(1, min(MAX_BATCH, math.ceil(len(paths) / (workers * 4))))
    return [list(paths[i : i + size]) for i in range(0, len(paths), size)]


ISOLATED_CALLS = 32  # calls one isolated child makes before a fresh one replaces it


class Isolated:
    """One limited child process that makes calls one after the other (``RLIMIT_AS`` set once).

    Started on the first call; replaced after a failed call (an exception, the memory limit,
    a crash, the time limit: a fresh heap for the next file) and after
    :data:`ISOLATED_CALLS` calls. A run that writes several error workbooks thus imports
    openpyxl once, not once per file (issue 19).
    """

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self._proc: Any = None
        self._conn: Connection | None = None
        self._calls = 0

    def _start(self) -> None:
        ctx = context()
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_isolated_loop, args=(child, self.memory_mb), daemon=True)
        self._proc.start()
        child.close()
        self._conn, self._calls = parent, 0

    def call(self, func: Callable[..., Any], args: tuple[Any, ...], *, timeout: float) -> tuple[bool, Any]:
        """``(True, result)`` or ``(False, reason)``, like :func:`run_isolated`."""
        if self._proc is None or not self._proc.is_alive() or self._calls >= ISOLATED_CALLS:
            self.close()
            self._start()
        assert self._conn is not None
        self._calls += 1
        result: tuple[bool, Any] | None = None
        try:
            self._conn.send((func, args))
            result = self._conn.recv() if self._conn.poll(timeout) else (False, f"quá {timeout:g} giây")
        except (EOFError, OSError):
            self._proc.join(2)
            result = (False, _describe_exit(self._proc.exitcode))
        if not result[0]:
            self.close()
        return result

    def close(self) -> None:
        """Stop the child (the next call starts a new one)."""
        if self._proc is None:
            return
        with contextlib.suppress(OSError, ValueError):
            assert self._conn is not None
            self._conn.send(None)
        self._proc.join(0.5)
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn = None, None


_shared: dict[int, Isolated] = {}
_shared_lock = threading.Lock()


def run_isolated(
    func: Callable[..., Any], args: tuple[Any, ...], *, memory_mb: int, timeout: float
) -> tuple[bool, Any]:
    """Call ``func(*args)`` in a limited child process: ``(True, result)`` or ``(False, reason)``.

    Used to write annotated copies of untrusted workbooks (openpyxl) without risking the caller.
    The child (:class:`Isolated`, one per memory limit) is kept for the next call; calls are
    made one at a time.
    """
    with _shared_lock:
        runner = _shared.get(memory_mb)
        if runner is None:
            runner = _shared[memory_mb] = Isolated(memory_mb)
        return runner.call(func, args, timeout=timeout)


def close_isolated() -> None:
    """Stop the kept isolated children (also done at exit)."""
    with _shared_lock:
        for runner in _shared.values():
            runner.close()
        _shared.clear()


atexit.register(close_isolated)


def _isolated_loop(conn: Connection, memory_mb: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    limit_memory(memory_mb)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        func, args = job
        try:
            result: tuple[bool, Any] = (True, func(*args))
        except MemoryError:
            result = (False, "vượt giới hạn bộ nhớ")
        except Exception as exc:
            result = (False, f"{type(exc).__name__}: {exc}"[:200])
        conn.send(result)
        if not result[0]:
            return  # a fresh child for the next call
