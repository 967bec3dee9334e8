"""``danhgia backup`` / ``danhgia restore`` (issue 18): a consistent copy taken while a real
``danhgia watch`` writes, restored into a fresh folder, reports the same status."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_watch_e2e import WAIT, watcher_env
from typer.testing import CliRunner

from danhgia_batch.cli import app
from danhgia_batch.workdir import init_workdir

REPO = Path(__file__).resolve().parents[1]


def invoke(work: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["--config", str(work / "danhgia.toml"), *args])


def files_done(work: Path) -> int:
    db = work / "danhgia.sqlite3"
    if not db.is_file():
        return 0
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM files WHERE state = 'done'").fetchone()[0])
        except sqlite3.OperationalError:  # not created yet
            return 0


def has_ledger(work: Path) -> bool:
    db = work / "danhgia.sqlite3"
    if not db.is_file():
        return False
    with sqlite3.connect(db, timeout=30) as conn:
        return bool(conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'files'").fetchone()[0])


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_backup_during_watch_then_restore_into_a_fresh_folder(
    tmp_path: Path, fill_template: Callable[..., Path]
) -> None:
    work = tmp_path / "work"
    init_workdir(work)
    proc = subprocess.Popen(
        [sys.executable, "-m", "danhgia_batch.cli", "watch", "--polling"],
        cwd=work,
        env=watcher_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for n in range(4):  # the watcher records files while the backups are taken
            (work / "inbox" / f"ds_{n}.xlsx").write_bytes(
                fill_template("02", prepared_by=f"Người lập {n}").read_bytes()
            )
            if n == 0:
                wait_until(lambda: has_ledger(work))
            during = invoke(work, "--json", "backup", str(tmp_path / f"giua_{n}.sqlite3"))
            assert during.exit_code == 0, during.output
        wait_until(lambda: files_done(work) == 4)
        (tmp_path / "bak").mkdir()
        res = invoke(work, "--json", "backup", str(tmp_path / "bak"))
        assert res.exit_code == 0, res.output
        backup = Path(json.loads(res.output)["path"])
        assert backup.parent == tmp_path / "bak" and json.loads(res.output)["files"] == 4
        assert invoke(work, "backup", str(backup)).exit_code == 2  # never overwrites a backup
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0

    fresh = tmp_path / "fresh"
    init_workdir(fresh)
    restored = invoke(fresh, "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    want = json.loads(invoke(work, "--json", "status", "--period", "2022-01").output)
    got = json.loads(invoke(fresh, "--json", "status", "--period", "2022-01").output)
    assert got == want and got["blocks"][0]["counts"]["valid"] == 1

    # a ledger holding files is replaced only with --force, and is backed up first
    again = invoke(fresh, "restore", str(backup))
    assert again.exit_code == 2 and "--force" in again.output
    assert invoke(fresh, "restore", "--force", str(backup)).exit_code == 0
    assert len(list((fresh / "backup").glob("truoc-khoi-phuc-*.sqlite3"))) == 1


def test_restore_refuses_what_is_not_a_ledger_backup(tmp_path: Path) -> None:
    work = tmp_path / "work"
    init_workdir(work)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    res = invoke(work, "restore", str(junk))
    assert res.exit_code == 2 and "không phải bản sao lưu" in res.output
    assert invoke(work, "restore", str(tmp_path / "khong_co.sqlite3")).exit_code == 2


def test_postgresql_ledger_names_pg_dump(tmp_path: Path) -> None:
    work = tmp_path / "work"
    init_workdir(work)
    res = invoke(work, "--ledger", "postgresql+psycopg://u@127.0.0.1:1/x", "backup")
    assert res.exit_code == 2 and "pg_dump" in res.output and "pg_restore" in res.output
