"""The ledger on both engines: migrations, claims, recording, superseding, locks, registry, views."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers import record_decided
from sqlalchemy import Connection, inspect, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from danhgia_batch.errors import LedgerError
from danhgia_batch.issues import make_issue
from danhgia_batch.ledger import ContextChanged, Ledger, Record, open_ledger
from danhgia_batch.ledger import migrate as migrate_mod
from danhgia_batch.ledger import schema as s
from danhgia_batch.ledger.claims import utcnow
from danhgia_batch.ledger.codec import from_hundredths, to_hundredths
from danhgia_batch.ledger.engine import check_local, make_engine
from danhgia_batch.ledger.retry import retrying
from danhgia_batch.models import EvaluationRow, ListHeader, Person, Unit
from danhgia_batch.pipeline.decide import facts, place
from danhgia_batch.settings import load_settings


def _second(led: Ledger) -> Ledger:
    """Another process's view of the same ledger (same URL, its own worker id)."""
    return Ledger(led.url, stale_after=led.stale_after)


@pytest.fixture
def other(any_ledger: Ledger) -> Iterator[Ledger]:
    led = _second(any_ledger)
    yield led
    led.close()


def header(**kw: Any) -> ListHeader:
    base: dict[str, Any] = {
        "period": "2022-01",
        "unit_code": "PNV",
        "unit_name": "Phòng Nội vụ",
        "block": "CHINH_QUYEN",
        "decider_name": "Trần Văn Hùng",
        "decider_position": "TRUONG_PHONG",
        "decision_date": date(2022, 1, 26),
    }
    base.update(kw)
    return ListHeader(**base)


def row(code: str, total: str, grade: str, **kw: Any) -> EvaluationRow:
    t = Decimal(total)
    base: dict[str, Any] = {
        "row": 10,
        "person_code": code,
        "full_name": f"Người {code}",
        "position_code": "CONG_CHUC",
        "category": "CBCC",
        "group": "CBCC",
        "self_parts": {"I": Decimal(20), "II": t - 20},
        "final_parts": {"I": Decimal(20), "II": t - 20},
        "self_total": t,
        "final_total": t,
        "self_grade": grade,
        "final_grade": grade,
    }
    base.update(kw)
    return EvaluationRow(**base)


def claim(led: Ledger, sha: str, path: str = "a.xlsx", **kw: Any) -> Any:
    return led.claim(sha, name=Path(path).name, inbox_path=path, unit_folder=None, size=10, **kw)


def record_list(led: Ledger, sha: str, rows: list[EvaluationRow], *, kind: str = "02", **hdr: Any) -> Any:
    c = claim(led, sha, f"{sha}.xlsx")
    assert c.action == "process"
    h = header(**hdr)
    rec = Record("accepted", kind, h.period, h.unit_code, h.block, [], h, rows)
    out = record_decided(led, c.file, rec)
    led.mark_done(c.file.id, None)
    return out


# ------------------------------------------------------------------ schema and migrations


def test_open_creates_schema_at_latest_version(any_ledger: Ledger) -> None:
    assert any_ledger.version == max(v for v, _, _ in migrate_mod.MIGRATIONS)
    again = _second(any_ledger)
    assert again.version == any_ledger.version  # opening twice migrates nothing
    with any_ledger.engine.connect() as conn:
        latest = max(v for v, _, _ in migrate_mod.MIGRATIONS)
        assert conn.execute(select(s.schema_version.c.version)).scalars().all() == list(range(1, latest + 1))
    again.close()


def test_a_later_migration_upgrades_an_existing_ledger_in_place(
    any_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_list(any_ledger, "a" * 64, [row("P1", "80", "B")])

    def v2(conn: Connection) -> None:
        conn.execute(text("ALTER TABLE files ADD COLUMN note_v2 VARCHAR(20)"))

    latest = any_ledger.version
    monkeypatch.setattr(migrate_mod, "MIGRATIONS", [*migrate_mod.MIGRATIONS, (latest + 1, "ghi chú", v2)])
    upgraded = _second(any_ledger)
    assert upgraded.version == latest + 1
    with upgraded.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM files WHERE note_v2 IS NULL")).scalar() == 1
    upgraded.close()


def test_a_version_1_ledger_gets_the_pending_rollups_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old = make_engine(url)
    assert migrate_mod.migrate(old, migrate_mod.MIGRATIONS[:1]) == 1
    assert not inspect(old).has_table("pending_rollups")
    old.dispose()
    led = Ledger(url)
    assert led.version == max(v for v, _, _ in migrate_mod.MIGRATIONS)
    assert inspect(led.engine).has_table("pending_rollups")
    # migration 3 (issue 20): contact addresses and sent e-mails
    assert inspect(led.engine).has_table("registry_contacts") and inspect(led.engine).has_table("mail_sendings")
    led.close()


def test_a_version_3_registry_loads_with_default_levels_and_letterheads(tmp_path: Path) -> None:
    """Migration 4 (issue 16): units saved before levels existed read back with blank ones."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old = make_engine(url)
    assert migrate_mod.migrate(old, migrate_mod.MIGRATIONS[:3]) == 3
    with old.begin() as conn:
        for name in s.ORG_COLUMNS:  # a version 3 ledger had none of them
            conn.execute(text(f"ALTER TABLE registry_units DROP COLUMN {name}"))
        conn.execute(text("INSERT INTO registry_versions (id, source, loaded_at, unit_count, people_count) "
                          "VALUES (1, 'cu', '2022-01-05 08:00:00', 1, 0)"))  # fmt: skip
        conn.execute(text("INSERT INTO registry_units (version_id, code, name, block, kind, parent_code) "
                          "VALUES (1, 'PNV', 'Phòng Nội vụ', 'CHINH_QUYEN', 'PHONG', '')"))  # fmt: skip
    old.dispose()
    led = Ledger(url)
    assert led.version == max(v for v, _, _ in migrate_mod.MIGRATIONS)
    registry = led.registry_for("2022-01")
    assert registry is not None
    unit = registry.units["PNV"]
    assert (unit.name, unit.level, unit.header_form, unit.valid_from, unit.valid_to) == (
        "Phòng Nội vụ",
        "",
        "",
        None,
        None,
    )
    led.close()


def test_a_version_4_ledger_gets_the_decision_results(tmp_path: Path) -> None:
    """Migration 5 adds ``lists.covered`` to a ledger whose lists table predates it."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old = make_engine(url)
    with old.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE lists (id INTEGER PRIMARY KEY, status VARCHAR(16))")
        conn.exec_driver_sql("INSERT INTO lists (id, status) VALUES (1, 'valid')")
        s.schema_version.create(conn)
        for number in (1, 2, 3, 4):
            conn.execute(s.schema_version.insert().values(version=number, applied_at=datetime.now(), description=""))
    old.dispose()
    led = Ledger(url)
    assert led.version == max(v for v, _, _ in migrate_mod.MIGRATIONS)
    assert {"list_notes", "quota_verdicts"} <= set(inspect(led.engine).get_table_names())
    with led.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT covered FROM lists").scalars().all() == [0]
    led.close()


def test_a_ledger_newer_than_the_program_is_refused(any_ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    with any_ledger.engine.begin() as conn:
        conn.execute(s.schema_version.insert().values(version=99, applied_at=datetime.now(), description="tương lai"))
    with pytest.raises(LedgerError):
        _second(any_ledger)


def test_sqlite_on_a_network_share_is_refused(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    share = tmp_path / "share"
    share.mkdir()
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\n//server/danhgia {share} cifs rw 0 0\n", encoding="utf-8")
    with pytest.raises(LedgerError, match="ổ mạng"):
        check_local(share / "danhgia.sqlite3", mounts)
    with pytest.raises(LedgerError):
        Ledger(f"sqlite:///{share / 'danhgia.sqlite3'}", mounts=mounts)
    check_local(tmp_path / "local.sqlite3", mounts)  # local disk: fine


def test_sqlite_runs_in_wal_mode(ledger: Ledger) -> None:
    with ledger.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_reading_transaction_never_holds_the_write_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19: a decision's context, ``check`` and the unit writer process read in
    transactions that take no write lock (SQLite: deferred BEGIN), so a writer never waits for
    them; writing transactions still take it at once (BEGIN IMMEDIATE)."""
    from danhgia_batch.ledger import engine as eng

    monkeypatch.setattr(eng, "BUSY_TIMEOUT_MS", 300)  # a writer kept waiting fails fast
    url = f"sqlite:///{tmp_path / 'l.sqlite3'}"
    with Ledger(url) as reader, Ledger(url) as writer:
        writer.retry_delays = ()  # type: ignore[attr-defined]  # no retries: the lock shows at once
        with reader.reader.connect() as conn:
            assert conn.execute(select(s.files.c.id)).all() == []  # a read transaction is open
            assert claim(writer, "a" * 64).action == "process"  # written meanwhile, not locked out
        with reader.engine.connect() as conn:
            conn.execute(select(s.files.c.id)).all()  # a writing transaction holds the lock
            with pytest.raises(LedgerError):
                claim(writer, "b" * 64)


def _open_and_close(url: str, barrier: Any) -> str:
    barrier.wait()
    try:
        Ledger(url).close()
    except LedgerError as exc:
        return str(exc)
    return "ok"


def test_processes_opening_a_new_sqlite_ledger_at_once_all_succeed(tmp_path: Path) -> None:
    # Regression (CI run of 2026-11-24): the switch to WAL needs an exclusive lock and SQLite
    # answered "database is locked" at once to a second process opening a fresh ledger.
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        for attempt in range(3):
            url = f"sqlite:///{tmp_path / f'ledger{attempt}.sqlite3'}"
            barrier = manager.Barrier(6)
            with ctx.Pool(6) as pool:
                results = pool.starmap(_open_and_close, [(url, barrier)] * 6)
            assert results == ["ok"] * 6


def test_scores_are_stored_as_integer_hundredths() -> None:
    assert to_hundredths(Decimal("89.99")) == 8999
    assert from_hundredths(8999) == Decimal("89.99")
    assert to_hundredths(None) is None


# ------------------------------------------------------------------ claims


def test_one_process_per_bytes_and_dead_claims_are_taken_over(any_ledger: Ledger, other: Ledger) -> None:
    first = claim(any_ledger, "b" * 64)
    assert first.action == "process"
    assert claim(other, "b" * 64).action == "busy"  # alive in this process
    any_ledger.close()  # the holder's run ends without recording: its claim is dead
    taken = claim(other, "b" * 64)
    assert (taken.action, taken.file.id) == ("process", first.file.id)
    assert taken.file.claimed_by == other.worker


def test_a_claim_without_heartbeat_from_another_machine_is_taken_over(any_ledger: Ledger, other: Ledger) -> None:
    first = claim(any_ledger, "c" * 64)
    with any_ledger.engine.begin() as conn:
        conn.execute(update(s.files).values(claimed_by="other-host:1:abc", heartbeat=datetime(2020, 1, 1)))
    assert claim(other, "c" * 64).action == "process"
    with any_ledger.engine.begin() as conn:
        conn.execute(update(s.files).values(claimed_by="other-host:1:abc", heartbeat=datetime.now() + timedelta(1)))
    assert claim(other, "c" * 64).action == "busy"  # fresh heartbeat elsewhere: hands off
    assert first.file is not None


@pytest.mark.parametrize(("timeout_minutes", "action"), [(2, "process"), (5, "busy")])
def test_claim_timeout_comes_from_its_own_setting(tmp_path: Path, timeout_minutes: int, action: str) -> None:
    """watcher.claim_timeout_minutes, not the log's heartbeat_minutes, decides when a silent
    holder on another machine loses its file (here: last heartbeat 3 minutes ago)."""
    (tmp_path / "danhgia.toml").write_text(
        f"[watcher]\nclaim_timeout_minutes = {timeout_minutes}\nheartbeat_minutes = 30\n", encoding="utf-8"
    )
    settings = load_settings(cwd=tmp_path, env={})
    with open_ledger(settings) as first, open_ledger(settings) as second:
        assert second.stale_after == timeout_minutes * 60
        claim(first, "e" * 64)
        with first.engine.begin() as conn:
            beat = utcnow() - timedelta(minutes=3)
            conn.execute(update(s.files).values(claimed_by="other-host:1:abc", heartbeat=beat))
        assert claim(second, "e" * 64).action == action


def _claim_scene(led: Ledger, holder: Ledger) -> list[dict[str, Any]]:
    """A ledger holding every kind of earlier claim, and a chunk of files meeting each of them."""
    record_list(led, "d" * 64, [row("P1", "80", "B")])  # recorded and archived
    bad = claim(led, "r" * 64, "PNV/bad.xlsx")
    led.record(bad.file.id, Record("rejected", issues=[make_issue("table-empty")]))
    led.mark_done(bad.file.id, None)  # rejected and archived
    assert claim(holder, "h" * 64, "PNV/held.xlsx").action == "process"  # held by a live run
    files = [
        ("n" * 64, "PNV/new1.xlsx"),
        ("s" * 64, "PNV/same1.xlsx"),
        ("d" * 64, "PNV/copy.xlsx"),
        ("s" * 64, "PNV/same2.xlsx"),  # the same bytes as an earlier file of the chunk
        ("r" * 64, "PNV/bad_again.xlsx"),
        ("h" * 64, "PNV/held_copy.xlsx"),
        ("m" * 64, "PNV/new2.xlsx"),
    ]
    return [
        {"sha256": sha, "name": Path(p).name, "inbox_path": p, "unit_folder": "PNV", "size": 10, "mtime_ns": 7}
        for sha, p in files
    ]


def _note_statement(seen: list[str], conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
    seen.append(statement)


def _answers(claims: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (
            c.action,
            c.file.claim_key.split(":")[0] if c.file else None,
            c.file.inbox_path if c.file else None,
            c.file.state if c.file else None,
            c.duplicate_of.inbox_path if c.duplicate_of else None,
        )
        for c in claims
    ]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_claims_of_a_chunk_answer_as_one_claim_after_another(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """claim_many inserts a chunk's new bytes in one statement (issue 19); the answers are
    those of :meth:`Ledger.claim` called for each file in turn, whatever each file meets."""
    if engine == "sqlite":
        urls = [f"sqlite:///{tmp_path / f'{n}.sqlite3'}" for n in range(2)]
    else:
        make = request.getfixturevalue("pg_urls")
        urls = [make(), make()]
    from sqlalchemy import event

    answers, inserts = [], []
    for n, url in enumerate(urls):
        led, holder = Ledger(url), Ledger(url)
        try:
            files = _claim_scene(led, holder)
            seen: list[str] = []
            event.listen(led.engine, "before_cursor_execute", functools.partial(_note_statement, seen))
            got = led.claim_many(files) if n == 0 else [led.claim(**f) for f in files]
            answers.append(_answers(got))
            inserts.append(sum(q.lstrip().upper().startswith("INSERT") for q in seen))
        finally:
            holder.close()
            led.close()
    assert answers[0] == answers[1]
    assert inserts[0] == inserts[1] - 2  # the three new bytes in one statement
    assert [a[0] for a in answers[0]] == ["process", "process", "process", "busy", "process", "busy", "process"]
    assert answers[0][2][1:] == ("dup", "PNV/copy.xlsx", "claimed", f"{'d' * 64}.xlsx")
    assert answers[0][4][1] == "again"


def test_identical_bytes_after_recording_are_a_duplicate(any_ledger: Ledger) -> None:
    out = record_list(any_ledger, "d" * 64, [row("P1", "80", "B")])
    copy = claim(any_ledger, "d" * 64, "PNV/copy.xlsx", mtime_ns=5)
    assert copy.action == "process"
    assert copy.duplicate_of is not None and copy.duplicate_of.id == out.file.id
    assert copy.file.id != out.file.id
    again = claim(any_ledger, "d" * 64, "PNV/copy.xlsx", mtime_ns=5)
    assert again.action == "busy"  # the same copy seen twice: still one row


def test_bytes_sent_again_after_a_rejection_are_processed_again(any_ledger: Ledger) -> None:
    c = claim(any_ledger, "aa" * 32, "a.xlsx")
    any_ledger.record(c.file.id, Record("rejected", issues=[make_issue("period-locked", period="2022-01")]))
    any_ledger.mark_done(c.file.id, None)
    again = claim(any_ledger, "aa" * 32, "a_lai.xlsx", mtime_ns=7)
    assert again.action == "process" and again.duplicate_of is None and again.file.id != c.file.id
    h = header()
    record_decided(
        any_ledger, again.file, Record("accepted", "02", "2022-01", "PNV", "CHINH_QUYEN", [], h, [row("P", "80", "B")])
    )
    any_ledger.mark_done(again.file.id, None)
    third = claim(any_ledger, "aa" * 32, "a_lan3.xlsx", mtime_ns=8)
    assert third.duplicate_of is not None and third.duplicate_of.id == again.file.id


def test_recorded_but_unarchived_files_are_handed_to_the_next_run(any_ledger: Ledger) -> None:
    c = claim(any_ledger, "e" * 64)
    any_ledger.record(c.file.id, Record("rejected", issues=[make_issue("table-empty")]))
    nxt = _second(any_ledger)
    assert nxt.unfinished() == []  # the first run is still alive
    any_ledger.close()
    left = nxt.unfinished()
    assert [f.id for f in left] == [c.file.id]
    assert left[0].claimed_by == nxt.worker
    same_path = claim(nxt, "e" * 64)
    assert same_path.action == "busy"  # now ours, being finished
    nxt.close()


# ------------------------------------------------------------------ recording


def test_a_list_round_trips_through_the_unit_view(any_ledger: Ledger) -> None:
    out = record_list(any_ledger, "f" * 64, [row("P1", "89.99", "B"), row("P2", "95", "A")])
    view = any_ledger.unit_view("2022-01", "PNV")
    assert view.unit_name == "Phòng Nội vụ" and view.block == "CHINH_QUYEN"
    assert [lst.list_id for lst in view.lists] == out.list_ids
    rows = {r.person_code: r for r in view.rows}
    assert rows["P1"].final_total == Decimal("89.99") and rows["P1"].final_grade == "B"
    assert rows["P1"].final_parts == {"I": Decimal("20.00"), "II": Decimal("69.99")}
    assert view.valid and view.missing_people is None


def test_a_corrected_list_supersedes_the_earlier_one(any_ledger: Ledger) -> None:
    first = record_list(any_ledger, "1" * 64, [row("P1", "80", "B")])
    second = record_list(any_ledger, "2" * 64, [row("P1", "92", "A")], decider_name="  trần văn  HÙNG ")
    assert second.superseded == first.list_ids
    assert "list-superseded" in [i.code for i in second.issues]
    lists = {r.id: r for r in any_ledger.lists(period="2022-01")}
    assert lists[first.list_ids[0]].status == "superseded"
    assert lists[first.list_ids[0]].superseded_by == second.list_ids[0]
    assert lists[second.list_ids[0]].version == 2
    assert [r.final_grade for r in any_ledger.unit_view("2022-01", "PNV").rows] == ["A"]
    other_decider = record_list(any_ledger, "3" * 64, [row("P9", "75", "B")], decider_name="Lê Văn Khác")
    assert other_decider.superseded == []
    assert len(any_ledger.unit_view("2022-01", "PNV").lists) == 2


def test_supersede_follows_arrival_order_not_recording_order(any_ledger: Ledger) -> None:
    early = claim(any_ledger, "4" * 64, "early.xlsx")
    late = claim(any_ledger, "5" * 64, "late.xlsx")
    h = header()
    record_decided(
        any_ledger, late.file, Record("accepted", "02", "2022-01", "PNV", "CHINH_QUYEN", [], h, [row("P1", "91", "A")])
    )
    out = record_decided(
        any_ledger, early.file, Record("accepted", "02", "2022-01", "PNV", "CHINH_QUYEN", [], h, [row("P1", "80", "B")])
    )
    assert [r.status for r in any_ledger.lists() if r.id == out.list_ids[0]] == ["superseded"]
    assert [r.final_grade for r in any_ledger.unit_view("2022-01", "PNV").rows] == ["A"]


def test_individual_forms_supersede_per_person_and_share_a_quota(any_ledger: Ledger) -> None:
    def form(sha: str, code: str, total: str, grade: str) -> Any:
        c = claim(any_ledger, sha, f"{sha[:3]}.xlsx")
        rec = Record("accepted", "01", "2022-01", "PNV", "CHINH_QUYEN", [], header(), [row(code, total, grade)])
        return record_decided(any_ledger, c.file, rec)

    assert form("6" * 64, "P1", "95", "A").file.outcome == "accepted"
    second = form("7" * 64, "P2", "96", "A")
    assert second.file.outcome == "invalid"
    assert "quota-unit-exceeded" in [i.code for i in second.issues]  # 2 A among 2 people (letter §2.5.a)
    view = any_ledger.unit_view("2022-01", "PNV")
    assert len(view.lists) == 1 and view.lists[0].status == "invalid-quota"
    fixed = form("8" * 64, "P2", "85", "B")  # P2's corrected form supersedes the earlier one
    assert fixed.file.outcome == "accepted" and len(fixed.superseded) == 1
    view = any_ledger.unit_view("2022-01", "PNV")
    assert view.valid and sorted(r.person_code for r in view.rows) == ["P1", "P2"]


def test_a_deciders_forms_keep_one_shared_verdict_row_per_group(any_ledger: Ledger) -> None:
    """Issue 19: the verdicts of a decider's earlier forms are updated in place when the group
    stays the same, and rebuilt when a form brings another group; either way every active form
    holds exactly the group verdicts of the last decision, one row per group, in order."""
    from sqlalchemy import select

    def form(sha: str, code: str, total: str, grade: str, group: str = "CBCC") -> Any:
        c = claim(any_ledger, sha, f"{sha[:3]}.xlsx")
        rows = [row(code, total, grade, group=group, category=group)]
        return record_decided(
            any_ledger, c.file, Record("accepted", "01", "2022-01", "PNV", "CHINH_QUYEN", [], header(), rows)
        )

    def stored() -> dict[int, list[tuple[str, int, int, int, bool]]]:
        t = s.quota_verdicts
        active = {r.id for r in any_ledger.lists(period="2022-01") if r.status != "superseded"}
        out: dict[int, list[tuple[str, int, int, int, bool]]] = {i: [] for i in active}
        with any_ledger.engine.connect() as conn:
            for r in conn.execute(select(t).order_by(t.c.id)):
                if r.list_id in active:
                    out[r.list_id].append((r.grp, r.ranked, r.count_a, r.limit_a, bool(r.ok)))
        return out

    for n, (sha, code) in enumerate([("a1", "P1"), ("a2", "P2"), ("a3", "P3"), ("a4", "P4"), ("a5", "P5")], 1):
        form(sha * 32, code, "80", "B")
        found = stored()
        assert len(found) == n and len({tuple(v) for v in found.values()}) == 1  # one shared verdict
        (shared,) = {tuple(v) for v in found.values()}
        assert [g for g, *_ in shared].count("CBCC") == 1 and dict((g, r) for g, r, *_ in shared)["CBCC"] == n
    form("b1" * 32, "P6", "95", "A", group="VIEN_CHUC")  # another group: every form's rows rebuilt
    found = stored()
    (shared,) = {tuple(v) for v in found.values()}
    assert len(found) == 6 and [g for g, *_ in shared][:2] == ["CBCC", "VIEN_CHUC"]
    form("a1" * 31 + "ff", "P1", "96", "A")  # P1's new form supersedes the first: in place again
    found = stored()
    (shared,) = {tuple(v) for v in found.values()}
    assert len(found) == 6 and [(g, r, a) for g, r, a, *_ in shared][:2] == [("CBCC", 5, 1), ("VIEN_CHUC", 1, 1)]


def test_rejected_files_are_listed_in_the_unit_view(any_ledger: Ledger) -> None:
    c = claim(any_ledger, "9" * 64, "bad.xlsx")
    any_ledger.record(c.file.id, Record("rejected", "02", "2022-01", "PNV", "CHINH_QUYEN", [make_issue("table-empty")]))
    view = any_ledger.unit_view("2022-01", "PNV")
    assert view.rejected_files == ["bad.xlsx"] and not view.submitted
    assert [i.code for i in any_ledger.file_issues(c.file.id)] == ["table-empty"]


# ------------------------------------------------------------------ locks


def test_locks_whole_period_and_blocks_with_history(any_ledger: Ledger) -> None:
    assert not any_ledger.is_locked("2022-01", "DANG")
    any_ledger.set_lock("2022-01", "DANG", locked=True, by="Ban Tổ chức")
    assert any_ledger.is_locked("2022-01", "DANG") and not any_ledger.is_locked("2022-01", "CHINH_QUYEN")
    any_ledger.set_lock("2022-01", None, locked=True, by="Quận ủy")
    assert any_ledger.is_locked("2022-01", "CHINH_QUYEN")
    any_ledger.set_lock("2022-01", "CHINH_QUYEN", locked=False, by="Phòng Nội vụ", reason="bổ sung")
    assert not any_ledger.is_locked("2022-01", "CHINH_QUYEN") and any_ledger.is_locked("2022-01", "DANG")
    any_ledger.set_lock("2022-01", None, locked=False, by="Quận ủy", reason="sửa sai")
    assert not any_ledger.is_locked("2022-01", "DANG")
    history = any_ledger.lock_history("2022-01")
    assert [(h["block"], h["locked"], h["by"]) for h in history][:3] == [
        ("DANG", True, "Ban Tổ chức"),
        ("", True, "Quận ủy"),
        ("CHINH_QUYEN", False, "Phòng Nội vụ"),
    ]


def test_a_lock_taken_after_the_decision_makes_the_ledger_refuse_it(any_ledger: Ledger) -> None:
    c = claim(any_ledger, "0" * 64)
    h = header()
    rec = Record("accepted", "02", "2022-01", "PNV", "CHINH_QUYEN", [], h, [row("P1", "80", "B")])
    ctx = any_ledger.decision_context(
        period="2022-01", unit_code="PNV", kind="02", decider=(h.decider_position, h.decider_name), persons=["P1"]
    )
    rec.fingerprint = ctx.fingerprint
    place(rec, ctx, load_settings(cwd=Path("."), env={}), facts(c.file))
    any_ledger.set_lock("2022-01", None, locked=True, by="x")  # meanwhile, by an administrator
    with pytest.raises(ContextChanged):
        any_ledger.record(c.file.id, rec)
    assert any_ledger.unit_view("2022-01", "PNV").lists == []
    assert any_ledger.file(c.file.id).state == s.STATE_CLAIMED  # nothing recorded: decided again


# ------------------------------------------------------------------ registry and views


def test_registry_versions_and_period_view(any_ledger: Ledger) -> None:
    assert any_ledger.current_registry() is None
    units = [Unit("PNV", "Phòng Nội vụ", "CHINH_QUYEN", "PHONG"), Unit("PTP", "Phòng Tư pháp", "CHINH_QUYEN", "PHONG")]
    people = [
        Person("P1", "Người P1", "PNV", "CONG_CHUC", "CBCC", "CBCC"),
        Person("P3", "Người P3", "PNV", "CONG_CHUC", "CBCC", "CBCC"),
        Person("T1", "Người T1", "PTP", "CONG_CHUC", "CBCC", "CBCC", birth_date=date(1990, 1, 2)),
    ]
    vid = any_ledger.save_registry(units, people, "danh_muc.xlsx")
    reg = any_ledger.current_registry()
    assert reg is not None and reg.version == vid
    assert reg.person("T1") is not None and reg.person("T1").birth_date == date(1990, 1, 2)  # type: ignore[union-attr]
    record_list(any_ledger, "ab" * 32, [row("P1", "80", "B")])
    view = any_ledger.period_view("2022-01")
    assert view.has_registry and [u.code for u in view.expected_units] == ["PNV", "PTP"]
    (unit,) = view.units
    assert [p.code for p in unit.missing_people or []] == ["P3"]
    assert any_ledger.period_view("2022-01", "DANG").units == []


def test_year_rows_take_the_active_list_of_each_month(any_ledger: Ledger) -> None:
    record_list(any_ledger, "c1" * 32, [row("P1", "80", "B")])
    record_list(any_ledger, "c2" * 32, [row("P1", "92", "A")], period="2022-02")
    record_list(any_ledger, "c3" * 32, [row("P1", "60", "C")], period="2022-02")  # corrected February
    record_list(any_ledger, "c4" * 32, [row("P1", "60", "C")], period="2023-01")
    (p1,) = any_ledger.year_rows(2022)
    assert p1.grades == {1: "B", 2: "C"} and p1.scores[2] == Decimal("60.00")


# ------------------------------------------------------------------ transient failures


class _Flaky:
    retry_delays = (0.0, 0.0, 0.0)

    def __init__(self, failures: int, exc: Exception) -> None:
        self.failures, self.exc, self.calls = failures, exc, 0

    @retrying
    def work(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc
        return "ok"


def test_transient_failures_are_retried_then_reported() -> None:
    dropped = OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
    flaky = _Flaky(2, dropped)
    assert flaky.work() == "ok" and flaky.calls == 3
    with pytest.raises(LedgerError):
        _Flaky(10, dropped).work()
    broken = _Flaky(1, IntegrityError("INSERT", {}, Exception("duplicate key")))
    with pytest.raises(LedgerError):
        broken.work()
    assert broken.calls == 1  # not transient: no retry


def test_recording_twice_is_harmless(any_ledger: Ledger) -> None:
    c = claim(any_ledger, "f1" * 32)
    h = header()
    rec = Record("accepted", "02", "2022-01", "PNV", "CHINH_QUYEN", [], h, [row("P1", "80", "B")])
    first = record_decided(any_ledger, c.file, rec)
    again = any_ledger.record(c.file.id, rec)  # a retry after a lost acknowledgement
    assert again.file.state == "recorded" and len(any_ledger.lists()) == 1 and first.list_ids
    assert claim(any_ledger, "f2" * 32).action == claim(any_ledger, "f2" * 32).action == "process"


def test_connections_killed_by_the_server_are_replaced(pg_ledger: Ledger, pg_url: str) -> None:
    from sqlalchemy import create_engine

    claim(pg_ledger, "f3" * 32)
    with pg_ledger.engine.connect() as conn:  # the pooled connection the ledger will reuse
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    killer = create_engine(pg_url)
    with killer.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    killer.dispose()
    assert len(pg_ledger.files()) == 1
    assert claim(pg_ledger, "f4" * 32).action == "process"


def test_the_view_of_a_unit_that_sent_nothing_lists_only_who_is_really_missing(any_ledger: Ledger) -> None:
    units = [Unit("PNV", "Phòng Nội vụ", "CHINH_QUYEN", "PHONG"), Unit("PTP", "Phòng Tư pháp", "CHINH_QUYEN", "PHONG")]
    people = [
        Person("P1", "Người P1", "PNV", "CONG_CHUC", "CBCC", "CBCC"),
        Person("T1", "Người T1", "PTP", "TRUONG_PHONG", "CBCC", "CBCC"),
        Person("T2", "Người T2", "PTP", "CONG_CHUC", "CBCC", "CBCC"),
    ]
    any_ledger.save_registry(units, people, "danh_muc.xlsx")
    record_list(any_ledger, "dd" * 32, [row("P1", "80", "B"), row("T1", "85", "B")])  # T1 decided elsewhere
    view = any_ledger.unit_view("2022-01", "PTP")
    assert not view.submitted and [p.code for p in view.missing_people or []] == ["T2"]
    assert view.unit_name == "Phòng Tư pháp" and view.registry_size == 2


def test_people_listed_elsewhere_in_the_period(any_ledger: Ledger) -> None:
    record_list(any_ledger, "e1" * 32, [row("P1", "80", "B"), row("P2", "80", "B")])
    record_list(any_ledger, "e2" * 32, [row("T1", "80", "B")], unit_code="PTP", unit_name="Phòng Tư pháp")
    everyone = any_ledger.people_listed("2022-01")
    assert sorted(everyone) == ["P1", "P2", "T1"] and everyone["T1"] == "Phòng Tư pháp, Trần Văn Hùng"
    assert sorted(any_ledger.people_listed("2022-01", persons=["P2", "T1", "X9"])) == ["P2", "T1"]
    replacing = any_ledger.people_listed("2022-01", exclude=("PNV", "TRUONG_PHONG", "trần văn hùng"))
    assert sorted(replacing) == ["T1"]  # the list being replaced does not count
    assert any_ledger.people_listed("2022-02") == {}
    # the same people on a list of another month: each period sees only its own lists
    record_list(any_ledger, "e3" * 32, [row("P1", "80", "B"), row("T1", "80", "B")], period="2022-02")
    assert any_ledger.people_listed("2022-02", persons=["P1", "P2", "T1"]) == {
        "P1": "Phòng Nội vụ, Trần Văn Hùng",
        "T1": "Phòng Nội vụ, Trần Văn Hùng",
    }
    assert any_ledger.people_listed("2022-01", persons=["P1", "T1"])["T1"] == "Phòng Tư pháp, Trần Văn Hùng"


def test_the_people_of_a_file_are_looked_up_by_person_and_period(tmp_path: Path) -> None:
    """SQLite keeps no statistics: the lookup of a file's people must be driven from the
    (person code, period) index, each list found by its key, never from the period's lists (a
    city period holds 25,000 of them) nor from the people's rows of every other month."""
    from danhgia_batch.ledger.queries import _PERSON_LISTS

    led = open_ledger(load_settings(cwd=tmp_path, env={}))
    record_list(led, "e4" * 32, [row("P1", "80", "B")])
    record_list(led, "e5" * 32, [row("P1", "80", "B")], period="2022-02")
    with led.engine.connect() as conn:
        codes = ["P1", *(f"X{i}" for i in range(40))]  # a list's people
        stmt = _PERSON_LISTS.params(codes=codes, period="2022-01")
        sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
        assert [(r.person_code, r.unit_code) for r in conn.execute(stmt)] == [("P1", "PNV")]
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
    steps = [r[-1] for r in plan]
    led.close()
    assert any("USING INDEX ix_evaluations_person_period (person_code=? AND period=?)" in st for st in steps), steps
    assert any("lists USING INTEGER PRIMARY KEY" in st for st in steps), steps
    assert not any("ix_lists_period_unit" in st for st in steps), steps


def test_a_version_6_ledger_gets_each_evaluations_period(any_ledger: Ledger) -> None:
    """Migration 7 (issue 19): rows recorded before it get their list's period, the (person,
    period) index replaces the person-code one, and each period's people are found."""
    record_list(any_ledger, "e6" * 32, [row("P1", "80", "B"), row("P2", "80", "B")])
    record_list(
        any_ledger, "e7" * 32, [row("P1", "80", "B")], period="2022-02", unit_code="PTP", unit_name="Phòng Tư pháp"
    )
    with any_ledger.engine.begin() as conn:  # back to version 6: no period beside the rows, the person-code index
        conn.execute(text("DELETE FROM schema_version WHERE version >= 7"))
        conn.execute(text("DROP INDEX ix_evaluations_person_period"))
        conn.execute(text("ALTER TABLE evaluations DROP COLUMN period"))
        conn.execute(text("CREATE INDEX ix_evaluations_person_code ON evaluations (person_code)"))
    led = _second(any_ledger)  # opening migrates
    try:
        assert led.version == max(v for v, _, _ in migrate_mod.MIGRATIONS) >= 7
        with led.engine.connect() as conn:
            periods = conn.execute(text("SELECT e.person_code, e.period FROM evaluations e ORDER BY e.id")).all()
            indexes = {i["name"] for i in inspect(conn).get_indexes("evaluations")}
        assert [tuple(r) for r in periods] == [("P1", "2022-01"), ("P2", "2022-01"), ("P1", "2022-02")]
        assert indexes == {"ix_evaluations_list_id", "ix_evaluations_person_period"}
        assert led.people_listed("2022-02", persons=["P1", "P2"]) == {"P1": "Phòng Tư pháp, Trần Văn Hùng"}
        assert sorted(led.people_listed("2022-01", persons=["P1", "P2"])) == ["P1", "P2"]
    finally:
        led.close()
