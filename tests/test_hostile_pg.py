"""Issue 17 ¶5: several ``danhgia process`` workers share one inbox on one PostgreSQL ledger.

Each worker claims a small batch (:data:`~danhgia_batch.pipeline.process.CHUNK` files) at a
time, so four workers all take part, and a killed worker leaves at most its batch behind,
taken over at once on the same machine and after ``claim_timeout_minutes`` from another one.
The workers are real subprocesses; they start together because ``process`` waits until the
files are ``settle_seconds`` old (waits are for outcomes, never timed assertions).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from danhgia_batch.ledger import open_ledger
from danhgia_batch.ledger import schema as s
from danhgia_batch.ledger.claims import utcnow
from danhgia_batch.pipeline import effects, process_inbox
from danhgia_batch.pipeline.process import CHUNK
from danhgia_batch.settings import Settings, load_settings

pytestmark = [pytest.mark.slow, pytest.mark.pg, pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]

Fill = Callable[..., Path]
WAIT = 240.0  # bound on a run on a loaded 2-core machine (a failure, not a timing)


def workdir(tmp_path: Path, url: str, fill_template: Fill, n: int, settle: float) -> Settings:
    root = tmp_path / "w"
    (root / "inbox").mkdir(parents=True)
    toml = f'[ledger]\nurl = "{url}"\n[watcher]\nsettle_seconds = {settle}\n[reports]\nwrite_reports = false\n'
    (root / "danhgia.toml").write_text(toml, encoding="utf-8")
    first = fill_template("02", prepared_by="Người lập XXX")
    with zipfile.ZipFile(first) as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    for i in range(n):  # distinct bytes (the prepared-by name differs), filled once: fast
        with zipfile.ZipFile(root / "inbox" / f"ds_{i:03d}.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in members:
                z.writestr(name, data.replace("lập XXX".encode(), f"lập {i:03d}".encode()))
    return load_settings(root / "danhgia.toml", env={})


def start(settings: Settings, name: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "danhgia_batch.cli", "--json", "--config", str(settings.config_file), "process"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANHGIA_")}
    with (settings.workdir / f"{name}.json").open("wb") as out, (settings.workdir / f"{name}.err").open("wb") as err:
        return subprocess.Popen([*cmd[:3], "-v", *cmd[3:]], env=env, stdout=out, stderr=err)  # own descriptors


def held_by(settings: Settings, pid: int) -> int:
    with open_ledger(settings) as led:
        return sum(1 for f in led.files() if f.state != "done" and f.claimed_by and f":{pid}:" in f.claimed_by)


def test_four_workers_share_one_inbox_each_file_once(pg_url: str, fill_template: Fill, tmp_path: Path) -> None:
    n = 5 * CHUNK
    settings = workdir(tmp_path, pg_url, fill_template, n, settle=10)  # all start together
    with open_ledger(settings):
        pass  # the schema exists before four processes race to create it
    procs = [start(settings, f"w{i}") for i in range(4)]
    for p in procs:
        assert p.wait(WAIT) == 0
    taken = []
    for i in range(4):
        data = json.loads((settings.workdir / f"w{i}.json").read_text(encoding="utf-8"))
        taken.append([f["name"] for f in data["files"] if f["outcome"] != "skipped"])
    print("files per worker:", [len(t) for t in taken])
    assert all(0 < len(t) <= n - 3 for t in taken)  # was: one took all, three "Để lần sau 60/141"
    assert sorted(x for t in taken for x in t) == sorted(f"ds_{i:03d}.xlsx" for i in range(n))  # each once
    assert not list(settings.inbox.iterdir())


def test_a_killed_worker_leaves_at_most_its_batch_taken_over_by_the_next(
    pg_url: str, fill_template: Fill, tmp_path: Path
) -> None:
    n = 3 * CHUNK
    settings = workdir(tmp_path, pg_url, fill_template, n, settle=0)
    worker = start(settings, "killed")
    deadline = time.monotonic() + WAIT
    while held_by(settings, worker.pid) == 0:  # it holds its first batch
        assert worker.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait(30)
    assert 0 < held_by(settings, worker.pid) <= CHUNK  # was: every file of the inbox

    result = process_inbox(settings)  # same machine: the dead holder's claims are taken at once
    assert result.exit_code == 0
    with open_ledger(settings) as led:
        files = led.files()
    assert len(files) == n and {f.state for f in files} == {"done"} and len({f.sha256 for f in files}) == n
    assert not list(settings.inbox.iterdir())


def test_a_claim_from_another_machine_is_taken_over_after_the_claim_timeout(
    pg_url: str, fill_template: Fill, tmp_path: Path
) -> None:
    settings = workdir(tmp_path, pg_url, fill_template, 2, settle=0)

    def crash(step: str, _file: object) -> None:
        if step == "recorded":
            raise KeyboardInterrupt  # this run dies holding its batch

    effects.CRASH_HOOK = crash
    try:
        with pytest.raises(KeyboardInterrupt):
            process_inbox(settings)
    finally:
        effects.CRASH_HOOK = None
    with open_ledger(settings) as led, led.engine.begin() as conn:  # as if another machine held them
        conn.execute(update(s.files).values(claimed_by="may-khac:4242:abc", heartbeat=utcnow()))
    busy = process_inbox(settings)
    assert {f.outcome for f in busy.files} == {"skipped"}  # a live holder elsewhere: left alone

    stale = utcnow() - timedelta(minutes=settings.watcher.claim_timeout_minutes + 1)
    with open_ledger(settings) as led, led.engine.begin() as conn:
        conn.execute(update(s.files).values(heartbeat=stale))
    taken = process_inbox(settings)
    assert sorted(f.outcome for f in taken.files) == ["accepted", "accepted"]
    assert not list(settings.inbox.iterdir())
