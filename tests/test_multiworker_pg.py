"""Several ``danhgia watch`` processes on one inbox and one PostgreSQL ledger (issue 10, "Must show").

Four ``danhgia watch --polling`` subprocesses serve one inbox into which ~400 distinct files
(three synthetic districts and part of a fourth, with the demo's planted faults) are dropped at
once. Every file must be processed exactly once and the ledger must end with the same totals
as one ``process_inbox`` run of the same files into another schema:

- plain run;
- one watcher killed with SIGKILL mid-run (its claims are taken over);
- "PostgreSQL restarted": every connection of the watchers terminated from the server side
  (``pg_terminate_backend``) several times during the run. The shared test server itself is
  never restarted: other tests and engineers use it.

Then ``danhgia report --scope city`` over two districts recorded from two work dirs into one
shared ledger. Waits are for outcomes, never timed assertions; the figures (files/s, recovery
times) are printed for ``-s``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest
from sqlalchemy import Engine, create_engine, text
from test_watch_e2e import start_watcher, watcher_env

from danhgia_batch.demo import build_district
from danhgia_batch.demo.district import District
from danhgia_batch.demo.inbox import write_inbox
from danhgia_batch.ledger import open_ledger
from danhgia_batch.settings import Settings, load_settings
from danhgia_batch.workdir import init_workdir

pytestmark = [
    pytest.mark.slow,
    pytest.mark.pg,
    pytest.mark.timeout(600),  # a 400-file run beside another under pytest -n 2 takes ~3 min
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]

WATCHERS = 4
RUN_WAIT = 240.0  # bound on one 400-file run on a loaded 2-core machine (failure, not a timing)
PERIOD = "2022-11"  # a month of the letter's district (its matrix ended with it on 01/07/2025)
# claims go stale after 6 s without a heartbeat (watcher.heartbeat_minutes → Ledger.stale_after)
ENV = {"DANHGIA_WATCHER_HEARTBEAT_MINUTES": "0.1"}


# ---- the drop: ~400 distinct files, generated once per module ---------------------------


@dataclass
class Drop:
    """Files of a month for several districts (inbox tree in ``folder``) and their registry."""

    folder: Path
    districts: list[District]
    files: list[str]  # paths relative to the inbox

    def registry(self) -> tuple[list[Any], list[Any]]:
        return [u for d in self.districts for u in d.units], [p for d in self.districts for p in d.people]


def make_drop(root: Path, specs: list[dict[str, Any]]) -> Drop:
    """Fill the demo's lists of each district spec into ``root/files`` (zip-level fast fill)."""
    gen = root / "gen"
    init_workdir(gen)
    settings = load_settings(cwd=gen, env={})
    folder = root / "files"
    districts = []
    for spec in specs:
        district = build_district(**spec)
        write_inbox(settings, district, folder, period=PERIOD, seed=spec["seed"], fast=True)
        districts.append(district)
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return Drop(folder, districts, files)


def district_spec(i: int, units: int | None = None) -> dict[str, Any]:
    return {"seed": 3000 + i, "units": units, "prefix": f"Q{i:02d}", "unit_prefix": f"Q{i:02d}_"}


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory) -> Drop:
    """Three whole districts and 12 units of a fourth: 408 files (380 accepted when processed)."""
    specs = [district_spec(0), district_spec(1), district_spec(2), district_spec(3, units=12)]
    return make_drop(tmp_path_factory.mktemp("drop"), specs)


# ---- the ledger as seen from outside -------------------------------------------------------


def with_app_name(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={quote(name)}"


@dataclass(frozen=True)
class Totals:
    """What a run left in the ledger (comparable between two schemas)."""

    outcomes: dict[str, int]
    lists: dict[str, int]  # list status → lists
    grades: dict[str, int]  # "status/final grade" → evaluation rows

    @property
    def rows(self) -> int:
        return sum(self.grades.values())


class Probe:
    """Read-only SQL on one test schema (its own application_name, never terminated)."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(with_app_name(url, "danhgia-test-probe"), pool_pre_ping=True)

    def close(self) -> None:
        self.engine.dispose()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        try:
            with self.engine.connect() as conn:
                return list(conn.execute(text(sql), params))
        except Exception as exc:  # the schema is created by the first watcher; tolerate until then
            print(f"probe: {type(exc).__name__}")
            return []

    def done(self) -> int:
        rows = self.rows("SELECT count(*) FROM files WHERE state = 'done'")
        return int(rows[0][0]) if rows else 0

    def claim_holders(self) -> Counter[int]:
        """Process id → open claims (claimed_by is host:pid:token)."""
        rows = self.rows("SELECT claimed_by FROM files WHERE state <> 'done' AND claimed_by IS NOT NULL")
        return Counter(int(r[0].split(":")[1]) for r in rows)

    def paths(self) -> Counter[str]:
        return Counter(r[0] for r in self.rows("SELECT inbox_path FROM files"))

    def states(self) -> Counter[str]:
        return Counter(r[0] for r in self.rows("SELECT state FROM files"))

    def issue_codes(self, outcome: str) -> Counter[str]:
        q = "SELECT i.code FROM issues i JOIN files f ON f.id = i.file_id WHERE f.outcome = :o"
        return Counter(r[0] for r in self.rows(q, o=outcome))

    def sha_taken_twice(self) -> list[str]:
        """Bytes recorded as data (accepted or invalid) more than once: must be none."""
        q = "SELECT sha256 FROM files WHERE outcome IN ('accepted', 'invalid') GROUP BY sha256 HAVING count(*) > 1"
        return [r[0] for r in self.rows(q)]

    def totals(self) -> Totals:
        outcomes = Counter(r[0] for r in self.rows("SELECT outcome FROM files"))
        lists = Counter(r[0] for r in self.rows("SELECT status FROM lists"))
        q = "SELECT l.status, e.final_grade FROM evaluations e JOIN lists l ON l.id = e.list_id"
        grades = Counter(f"{s}/{g}" for s, g in self.rows(q))
        return Totals(dict(outcomes), dict(lists), dict(grades))


def terminate(probe: Probe, app: str) -> int:
    """Server side: end every connection named ``app`` (what a PostgreSQL restart does to clients)."""
    q = (
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = :app AND pid <> pg_backend_pid()"
    )
    with probe.engine.connect() as conn:
        return int(conn.execute(text(q), {"app": app}).scalar() or 0)


# ---- the single-process reference -----------------------------------------------------------

_REFERENCE: dict[str, Totals] = {}


@pytest.fixture
def reference(drop: Drop, pg_urls: Callable[[], str], tmp_path: Path) -> Totals:
    """Totals of one ``process_inbox`` over the drop, in its own schema (computed once per
    worker process; reports off: they do not change the ledger)."""
    if "single" not in _REFERENCE:
        from danhgia_batch.pipeline import process_inbox

        url = pg_urls()
        root = tmp_path / "single"
        init_workdir(root)
        settings = load_settings(cwd=root, env={"DANHGIA_LEDGER_URL": url})
        with open_ledger(settings) as ledger:
            ledger.save_registry(*drop.registry(), source="test")
        shutil.rmtree(settings.inbox)
        shutil.copytree(drop.folder, settings.inbox)
        started = time.monotonic()
        result = process_inbox(settings, write_reports=False)
        elapsed = time.monotonic() - started
        print(f"single process: {len(drop.files)} files in {elapsed:.1f} s ({len(drop.files) / elapsed:.1f} files/s)")
        assert result.counts["failed"] == 0 and result.counts["skipped"] == 0
        probe = Probe(url)
        try:
            _REFERENCE["single"] = probe.totals()
        finally:
            probe.close()
    return _REFERENCE["single"]


# ---- four watchers ------------------------------------------------------------------------


class Fleet:
    """A work dir on a fresh schema, its registry saved, and the watchers serving it."""

    def __init__(self, root: Path, url: str, drop: Drop) -> None:
        self.root, self.drop = root, drop
        init_workdir(root)
        self.app = f"danhgia-mw-{os.getpid()}-{root.parent.name}"[:63]
        self.url = with_app_name(url, self.app)
        self.settings: Settings = load_settings(cwd=root, env={"DANHGIA_LEDGER_URL": self.url})
        with open_ledger(self.settings) as ledger:
            ledger.save_registry(*drop.registry(), source="test")
        self.probe = Probe(url)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started = 0.0

    def start(self, n: int = WATCHERS) -> None:
        env = {**ENV, "DANHGIA_LEDGER_URL": self.url}
        self.procs = [start_watcher(self.root, "--polling", out=f"watcher{i}.out", **env) for i in range(n)]

    def drop_all(self) -> None:
        """Copy beside the inbox, then move each unit folder in (an administrator's drop)."""
        staging = self.root / "staging"
        shutil.copytree(self.drop.folder, staging)
        self.started = time.monotonic()
        for folder in sorted(staging.iterdir()):
            folder.rename(self.settings.inbox / folder.name)

    def inbox_files(self) -> list[Path]:
        return sorted(p for p in self.settings.inbox.rglob("*") if p.is_file())

    def wait(self, what: str, condition: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + RUN_WAIT
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            if not any(p.poll() is None for p in self.procs):
                break
            time.sleep(0.2)
        pytest.fail(f"timed out waiting for {what}: {self.probe.done()} done, {len(self.inbox_files())} in the inbox")

    def finished(self) -> bool:
        return self.probe.done() >= len(self.drop.files) and not self.inbox_files()

    def stop(self) -> dict[int, int]:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = {}
        for proc in self.procs:
            try:
                codes[proc.pid] = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[proc.pid] = proc.wait()
        self.probe.close()
        return codes

    def output(self) -> str:
        return "\n".join(
            p.read_text(encoding="utf-8", errors="replace")[-3000:] for p in sorted(self.root.glob("watcher*.out"))
        )

    def rate(self) -> str:
        elapsed = time.monotonic() - self.started
        return f"{len(self.drop.files)} files in {elapsed:.1f} s ({len(self.drop.files) / elapsed:.1f} files/s)"

    def assert_exactly_once(self, reference: Totals) -> None:
        """Every dropped file has exactly one ledger entry, done; nothing left; same totals."""
        paths = self.probe.paths()
        assert set(paths) == set(self.drop.files), set(paths) ^ set(self.drop.files)
        twice = [p for p, n in paths.items() if n != 1]
        assert twice == [], self.probe.rows(
            "SELECT id, claim_key, inbox_path, state, outcome, attempts, duplicate_of, claimed_by FROM files "
            "WHERE inbox_path = ANY(:p) ORDER BY id",
            p=twice,
        )
        assert self.probe.states() == Counter({"done": len(self.drop.files)})
        assert self.probe.sha_taken_twice() == []
        assert self.inbox_files() == []
        archived = [p for p in self.settings.path("archive").rglob("*") if p.is_file()]
        assert len(archived) == len(self.drop.files)
        totals = self.probe.totals()
        assert totals.outcomes == reference.outcomes, self.probe.issue_codes("rejected")
        assert totals.lists == reference.lists
        assert totals.grades == reference.grades
        assert totals.rows == reference.rows


@pytest.fixture
def fleet(tmp_path: Path, pg_url: str, drop: Drop) -> Iterator[Fleet]:
    f = Fleet(tmp_path / "work", pg_url, drop)
    yield f
    f.stop()


def test_four_watchers_process_400_files_exactly_once(fleet: Fleet, reference: Totals) -> None:
    fleet.start()
    fleet.drop_all()
    fleet.wait("every file", fleet.finished)
    print(f"4 watchers: {fleet.rate()}")
    codes = fleet.stop()
    assert list(codes.values()) == [0] * WATCHERS, fleet.output()
    fleet.assert_exactly_once(reference)
    assert reference.outcomes.get("accepted", 0) >= 370  # the drop is mostly good lists


def test_a_watcher_killed_mid_run_loses_nothing(fleet: Fleet, reference: Totals) -> None:
    fleet.start()
    fleet.drop_all()
    total = len(fleet.drop.files)
    fleet.wait("a quarter of the files", lambda: fleet.probe.done() >= total // 4)
    holders = fleet.wait("a watcher holding claims", fleet.probe.claim_holders)
    victim = next(p for p in fleet.procs if p.pid == holders.most_common(1)[0][0])
    held, done_at_kill = holders[victim.pid], fleet.probe.done()
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    killed = time.monotonic()
    fleet.wait("the victim's claims taken over", lambda: victim.pid not in fleet.probe.claim_holders())
    print(
        f"SIGKILL with {held} claims held at {done_at_kill}/{total} done; taken over in {time.monotonic() - killed:.1f} s"
    )
    fleet.wait("every file", fleet.finished)
    print(f"4 watchers, one killed: {fleet.rate()}")
    codes = fleet.stop()
    assert codes.pop(victim.pid) == -signal.SIGKILL
    assert list(codes.values()) == [0] * (WATCHERS - 1), fleet.output()
    fleet.assert_exactly_once(reference)


def test_watchers_recover_when_the_server_drops_their_connections(fleet: Fleet, reference: Totals) -> None:
    """A PostgreSQL restart as the watchers see it: every connection ended by the server,
    three times during the run (simulated with pg_terminate_backend; the shared server
    itself is never restarted)."""
    fleet.start()
    fleet.drop_all()
    total = len(fleet.drop.files)
    recoveries = []
    for share in (0.1, 0.35, 0.6):
        fleet.wait(f"{share:.0%} of the files", lambda s=share: fleet.probe.done() >= total * s)  # type: ignore[misc]
        before = fleet.probe.done()
        ended = terminate(fleet.probe, fleet.app)
        cut = time.monotonic()
        fleet.wait("progress after the connections were ended", lambda b=before: fleet.probe.done() > b)  # type: ignore[misc]
        recoveries.append((ended, round(time.monotonic() - cut, 1)))
    print(f"connections ended / seconds to the next file done: {recoveries}")
    fleet.wait("every file", fleet.finished)
    print(f"4 watchers, connections ended 3 times: {fleet.rate()}")
    assert any(n for n, _ in recoveries)  # the watchers' connections were really ended
    codes = fleet.stop()
    assert list(codes.values()) == [0] * WATCHERS, fleet.output()
    fleet.assert_exactly_once(reference)


# ---- city roll-up over two districts -------------------------------------------------------


def test_city_report_covers_two_districts_recorded_from_two_work_dirs(
    tmp_path: Path, pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Two districts, each its own work dir and inbox, one shared ledger: the city roll-up
    written by ``danhgia report --scope city`` from either work dir covers both."""
    parts = [make_drop(tmp_path_factory.mktemp(f"quan{i}"), [district_spec(10 + i, units=8)]) for i in range(2)]
    accepted: set[str] = set()
    for i, part in enumerate(parts):
        root = tmp_path / f"quan{i}"
        init_workdir(root)
        shutil.copytree(part.folder, root / "inbox", dirs_exist_ok=True)
        env = watcher_env(DANHGIA_LEDGER_URL=pg_url)
        if i == 0:  # one registry for the city, loaded once
            with open_ledger(load_settings(cwd=root, env={"DANHGIA_LEDGER_URL": pg_url})) as ledger:
                ledger.save_registry(*Drop(part.folder, [parts[0].districts[0], parts[1].districts[0]], []).registry())
        done = subprocess.run(
            [sys.executable, "-m", "danhgia_batch.cli", "process"], cwd=root, env=env, capture_output=True, timeout=120
        )
        assert done.returncode in (0, 1), done.stderr.decode()  # 1: the planted faults were rejected
        assert not [p for p in (root / "inbox").rglob("*") if p.is_file()]
    with open_ledger(load_settings(cwd=tmp_path / "quan0", env={"DANHGIA_LEDGER_URL": pg_url})) as ledger:
        accepted = {f.unit_code for f in ledger.files(outcome="accepted")}
    assert {c[:4] for c in accepted} == {"Q10_", "Q11_"}

    report = subprocess.run(
        [sys.executable, "-m", "danhgia_batch.cli", "report", "--period", PERIOD, "--scope", "city"],
        cwd=tmp_path / "quan1",
        env=watcher_env(DANHGIA_LEDGER_URL=pg_url),
        capture_output=True,
        timeout=120,
    )
    assert report.returncode == 0, report.stderr.decode()
    city = tmp_path / "quan1" / "outbox" / PERIOD / f"tong_hop_thanh_pho_{PERIOD}.xlsx"
    assert city.is_file(), report.stdout.decode()
    wb = openpyxl.load_workbook(city, read_only=True)
    cells = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert any("TOÀN THÀNH PHỐ" in v for v in cells)
    units_sheet = [str(v) for row in wb["DonVi"].iter_rows(values_only=True) for v in row if v is not None]
    assert accepted <= set(units_sheet)  # every unit of both districts that sent a list
    wb.close()


# ---- the race the 4-watcher run found ---------------------------------------------------------


def test_rejected_bytes_archived_by_another_watcher_between_hash_and_claim_are_not_taken_again(
    tmp_path: Path, pg_url: str, fill_template: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Watcher A rejects and archives a file while watcher B, which saw it in the inbox, is
    between hashing it and claiming it. B's claim meets rejected bytes, which are normally
    processed again (a clerk sending them anew): here the file is gone, so B must leave it,
    not record a second entry for a file it no longer has (seen once in 4-watcher runs as
    410 entries for 408 files)."""
    from danhgia_batch.pipeline import process, process_inbox

    root = tmp_path / "work"
    init_workdir(root)
    settings = load_settings(cwd=root, env={"DANHGIA_LEDGER_URL": pg_url})
    bad = fill_template("02")
    target = settings.inbox / "PTP" / "ds.xlsx"  # PNV's list in PTP's folder: rejected
    target.parent.mkdir()
    shutil.copy2(bad, target)
    first = process_inbox(settings, write_reports=False)  # "watcher A" records and archives it
    assert [f.outcome for f in first.files] == ["rejected"]

    shutil.copy2(bad, target)  # the inbox as watcher B listed it, before A moved the file
    real_hash = process.sha256_file

    def hash_then_lose(path: Path) -> str:
        digest = real_hash(path)
        path.unlink()  # A archives it meanwhile
        return digest

    monkeypatch.setattr(process, "sha256_file", hash_then_lose)
    second = process_inbox(settings, paths=[target], write_reports=False)
    assert [f.outcome for f in second.files] == ["skipped"]
    with open_ledger(settings) as ledger:
        assert [(f.name, f.outcome) for f in ledger.files()] == [("ds.xlsx", "rejected")]


def test_two_copies_of_rejected_bytes_are_both_rejected_whatever_the_order(
    tmp_path: Path, pg_url: str, fill_template: Callable[..., Path]
) -> None:
    """The same rejected bytes under two names: each copy is read and rejected on its own,
    whether the first copy was already archived or only recorded when the second was claimed
    (one run: the second copy is claimed while the first is recorded, not yet archived).
    Before, the answer depended on timing (a duplicate or a rejection), so 4 watchers and one
    process could end with different totals."""
    from danhgia_batch.pipeline import process_inbox

    root = tmp_path / "work"
    init_workdir(root)
    settings = load_settings(cwd=root, env={"DANHGIA_LEDGER_URL": pg_url})
    bad = fill_template("02")
    (settings.inbox / "PTP").mkdir()
    for name in ("ds.xlsx", "ds - Copy.xlsx"):  # PNV's list in PTP's folder: rejected
        shutil.copy2(bad, settings.inbox / "PTP" / name)
    result = process_inbox(settings, write_reports=False)
    assert sorted((f.name, f.outcome) for f in result.files) == [
        ("ds - Copy.xlsx", "rejected"),
        ("ds.xlsx", "rejected"),
    ]
    with open_ledger(settings) as ledger:
        files = ledger.files()
        assert sorted((f.name, f.outcome, f.state) for f in files) == [
            ("ds - Copy.xlsx", "rejected", "done"),
            ("ds.xlsx", "rejected", "done"),
        ]
        assert all("unit-folder-mismatch" in [i.code for i in ledger.file_issues(f.id)] for f in files)
    assert not [p for p in settings.inbox.rglob("*") if p.is_file()]
