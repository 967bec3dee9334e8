"""Kill the processing at each step in turn, rerun, and compare with an uninterrupted run
(issue 6 ¶3, issue 10): no file lost, none counted twice, the same outputs.

The crash is a ``BaseException`` raised from the fault-injection hook
(:data:`danhgia_batch.pipeline.effects.CRASH_HOOK`) after a step, or from ``os.replace``
when an output's temp file is about to be renamed: nothing in the pipeline catches it, as
nothing catches a power cut.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import valid_row

from danhgia_batch.ledger import FileRecord, open_ledger
from danhgia_batch.pipeline import effects, process_inbox
from danhgia_batch.settings import Settings, load_settings

Fill = Callable[..., Path]


class Crash(BaseException):
    """A simulated power cut."""


@pytest.fixture(params=["sqlite", "postgresql"])
def make_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Settings]:
    """``make_settings(name)``: a fresh work dir (and, on PostgreSQL, a fresh schema)."""
    urls = request.getfixturevalue("pg_urls") if request.param == "postgresql" else None

    def make(name: str) -> Settings:
        work = tmp_path / name
        work.mkdir()
        env = {"DANHGIA_LEDGER_URL": urls()} if urls is not None else {}
        return load_settings(cwd=work, env=env)

    make.__name__ = request.param
    return make


def scenario(settings: Settings, fill_template: Fill) -> None:
    """An inbox with every kind of outcome: accepted, corrected, duplicate, rejected, invalid."""
    inbox = settings.inbox
    (inbox / "PNV").mkdir(parents=True)
    first = fill_template("02", [valid_row(), valid_row(person_code="PNV002", full_name="Lê Thị Mai", score=75)])
    shutil.copy(first, inbox / "PNV" / "a_lan1.xlsx")
    shutil.copy(first, inbox / "PNV" / "b_gui_lai.xlsx")
    shutil.copy(fill_template("02", [valid_row(score=81)], prepared_by="Sửa lại"), inbox / "PNV" / "c_sua.xlsx")
    shutil.copy(fill_template("02", [valid_row(score=80, final_grade="A")]), inbox / "d_sai.xlsx")
    team = [valid_row(person_code=f"PTP00{i}", full_name=f"Người {i}", score=95 if i < 3 else 80) for i in range(6)]
    shutil.copy(fill_template("02", team, unit_code="PTP", unit_name="Phòng Tư pháp"), inbox / "e_quota.xlsx")


def snapshot(settings: Settings) -> dict[str, Any]:
    """Everything a run leaves behind, without ids, times and machine paths."""

    def strip_id(p: Path, root: Path) -> str:
        return re.sub(r"(^|/)\d+_", r"\1#_", p.relative_to(root).as_posix())

    with open_ledger(settings) as led:
        files = sorted((f.name, f.outcome, f.state, f.kind, f.period, f.unit_code) for f in led.files())
        lists = sorted((r.unit_code, r.status, r.version) for r in led.lists())
        evaluations = led.evaluation_count(active_only=False)
        issues = sorted((f.name, i.code) for f in led.files() for i in led.file_issues(f.id))
    return {
        "files": files,
        "lists": lists,
        "evaluations": evaluations,
        "issues": issues,
        "inbox": sorted(p.name for p in settings.inbox.rglob("*") if p.is_file()),
        "archive": sorted(strip_id(p, settings.archive) for p in settings.archive.rglob("*") if p.is_file()),
        "outbox": sorted(
            strip_id(p, settings.outbox)
            for p in settings.outbox.rglob("*")
            if p.is_file() and not p.name.endswith(".part")
        ),
    }


STEPS = ["recorded", "outputs-temp", "outputs", "moved"]
_CALM: dict[str, tuple[int, dict[str, Any]]] = {}


@pytest.mark.parametrize(("step", "nth"), [*((s, n) for s in STEPS for n in (1, 3)), ("rollups", 1)])
def test_a_crash_at_any_step_loses_nothing_and_duplicates_nothing(
    make_settings: Callable[[str], Settings],
    fill_template: Fill,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
    nth: int,
) -> None:
    engine = make_settings.__name__
    if engine not in _CALM:  # the uninterrupted run, once per engine
        calm = make_settings("calm")
        scenario(calm, fill_template)
        _CALM[engine] = (process_inbox(calm).exit_code, snapshot(calm))
    expected_exit, want = _CALM[engine]
    assert want["inbox"] == [] and len(want["files"]) == 5

    crashed = make_settings("crashed")
    scenario(crashed, fill_template)
    seen = {"n": 0}

    def hook(name: str, file: FileRecord | None) -> None:
        if name == step:
            seen["n"] += 1
            if seen["n"] == nth:
                raise Crash(step)

    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if str(src).endswith(".part"):
            seen["n"] += 1
            if seen["n"] == nth:
                raise Crash("outputs-temp")
        real_replace(src, dst)

    if step == "outputs-temp":
        monkeypatch.setattr(os, "replace", replace)
    else:
        monkeypatch.setattr(effects, "CRASH_HOOK", hook)
    with pytest.raises(Crash):
        process_inbox(crashed)
    monkeypatch.undo()
    with open_ledger(crashed) as led:  # the crash left work to do
        assert any(p.is_file() for p in crashed.inbox.rglob("*")) or led.pending_rollups()

    rerun = process_inbox(crashed)
    assert snapshot(crashed) == want
    assert expected_exit == 1
    assert rerun.exit_code == (0 if step == "rollups" else 1)  # after the roll-ups no file was left


KILLED = """
import os, signal, sys
from pathlib import Path
from danhgia_batch.settings import load_settings
from danhgia_batch.pipeline import effects, process_inbox

def hook(step, file):
    if step == sys.argv[3]:
        os.kill(os.getpid(), signal.SIGKILL)

effects.CRASH_HOOK = hook
env = {"DANHGIA_LEDGER_URL": sys.argv[2]} if sys.argv[2] else {}
process_inbox(load_settings(cwd=Path(sys.argv[1]), env=env))
"""


@pytest.mark.slow
@pytest.mark.parametrize("step", ["recorded", "moved"])
def test_a_process_killed_with_sigkill_is_taken_over_at_once(
    make_settings: Callable[[str], Settings], fill_template: Fill, step: str
) -> None:
    import signal
    import sys

    killed = make_settings("killed")
    scenario(killed, fill_template)
    url = killed.ledger.url
    proc = subprocess.run([sys.executable, "-c", KILLED, str(killed.workdir), url, step], timeout=240, check=False)
    assert proc.returncode == -signal.SIGKILL
    with open_ledger(killed) as led:  # the dead process's claim is still there…
        assert any(f.state != "done" for f in led.files())
    process_inbox(killed)  # …and is taken over at once (same host, dead pid), no timeout needed
    snap = snapshot(killed)
    assert snap["inbox"] == [] and len(snap["files"]) == 5
    assert {state for _, _, state, *_ in snap["files"]} == {"done"}
    assert sorted(outcome for _, outcome, *_ in snap["files"]) == [
        "accepted",
        "accepted",
        "duplicate",
        "invalid",
        "rejected",
    ]
    assert sorted((u, st) for u, st, _ in snap["lists"]) == [
        ("PNV", "superseded"),
        ("PNV", "valid"),
        ("PTP", "invalid-quota"),
    ]


# ---- no orphaned reader processes (robustness brief, defect 1) ----------------------------

REPO = Path(__file__).resolve().parents[1]


def _stat(pid: int) -> tuple[int, str, str] | None:
    """``(ppid, state, start time)`` of ``pid`` from /proc, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), fields[0], fields[19]


def _descendants(root: int) -> dict[int, tuple[int, str]]:
    """Every live descendant of ``root``: ``{pid: (depth, start time)}`` (depth 1 = child)."""
    parents: dict[int, int] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None:
            parents[int(entry.name)], starts[int(entry.name)] = st[0], st[2]
    found: dict[int, tuple[int, str]] = {}
    level, depth = [root], 0
    while level:
        depth += 1
        level = [pid for pid, ppid in parents.items() if ppid in level]
        found.update({pid: (depth, starts[pid]) for pid in level})
    return found


def _working(pid: int, folder: Path) -> bool:
    """Process ``pid`` is a reader worker past its start-up (its address space already capped
    by ``limit_memory``, after ``die_with_parent``: a stop before that would freeze a worker that
    cannot die with its parent yet) and running or with a file of ``folder`` open."""
    try:
        limits = Path(f"/proc/{pid}/limits").read_text()
    except OSError:
        return False
    soft = [line.split()[3] for line in limits.splitlines() if line.startswith("Max address space")]
    if soft != [] and soft[0] == "unlimited":
        return False
    st = _stat(pid)
    if st is not None and st[1] == "R":
        return True
    try:
        targets = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return False
    return any(t.startswith(f"{folder}/") for t in targets)


def _survivors(seen: dict[int, tuple[int, str]]) -> list[int]:
    """Processes of ``seen`` still running (same pid and start time, not a zombie)."""
    alive = []
    for pid, (_depth, start) in seen.items():
        st = _stat(pid)
        if st is not None and st[2] == start and st[1] not in ("Z", "X"):
            alive.append(pid)
    return alive


def _kill_and_expect_no_survivor(proc: subprocess.Popen[Any], seen: dict[int, tuple[int, str]]) -> None:
    """SIGKILL ``proc``; within 30 s none of the processes ``seen`` under it may be left."""
    proc.kill()
    proc.wait(30)
    deadline = time.monotonic() + 30
    while _survivors(seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:80] for pid in _survivors(seen)}
    assert not left, f"processes outlived the killed parent: {left}"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("command", [["process"], ["watch", "--polling"]])
def test_sigkill_leaves_no_reader_process_behind(tmp_path: Path, fill_template: Fill, command: list[str]) -> None:
    """SIGKILL ``danhgia process``/``watch`` while its reader workers are busy: the forkserver,
    the workers and the resource tracker all go with it.

    A worker stuck in a parse (a crafted file that makes calamine spin, say) neither reads its
    pipe nor notices anything: it is simulated by stopping (SIGSTOP) a worker caught at work
    (running, or with an inbox workbook open: it parses the bytes the pre-flight read, so the
    file is open only for that read) just before the kill; only the kernel can then end it.
    """
    import signal
    import sys

    work = tmp_path / "work"
    (work / "inbox").mkdir(parents=True)
    for i in range(40):  # fewer than the 48 files that start a unit writer: readers only below main
        rows = [valid_row(person_code=f"PNV{i:03d}", full_name=f"Người {i}")]
        shutil.copy(fill_template("02", rows, prepared_by=f"Người lập {i}"), work / "inbox" / f"ds_{i:02d}.xlsx")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANHGIA_")}
    env.update(
        PYTHONPATH=str(REPO),
        DANHGIA_WATCHER_SETTLE_SECONDS="0",
        DANHGIA_WATCHER_POLLING_INTERVAL="0.2",
        DANHGIA_READER_WORKERS="2",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "danhgia_batch.cli", *command],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen: dict[int, tuple[int, str]] = {}
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while not workers:  # a reader worker (main → forkserver → worker) with a workbook open
            assert proc.poll() is None, "the run ended before a reader worker was caught reading"
            assert time.monotonic() < deadline, "no reader worker was caught reading"
            seen = _descendants(proc.pid)
            workers = [pid for pid, (depth, _) in seen.items() if depth >= 2 and _working(pid, work / "inbox")]
            time.sleep(0.005)
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        seen.update(_descendants(proc.pid))
        _kill_and_expect_no_survivor(proc, seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        for pid in _survivors(seen):
            os.kill(pid, signal.SIGKILL)


POOL_USER = """
import time
from concurrent.futures import ProcessPoolExecutor
from danhgia_batch.safe import context

with ProcessPoolExecutor(2, mp_context=context()) as pool:  # as pipeline.effects writes reports
    assert sorted(pool.map(abs, [-1, -2])) == [1, 2]
    print("ready", flush=True)
    time.sleep(600)
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_any_child_of_the_reader_context_dies_with_its_parent(tmp_path: Path) -> None:
    """Not only reader workers: the report writers' ProcessPoolExecutor uses the same context,
    and its idle workers wait on a queue whose pipe they hold themselves (no EOF, ever)."""
    import signal
    import sys

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", POOL_USER], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    seen: dict[int, tuple[int, str]] = {}
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        seen = _descendants(proc.pid)
        assert any(depth >= 2 for depth, _ in seen.values()), seen  # pool workers under the forkserver
        _kill_and_expect_no_survivor(proc, seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()
        for pid in _survivors(seen):
            os.kill(pid, signal.SIGKILL)
