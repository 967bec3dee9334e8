"""One measurement, run in its own process (``python -m benchmarks.run --child KIND …``).

Each measurement sets up a fresh run folder (untimed), times one call, and reports the
wall time and the peak resident memory of its whole process tree (itself, the reader
workers and the forkserver), sampled from ``/proc`` every 20 ms, plus ``getrusage``.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from .inputs import SETTLE, Scale, districts, settings_for

# The sampler runs in its own process (not a thread: scanning /proc under the GIL would slow
# the measured code down). It rescans /proc for the tree every 0.1 s and reads the RSS of the
# known processes every 50 ms, then prints the peak (bytes) when its stdin closes. It also
# sums the PSS of the tree every 0.5 s: the reader workers are forked from a preloaded
# forkserver and share most of their pages with it, which a sum of RSS counts once per process.
_SAMPLER = r"""
import os, sys, select, time
root, me, own = int(sys.argv[1]), os.getpid(), sys.argv[2] == "1"
page = os.sysconf("SC_PAGE_SIZE")
def tree():
    parents = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open(f"/proc/{e}/stat", "rb") as fh:
                    parents[int(e)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(c for c, p in parents.items() if p == pid and c != me)
    return out
def pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0
peak, peak_pss, pids, last, cpu = 0, 0, [root], 0.0, {}
tick = os.sysconf("SC_CLK_TCK")
while True:
    now = time.monotonic()
    if now - last > 0.1:
        pids, last = tree(), now
        peak_pss = max(peak_pss, sum(pss(p) for p in pids if own or p != root))
    total = 0
    for pid in pids:
        try:
            if own or pid != root:
                with open(f"/proc/{pid}/statm", "rb") as fh:
                    total += int(fh.read().split()[1]) * page
            with open(f"/proc/{pid}/stat", "rb") as fh:
                f = fh.read().rsplit(b")", 1)[1].split()
                cpu[pid] = (int(f[11]) + int(f[12])) / tick  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    peak = max(peak, total)
    if select.select([sys.stdin], [], [], 0.05)[0]:
        break
cpu.pop(root, None)  # the measuring process itself (it only waits)
print(peak, peak_pss, round(sum(cpu.values()), 2), flush=True)
"""


class PeakRss:
    """Peak resident memory (bytes) of this process's descendants while active, and of this
    process too when ``own`` (a measurement made in this process, like (c0)). A command run as
    a subprocess is measured without this process, which only waits for it: the benchmark's
    own interpreter (~25 MB) is not the product's memory."""

    def __init__(self, *, own: bool = False) -> None:
        self.own = own
        self.peak = 0
        self.peak_pss = 0  # proportional set size (shared pages split between their processes)
        self.cpu = 0.0  # CPU seconds of the tree's processes (sampled: a process living < 50 ms may be missed)
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> PeakRss:
        if Path("/proc").is_dir():
            cmd = [sys.executable, "-c", _SAMPLER, str(os.getpid()), "1" if self.own else "0"]
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            out, _ = self._proc.communicate("stop\n", timeout=30)
            values = [float(v) for v in out.split()] or [0.0]
            self.peak = int(values[0])
            self.peak_pss = int(values[1]) if len(values) > 1 else 0
            self.cpu = values[2] if len(values) > 2 else 0.0


def _fresh_run(scale: Scale, kind: str, ledger: str = "base") -> tuple[Path, Any]:
    run = scale.folder / "runs" / kind
    if run.exists():
        shutil.rmtree(run)
    run.mkdir(parents=True)
    shutil.copy(scale.folder / "danhgia.toml", run / "danhgia.toml")
    shutil.copytree(scale.folder / "templates_xlsx", run / "templates_xlsx")
    shutil.copy(scale.folder / f"{ledger}.sqlite3", run / "danhgia.sqlite3")
    settings = settings_for(run)
    for name in ("inbox", "outbox", "archive", "logs"):
        settings.path(name).mkdir(parents=True, exist_ok=True)
    return run, settings


def _link_inputs(scale: Scale, inbox: Path) -> None:
    shutil.copytree(scale.folder / "inputs", inbox, copy_function=os.link, dirs_exist_ok=True)


def _input_files(scale: Scale) -> list[Path]:
    return sorted(p for p in (scale.folder / "inputs").rglob("*.xlsx"))


# ---- (a) the read floor, (n) the naive baseline: scripts that import nothing of the product --


def _script(script: str, *args: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve().parent / script), *map(str, args)]


def _timed(cmd: list[str], *, cwd: Path | None = None, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """Run ``cmd`` as a subprocess (the way a user runs it); wall time and peak RSS of its tree."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANHGIA_")}
    if env.get("BENCH_PRODUCT"):
        env["PYTHONPATH"] = env["BENCH_PRODUCT"]
    with PeakRss() as rss:
        started, load = time.perf_counter(), os.getloadavg()[0]
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    if done.returncode not in ok:
        raise RuntimeError(f"{cmd} exited {done.returncode}:\n{done.stderr[-3000:]}")
    out = {"seconds": seconds, "cpu": rss.cpu, "rss": rss.peak, "pss": rss.peak_pss, "load": load}
    return out | {"out": done.stdout[-300:]}


def measure_floor(scale: Scale) -> dict[str, Any]:
    """(a): ``benchmarks/floor.py``, a plain 2-process python-calamine pool, every sheet."""
    out = _timed(_script("floor.py", scale.folder / "inputs", Path("2")))
    out["files"] = len(_input_files(scale))
    return out


def measure_naive(scale: Scale) -> dict[str, Any]:
    """(n): ``benchmarks/naive.py``, per file pandas + openpyxl + pandera + bands + quota + to_excel."""
    run = scale.folder / "runs" / "n"
    if run.exists():
        shutil.rmtree(run)
    run.mkdir(parents=True)
    return _timed(_script("naive.py", scale.folder / "inputs", run / "outbox"))


# ---- (b) process without reports, (d) with reports: the CLI as a subprocess ----------------


def danhgia_cmd() -> list[str]:
    """The ``danhgia`` entry point of this interpreter's environment (as a user runs it).

    With ``BENCH_PRODUCT=DIR`` (a checkout of another commit, e.g. ``git archive COMMIT danhgia_batch | tar -x -C DIR``), the
    product of ``DIR`` runs instead (``python -m danhgia_batch.cli`` with ``PYTHONPATH=DIR``):
    an A/B of two commits in the same minutes."""
    if os.environ.get("BENCH_PRODUCT"):
        return [sys.executable, "-m", "danhgia_batch.cli"]
    script = Path(sys.executable).with_name("danhgia")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "danhgia_batch.cli"]


def measure_process(scale: Scale, *, reports: bool) -> dict[str, Any]:
    kind = "d" if reports else "b"
    run, settings = _fresh_run(scale, kind)
    _link_inputs(scale, settings.inbox)
    cmd = [*danhgia_cmd(), "-c", str(run / "danhgia.toml"), "--json", "process"]
    out = _timed([*cmd, *([] if reports else ["--no-reports"])], cwd=run, ok=(0, 1))
    processed = scale.folder / "processed.sqlite3"
    if not reports and not processed.exists():
        shutil.copy(run / "danhgia.sqlite3", processed)
    out["files"] = len(_input_files(scale)) - sum(1 for _ in settings.inbox.rglob("*.xlsx"))
    return out


def measure_history(scale: Scale) -> dict[str, Any]:
    """(h): (b) on a ledger already holding :data:`~.inputs.HISTORY_MONTHS` recorded months
    (:func:`~.inputs.history_ledger`): what the months before cost the next one."""
    from .inputs import history_ledger

    history_ledger(scale)
    run, settings = _fresh_run(scale, "h", ledger="history")
    _link_inputs(scale, settings.inbox)
    cmd = [*danhgia_cmd(), "-c", str(run / "danhgia.toml"), "--json", "process", "--no-reports"]
    out = _timed(cmd, cwd=run, ok=(0, 1))
    out["files"] = len(_input_files(scale)) - sum(1 for _ in settings.inbox.rglob("*.xlsx"))
    return out


# ---- (k) ``danhgia check`` of one file, (i) ``python -c "import pandas"`` -------------------


def check_file(scale: Scale) -> Path:
    """The input list whose row count is nearest 24 (issue 19's "one 24-row file")."""
    from python_calamine import CalamineWorkbook

    def rows(p: Path) -> int:
        try:
            sheet = CalamineWorkbook.from_path(str(p)).get_sheet_by_index(0).to_python()
        except Exception:
            return 10**9
        return sum(1 for r in sheet if isinstance(r[0], float))

    lists = [p for p in _input_files(scale) if p.name.startswith("TongHop")]
    return min(lists, key=lambda p: (abs(rows(p) - 24), p.name))


def measure_check(scale: Scale) -> dict[str, Any]:
    run, _settings = _fresh_run(scale, "k")
    cmd = [*danhgia_cmd(), "-c", str(run / "danhgia.toml"), "check", str(check_file(scale))]
    return _timed(cmd, cwd=run, ok=(0, 1))


def rejected_inputs(scale: Scale) -> list[Path]:
    """The inputs the product rejected, as the processed ledger (left by a (b) run) names them."""
    import sqlite3

    ledger = scale.folder / "processed.sqlite3"
    with closing(sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT inbox_path FROM files WHERE outcome = 'rejected' ORDER BY id").fetchall()
    inputs = scale.folder / "inputs"
    return [p for (name,) in rows if (p := inputs / name).is_file()]


def measure_copies(scale: Scale) -> dict[str, Any]:
    """(o): ``benchmarks/copyfloor.py``, openpyxl's load and save of each rejected input in a
    plain 2-process pool: the least the error workbooks of (b) and (d) can cost with openpyxl."""
    files = rejected_inputs(scale)
    listing = scale.folder / "runs" / "o.txt"
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text("".join(f"{p}\n" for p in files), "utf-8")
    return _timed(_script("copyfloor.py", listing, Path("2"))) | {"files": len(files)}


def measure_import_pandas(scale: Scale) -> dict[str, Any]:
    return _timed([sys.executable, "-c", "import pandas"])


# ---- (c) every report from the ledger, (c0) xlsxwriter with the same number of cells --------


def _count_cells(paths: list[Path]) -> int:
    from python_calamine import CalamineWorkbook

    total = 0
    for p in paths:
        wb = CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            total += sum(sum(1 for v in row if v != "") for row in wb.get_sheet_by_name(name).to_python())
    return total


def measure_reports(scale: Scale) -> dict[str, Any]:
    """(c): ``danhgia report`` of the period (``--scope city`` for the city), as a subprocess."""
    run, settings = _fresh_run(scale, "c", ledger="processed")
    scope = "district" if scale.name == "district" else "city"
    cmd = [*danhgia_cmd(), "-c", str(run / "danhgia.toml"), "report", "--period", scale.period, "--scope", scope]
    out = _timed(cmd, cwd=run)
    paths = sorted(settings.outbox.rglob("*.xlsx"))
    return out | {"files": len(paths), "cells": _count_cells(paths)}


def measure_plain(scale: Scale, files: int, cells: int) -> dict[str, Any]:
    """(c0): ``files`` workbooks holding ``cells`` cells in all, no formatting at all."""
    import xlsxwriter

    out = scale.folder / "runs" / "c0"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    per_file = max(1, cells // max(1, files))
    cols = 20
    with PeakRss(own=True) as rss:
        started = time.perf_counter()
        for i in range(files):
            wb = xlsxwriter.Workbook(str(out / f"plain_{i}.xlsx"))
            ws = wb.add_worksheet()
            for k in range(per_file):
                r, c = divmod(k, cols)
                if c % 3 == 0:
                    ws.write_string(r, c, f"Nguyễn Văn {k}")
                else:
                    ws.write_number(r, c, k * 0.5)
            wb.close()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "files": files, "cells": per_file * files, "rss": rss.peak}


# ---- (e) watcher latency --------------------------------------------------------------------


def _newest(paths: Iterator[Path]) -> float:
    return max((p.stat().st_mtime for p in paths), default=0.0)


def measure_watcher(scale: Scale, drops: int = 50) -> dict[str, Any]:
    """One file at a time into a running ``danhgia watch``: time until the file left the
    inbox and its unit outputs, its block roll-up and the district roll-up were rewritten."""
    from danhgia_batch.demo.inbox import write_list_variants

    run, settings = _fresh_run(scale, "e", ledger="processed")
    district = districts(scale)[0]
    unit = next(u for u in district.units if u.code.endswith("PNV"))
    staging = run / "staging"
    variants = write_list_variants(settings, district, unit.code, staging, drops, period=scale.period)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANHGIA_")}
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "danhgia_batch.cli", "-c", str(run / "danhgia.toml"), "watch"]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    latencies: list[float] = []
    try:
        time.sleep(3.0)  # start-up rescan of an empty inbox
        outbox = settings.outbox / scale.period
        target = settings.inbox / unit.code
        target.mkdir(parents=True, exist_ok=True)
        for src in variants:
            dst = target / src.name
            start = time.time()
            os.replace(src, dst)
            while True:
                if proc.poll() is not None:
                    raise RuntimeError("watcher exited: " + (proc.stderr.read().decode() if proc.stderr else ""))
                if not dst.exists():
                    unit_out = _newest((outbox / unit.block / unit.code).glob("*.xlsx"))
                    block_out = _newest((outbox / unit.block).glob("*.xlsx"))
                    top = _newest(outbox.glob("*.xlsx"))
                    if min(unit_out, block_out, top) >= start:
                        break
                if time.time() - start > 60:
                    raise RuntimeError(f"no outputs 60 s after dropping {dst.name}")
                time.sleep(0.005)
            latencies.append(time.time() - start - SETTLE)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    return {"seconds": statistics.median(latencies), "p95": p95, "drops": len(latencies), "rss": 0}


def rusage_peak() -> int:
    """Peak RSS in bytes of this process and its waited-for children (getrusage)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) * 1024


MEASURES: dict[str, Callable[..., dict[str, Any]]] = {
    "a": measure_floor,
    "n": measure_naive,
    "k": measure_check,
    "i": measure_import_pandas,
    "b": lambda scale: measure_process(scale, reports=False),
    "h": measure_history,
    "c": measure_reports,
    "c0": measure_plain,
    "o": measure_copies,
    "d": lambda scale: measure_process(scale, reports=True),
    "e": measure_watcher,
}
