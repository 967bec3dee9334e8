"""``danhgia watch --polling`` for real: a subprocess over a temp work dir (issue 8, "Must show").

One watcher run goes through the arrivals an SMB inbox sees (a file waiting before start, a slow
chunked copy, Excel's temp-then-rename, the same file twice, a file in another unit's folder,
the inbox folder removed and recreated), checking the ledger and the outbox after each, then
SIGTERM (or Ctrl-C's SIGINT) and exit code 0; once with the polling observer, once with the
native one. Waits are for outcomes (with a generous bound), never timed assertions.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from danhgia_batch.errors import LedgerError
from danhgia_batch.ledger import open_ledger
from danhgia_batch.settings import Settings, load_settings
from danhgia_batch.workdir import init_workdir

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]

REPO = Path(__file__).resolve().parents[1]
WAIT = 30.0


def watcher_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANHGIA_")}
    env.update(
        PYTHONPATH=str(REPO),
        DANHGIA_WATCHER_SETTLE_SECONDS="0.5",
        DANHGIA_WATCHER_RESCAN_SECONDS="1",
        DANHGIA_WATCHER_POLLING_INTERVAL="0.2",
        DANHGIA_WATCHER_HEARTBEAT_MINUTES="0.02",
        DANHGIA_WATCHER_LOCK_WAIT_SECONDS="5",
    )
    env.update(extra)
    return env


def start_watcher(work: Path, *args: str, out: str = "watcher.out", **env: str) -> subprocess.Popen[bytes]:
    with (work / out).open("ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "danhgia_batch.cli", "-v", "watch", *args],
            cwd=work,
            env=watcher_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_for(what: str, condition: Callable[[], Any], proc: subprocess.Popen[bytes] | None = None) -> Any:
    """Poll ``condition`` until it is truthy; fail (with the watcher's output) after WAIT s."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


class Work:
    """The temp work dir, the ledger as seen from outside, and file drops."""

    def __init__(self, root: Path, fill: Callable[..., Path], ledger_url: str = "") -> None:
        self.root = root
        self.fill = fill
        self.settings: Settings = load_settings(cwd=root, env={"DANHGIA_LEDGER_URL": ledger_url} if ledger_url else {})
        self.inbox = self.settings.inbox
        self.n = 0

    def form(self, **header: Any) -> bytes:
        """Bytes of a distinct, valid unit list (template 02) filled as a clerk would."""
        self.n += 1
        return self.fill("02", prepared_by=f"Nguyễn Thị Lan {self.n}", **header).read_bytes()

    def outcomes(self) -> dict[str, list[str]]:
        try:
            with open_ledger(self.settings) as ledger:
                files = ledger.files()
        except LedgerError as exc:  # a shared test PostgreSQL being restarted by another test
            print(f"ledger not readable yet: {exc}")
            return {}
        out: dict[str, list[str]] = {}
        for f in files:
            if f.state == "done":
                out.setdefault(f.name, []).append(f.outcome or "")
        return out

    def claim_holders(self) -> set[int]:
        """Process ids holding claims on files not yet done (claimed_by is host:pid:token)."""
        try:
            with open_ledger(self.settings) as ledger:
                files = ledger.files()
        except LedgerError:
            return set()
        return {int(f.claimed_by.split(":")[1]) for f in files if f.state != "done" and f.claimed_by}

    def why_not_accepted(self) -> dict[str, list[str]]:
        """Issue codes of every recorded file that was not accepted (for failure messages)."""
        with open_ledger(self.settings) as ledger:
            return {
                f.name: [i.code for i in ledger.file_issues(f.id)] for f in ledger.files() if f.outcome != "accepted"
            }

    def archived(self, name: str) -> bool:
        """The original of ``name`` was moved to the archive (where the ledger says)."""
        with open_ledger(self.settings) as ledger:
            paths = [f.archived_path for f in ledger.files() if f.name == name]
        return bool(paths) and all(p and Path(p).is_file() for p in paths)

    def outbox(self) -> set[str]:
        return {p.relative_to(self.settings.outbox).as_posix() for p in self.settings.outbox.rglob("*") if p.is_file()}

    def inbox_files(self) -> list[Path]:
        return sorted(p for p in self.inbox.rglob("*") if p.is_file())


@pytest.fixture
def work(tmp_path: Path, fill_template: Callable[..., Path]) -> Iterator[Work]:
    root = tmp_path / "work"
    init_workdir(root)
    yield Work(root, fill_template)


def copy_slowly(data: bytes, dest: Path, chunks: int = 6, pause: float = 0.15) -> None:
    """Write ``data`` in chunks, as a slow SMB copy does (each pause shorter than the settle time)."""
    step = len(data) // chunks + 1
    with dest.open("wb") as fh:
        for i in range(0, len(data), step):
            fh.write(data[i : i + step])
            fh.flush()
            time.sleep(pause)


@pytest.mark.parametrize(
    ("args", "stop"),
    [(["--polling"], signal.SIGTERM), ([], signal.SIGINT)],
    ids=["polling-sigterm", "native-sigint"],
)
def test_watch_subprocess_end_to_end(work: Work, args: list[str], stop: signal.Signals) -> None:
    # dropped while the watcher is down: picked up at start
    (work.inbox / "truoc.xlsx").write_bytes(work.form())
    proc = start_watcher(work.root, *args)
    try:
        wait_for("the waiting file", lambda: "truoc.xlsx" in work.outcomes(), proc)
        assert work.outcomes()["truoc.xlsx"] == ["accepted"]
        assert work.archived("truoc.xlsx")
        assert any(p.endswith(".xlsx") and "/PNV/" in f"/{p}" for p in work.outbox())

        # a second watcher on the same SQLite ledger refuses to run
        second = subprocess.run(
            [sys.executable, "-m", "danhgia_batch.cli", "watch", "--once"],
            cwd=work.root,
            env=watcher_env(),
            capture_output=True,
            timeout=WAIT,
        )
        assert second.returncode == 2
        assert "PID" in second.stderr.decode()

        # copied in slowly, in chunks: taken once, complete
        copy_slowly(work.form(), work.inbox / "cham.xlsx")
        wait_for("the slow copy", lambda: "cham.xlsx" in work.outcomes(), proc)
        assert work.outcomes()["cham.xlsx"] == ["accepted"]

        # written as temp-then-rename (Excel, rsync)
        temp = work.inbox / "~$A1B2C3.tmp"
        temp.write_bytes(work.form())
        temp.rename(work.inbox / "doi_ten.xlsx")
        wait_for("the renamed file", lambda: "doi_ten.xlsx" in work.outcomes(), proc)
        assert work.outcomes()["doi_ten.xlsx"] == ["accepted"]
        assert "~$A1B2C3.tmp" not in work.outcomes()

        # the same bytes dropped twice: recorded as a duplicate, not processed again
        twice = work.form()
        (work.inbox / "hai_lan.xlsx").write_bytes(twice)
        wait_for("the first copy", lambda: "hai_lan.xlsx" in work.outcomes(), proc)
        (work.inbox / "hai_lan_ban_2.xlsx").write_bytes(twice)
        wait_for("the second copy", lambda: "hai_lan_ban_2.xlsx" in work.outcomes(), proc)
        assert work.outcomes()["hai_lan.xlsx"] == ["accepted"]
        assert work.outcomes()["hai_lan_ban_2.xlsx"] == ["duplicate"]

        # dropped into another unit's folder: rejected, with an error workbook
        (work.inbox / "PTP").mkdir()
        (work.inbox / "PTP" / "nham_cho.xlsx").write_bytes(work.form())
        wait_for("the misplaced file", lambda: "nham_cho.xlsx" in work.outcomes(), proc)
        assert work.outcomes()["nham_cho.xlsx"] == ["rejected"]
        wait_for("its error workbook", lambda: any("nham_cho" in p for p in work.outbox()), proc)

        # the inbox folder removed and recreated: the watcher recovers
        shutil.rmtree(work.inbox)
        time.sleep(0.6)  # long enough for the polling observer to see the folder gone
        work.inbox.mkdir()
        (work.inbox / "sau_khi_tao_lai.xlsx").write_bytes(work.form())
        wait_for("the file in the recreated inbox", lambda: "sau_khi_tao_lai.xlsx" in work.outcomes(), proc)
        assert work.outcomes()["sau_khi_tao_lai.xlsx"] == ["accepted"]
        assert work.inbox_files() == []
    finally:
        if proc.poll() is None:
            proc.send_signal(stop)
        code = proc.wait(timeout=WAIT)
        output = (work.root / "watcher.out").read_text(encoding="utf-8", errors="replace")
    assert code == 0, output
    assert "Nhịp:" in output  # the heartbeat
    log = (work.settings.path("logs") / "danhgia-watch.log").read_text(encoding="utf-8")
    assert "Đã dừng theo dõi" in log
    # nothing was processed twice: one ledger entry per file name
    assert all(len(v) == 1 for v in work.outcomes().values())


def test_watch_once_takes_what_is_waiting_and_exits(work: Work) -> None:
    (work.inbox / "mot.xlsx").write_bytes(work.form())
    (work.inbox / "~$mot.xlsx").write_bytes(b"Excel lock")  # the clerk still has it open
    (work.inbox / "hai.xlsx").write_bytes(work.form())
    done = subprocess.run(
        [sys.executable, "-m", "danhgia_batch.cli", "watch", "--once"],
        cwd=work.root,
        env=watcher_env(),
        capture_output=True,
        timeout=WAIT * 2,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert set(work.outcomes()) == {"hai.xlsx"}  # mot.xlsx is still open in Excel: left for later
    assert (work.inbox / "mot.xlsx").exists()


@pytest.mark.pg
def test_several_watchers_on_one_postgresql_ledger_process_each_file_once(
    tmp_path: Path, fill_template: Callable[..., Path], pg_url: str
) -> None:
    """Issue 10 in small: three watchers on one inbox and one PostgreSQL ledger; the one holding
    the claims is killed with SIGKILL mid-run; the others take its claims over and every file is
    still recorded exactly once."""
    root = tmp_path / "work"
    init_workdir(root)
    work = Work(root, fill_template, pg_url)
    forms = [work.form() for _ in range(9)]
    # claims go stale after heartbeat_minutes without a heartbeat (the ledger's takeover bound)
    env = {"DANHGIA_LEDGER_URL": pg_url, "DANHGIA_WATCHER_HEARTBEAT_MINUTES": "1"}
    procs = [start_watcher(root, "--polling", out=f"watcher{i}.out", **env) for i in range(3)]
    try:
        for i, data in enumerate(forms):  # dropped at once, as a block administrator copies a folder
            (work.inbox / f"don_vi_{i:02}.xlsx").write_bytes(data)
        # kill a watcher while it holds claims on files it has not finished
        holding = wait_for("a watcher holding claims", work.claim_holders)
        victim = next(p for p in procs if p.pid in holding)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=WAIT)
        survivor = next(p for p in procs if p is not victim)
        wait_for("every file", lambda: len(work.outcomes()) == len(forms) and not work.inbox_files(), survivor)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = {proc.pid: proc.wait(timeout=WAIT) for proc in procs}
    assert codes.pop(victim.pid) == -signal.SIGKILL
    assert list(codes.values()) == [0, 0]
    expected = {f"don_vi_{i:02}.xlsx": ["accepted"] for i in range(len(forms))}
    assert work.outcomes() == expected, work.why_not_accepted()
