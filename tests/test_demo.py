"""The demo district (SPEC Appendix A), its registry, its decider lists and its faults."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from danhgia_batch import layout
from danhgia_batch.demo import build_district, write_sample_registry
from danhgia_batch.demo import faults as F
from danhgia_batch.demo.inbox import write_inbox
from danhgia_batch.demo.lists import decider_lists, unit_size
from danhgia_batch.demo.plans import WARDS
from danhgia_batch.demo.scores import band, max_a, period_dates, score_members
from danhgia_batch.settings import Settings
from danhgia_batch.templates.fill import find_header_row

SMALL = 6  # units: seven decider lists, room for every fault


@pytest.fixture(scope="module")
def district():
    return build_district()


def test_same_seed_same_district_other_seed_other_people() -> None:
    a, b, c = build_district(seed=7, units=12), build_district(seed=7, units=12), build_district(seed=8, units=12)
    assert a.units == b.units and a.people == b.people
    assert [p.full_name for p in a.people] != [p.full_name for p in c.people]


def test_default_district_is_long_bien_sized(district) -> None:
    assert 4_500 <= len(district.people) <= 5_500
    assert 120 <= len(district.units) <= 160
    blocks = Counter(u.block for u in district.units)
    assert 60 <= blocks["TRUONG_HOC"] <= 70
    codes = {u.code for u in district.units}
    assert {"PNV", "PGDDT", "VPQU", "BTCQU", "UBND_BODE", "DU_BODE", "THCS_NGOCLAM"} <= codes
    assert len(WARDS) == 14
    assert all(f"UBND_{w}" in codes and f"DU_{w}" in codes for w in ("CUKHOI", "DUCGIANG", "VIETHUNG"))


def test_trimmed_district_keeps_the_same_people(district) -> None:
    small = build_district(units=SMALL)
    assert len(small.units) == SMALL
    full = {p.code: p for p in district.people}
    assert all(full[p.code] == p for p in small.people)
    kept = {u.code for u in small.units}
    assert all(u.parent_code in kept | {""} for u in small.units)


def test_names_are_nfc_vietnamese_with_diacritics(district) -> None:
    names = [p.full_name for p in district.people]
    assert all(unicodedata.normalize("NFC", n) == n and len(n.split()) >= 3 for n in names)
    assert sum(1 for n in names if not n.isascii()) > 0.9 * len(names)
    family = Counter(n.split()[0] for n in names)
    assert 0.33 < family["Nguyễn"] / len(names) < 0.43
    assert 0.08 < family["Trần"] / len(names) < 0.14


def test_codes_come_from_the_code_lists(district, settings: Settings) -> None:
    kinds = {k.code: k.extra["block"] for k in settings.codes.unit_kinds}
    assert all(kinds[u.kind] == u.block for u in district.units)
    assert all(u.code.isascii() and len(u.code) <= 20 for u in district.units)
    positions, categories = set(settings.codes.codes("positions")), set(settings.codes.codes("categories"))
    assert all(p.position_code in positions and p.category in categories for p in district.people)
    assert len({p.code for p in district.people}) == len(district.people)
    assert Counter(p.category for p in district.people).keys() == {"CBCC", "VC", "KCT", "LDHD"}


def test_sample_registry_is_a_valid_template_00(settings: Settings, tmp_path: Path) -> None:
    small = build_district(units=10)
    path = write_sample_registry(settings, tmp_path / "danh_muc.xlsx", district=small)
    wb = openpyxl.load_workbook(path)
    ws_units, ws_people = wb[layout.SHEET_UNITS], wb[layout.SHEET_PEOPLE]
    row, cols = find_header_row(ws_units, layout.UNIT_COLUMNS)
    units = [r for r in ws_units.iter_rows(min_row=row + 1, values_only=True) if r[cols["unit_code"] - 1]]
    unit_codes = [r[cols["unit_code"] - 1] for r in units]
    assert unit_codes == [u.code for u in small.units] and len(set(unit_codes)) == len(unit_codes)
    row, pcols = find_header_row(ws_people, layout.PEOPLE_COLUMNS)
    people = [r for r in ws_people.iter_rows(min_row=row + 1, values_only=True) if r[pcols["person_code"] - 1]]
    assert len(people) == len(small.people)
    assert {r[pcols["unit_code"] - 1] for r in people} <= set(unit_codes)
    first = people[0]
    assert first[pcols["full_name"] - 1] == small.people[0].full_name
    assert first[pcols["position_code"] - 1] == small.people[0].position_code


def test_decider_lists_follow_the_authority_matrix(district, settings: Settings) -> None:
    lists = decider_lists(district, settings)
    assert 120 <= len(lists) <= 160
    listed = Counter(p.code for lst in lists for p in lst.members)
    assert set(listed) == {p.code for p in district.people} and max(listed.values()) == 1
    units = {u.code: u for u in district.units}
    for lst in lists:
        for p in lst.members:
            rules = settings.authority.rules_for(p.position_code, units[p.unit_code].block, units[p.unit_code].kind)
            assert any(lst.decider.position in r.deciders for r in rules), (lst.slug, p.position_code)
    by_slug = {lst.slug: lst for lst in lists}
    chair = by_slug["LDUBND_CT_UBND_Q"]
    assert {"TRUONG_PHONG", "TRUONG_PHONG_GDDT", "CT_UBND_PHUONG"} <= {p.position_code for p in chair.members}
    assert "HIEU_TRUONG" in {p.position_code for p in by_slug["PGDDT_TRUONG_PHONG_GDDT"].members}
    assert by_slug["TTQU_PBT_TT_THANH_UY"].decider.code == ""  # decided outside the district


def test_units_of_twenty_name_a_deputy_as_evaluator(district, settings: Settings) -> None:
    """Letter §2.2.b: a department of 20 or more CBCCVC, LĐHĐ delegates the comments."""
    lst = next(x for x in decider_lists(district, settings) if x.unit.code == "VPHU")
    assert unit_size(district, "VPHU") >= 20
    staff = [p for p in lst.members if p.position_code != "CAP_PHO"]
    assert all(lst.evaluators[p.code].position_code == "CAP_PHO" for p in staff)


def test_scores_respect_bands_and_quota(district, settings: Settings) -> None:
    import random

    fw = settings.default_framework
    dates = period_dates("2022-03", settings)
    lst = next(x for x in decider_lists(district, settings) if x.unit.code == "THCS_NGOCLAM")
    scored = score_members(lst.members, fw, settings, dates, random.Random(1))
    grades = Counter(s.final_grade for s in scored)
    assert grades["A"] <= max_a(settings.quota, len(scored), grades["C"] + grades["D"])
    assert grades["B"] > len(scored) / 2
    for s in scored:
        assert s.final_total <= 100 and all(p >= 0 for p in s.final_parts)
        assert band(s.final_total, settings.grading) == s.final_grade
        assert dates.self_first <= s.self_date <= dates.self_last < dates.decision_first
    assert sum(1 for s in scored if s.self_total >= s.final_total) > 0.8 * len(scored)


@pytest.mark.parametrize(
    ("ranked", "below", "expected"),
    [(1, 0, 1), (4, 0, 1), (5, 0, 0), (6, 0, 1), (12, 0, 2), (30, 0, 5), (30, 6, 4)],
)
def test_max_a_follows_letter_2_5(settings: Settings, ranked: int, below: int, expected: int) -> None:
    assert max_a(settings.quota, ranked, below) == expected


def test_inbox_has_every_fault_once(settings: Settings, tmp_path: Path) -> None:
    small = build_district(units=SMALL)
    files = write_inbox(settings, small, tmp_path / "inbox")
    assert sorted(f.fault for f in files if f.fault) == sorted(F.ALL_FAULTS)
    outcome = Counter(f.expected for f in files)
    assert outcome == {"accepted": 2, "rejected": 5, "invalid": 1, "duplicate": 1}
    by_fault = {f.fault: f for f in files if f.fault}
    assert by_fault[F.WRONG_FOLDER].path.parent.name != by_fault[F.WRONG_FOLDER].unit_code
    dup = by_fault[F.DUPLICATE].path
    assert any(f.path != dup and f.path.read_bytes() == dup.read_bytes() for f in files)
    data = by_fault[F.ENCRYPTED].path.read_bytes()
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1") and "EncryptedPackage".encode("utf-16-le") in data
    fw = settings.default_framework
    ws = openpyxl.load_workbook(by_fault[F.COLUMN_MISSING].path)[layout.SHEET_UNIT_LIST]
    assert "self_date" not in find_header_row(ws, layout.unit_list_columns(fw))[1]
    ws = openpyxl.load_workbook(by_fault[F.TOTAL_OVERWRITTEN].path)[layout.SHEET_UNIT_LIST]
    row, cols = find_header_row(ws, layout.unit_list_columns(fw))
    totals = [
        ws.cell(r, cols["final_total"]).value for r in range(row + 1, row + 1 + by_fault[F.TOTAL_OVERWRITTEN].people)
    ]
    assert sum(1 for t in totals if isinstance(t, int | float)) == 1
    ws = openpyxl.load_workbook(by_fault[F.SCORE_TYPO].path)[layout.SHEET_UNIT_LIST]
    row, cols = find_header_row(ws, layout.unit_list_columns(fw))
    key, value = F.typo_value(fw)
    assert value > fw.part(key.removeprefix("final_")).max
    assert value in [ws.cell(r, cols[key]).value for r in range(row + 1, ws.max_row + 1)]


def test_quota_fault_breaks_the_quota_once(settings: Settings, tmp_path: Path) -> None:
    small = build_district(units=SMALL)
    files = write_inbox(settings, small, tmp_path / "inbox")
    fw = settings.default_framework
    broken = []
    for f in files:
        if f.kind != layout.KIND_UNIT_LIST or f.fault in (F.COLUMN_MISSING, F.SCORE_TYPO):
            continue
        ws = openpyxl.load_workbook(f.path)[layout.SHEET_UNIT_LIST]
        row, cols = find_header_row(ws, layout.unit_list_columns(fw))
        groups: dict[str, Counter[str]] = {}
        for r in range(row + 1, row + 1 + f.people):
            groups.setdefault(ws.cell(r, cols["group"]).value, Counter())[ws.cell(r, cols["final_grade"]).value] += 1
        for g in groups.values():
            ranked = sum(g[x] for x in "ABCD")
            if g["A"] > max_a(settings.quota, ranked, g["C"] + g["D"]):
                broken.append(f.fault)
    assert broken == [F.QUOTA]


def test_demo_command_processes_a_small_district_end_to_end(tmp_path: Path) -> None:
    """`danhgia demo --units 6`: every planted fault ends as SPEC §9 says."""
    import json

    from typer.testing import CliRunner

    from danhgia_batch.cli import app

    target = tmp_path / "demo"
    res = CliRunner().invoke(
        app, ["--json", "demo", "--dir", str(target), "--units", str(SMALL), "--period", "2022-11"]
    )
    out = json.loads(res.stdout)
    assert out["registry_version"] == 1 and out["processed"]
    assert out["expected"] == {"accepted": 2, "rejected": 5, "invalid": 1, "duplicate": 1}
    assert out["mismatches"] == []
    assert out["counts"] == out["expected"]
    assert res.exit_code == 0
    assert len(out["error_files"]) == 5 and all(Path(p).is_file() for p in out["error_files"])
    assert list((target / "outbox" / "2022-11").glob("*/*/*.xlsx"))  # unit lists were written
    assert not [p for p in (target / "inbox").rglob("*.xlsx")]  # everything left the inbox
    again = CliRunner().invoke(app, ["demo", "--dir", str(target), "--units", "2", "--period", "2022-11"])
    assert "Kết quả xử lý" in again.stdout  # a demo folder is rebuilt, not refused


def test_zip_level_fill_reads_back_like_the_clerks_openpyxl_fill(settings: Settings, tmp_path: Path) -> None:
    """The fast writer (demo, benchmarks) yields the same cells as templates.fill_* ."""
    small = build_district(units=10)  # includes individual forms (template 01)
    slow = write_inbox(settings, small, tmp_path / "slow", period="2022-11")
    fast = write_inbox(settings, small, tmp_path / "fast", period="2022-11", fast=True)
    assert [f.path.relative_to(tmp_path / "slow") for f in slow] == [
        f.path.relative_to(tmp_path / "fast") for f in fast
    ]
    assert {f.kind for f in fast} == {"01", "02", ""}

    def cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
        wb = openpyxl.load_workbook(path)
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb}

    for a, b in zip(slow, fast, strict=True):
        if a.kind:
            assert cells(a.path) == cells(b.path), a.path.name


def test_a_couple_not_ranked_with_a_reason_and_one_d(district, settings: Settings, tmp_path: Path) -> None:
    """SPEC §6: KXL needs a reason (and has no scores: the person was not evaluated)."""
    files = write_inbox(settings, district, tmp_path / "inbox", period="2022-11", fast=True)
    fw = settings.default_framework
    grades: Counter[str] = Counter()
    for f in files:
        if f.kind != layout.KIND_UNIT_LIST or f.fault:
            continue
        ws = openpyxl.load_workbook(f.path)[layout.SHEET_UNIT_LIST]
        row, cols = find_header_row(ws, layout.unit_list_columns(fw))
        for r in range(row + 1, row + 1 + f.people):
            grade = ws.cell(r, cols["final_grade"]).value
            grades[grade] += 1
            if grade == "KXL":
                assert ws.cell(r, cols["note"]).value
                assert ws.cell(r, cols["final_I"]).value is None
    assert grades["KXL"] == 2 and grades["D"] == 1
    assert 0.12 < grades["A"] / sum(grades.values()) < 0.2
    assert grades["B"] / sum(grades.values()) > 0.7


@pytest.mark.parametrize(
    ("today", "decision_last"),
    [("2026-11-24", "2026-11-24"), ("2026-11-03", "2026-11-03"), ("2026-12-09", "2026-11-27"), ("2026-10-30", None)],
)
def test_current_month_dates_never_lie_after_today(settings: Settings, today: str, decision_last: str | None) -> None:
    """The demo runs on the current month: a date after the file's arrival is a warning
    (letter §2.3), so its lists are dated today at the latest; the late decision stays late."""
    from datetime import date

    plain = period_dates("2026-11", settings)
    dates = period_dates("2026-11", settings, not_after=date.fromisoformat(today))
    if decision_last is None:  # a month that has not begun: nothing to clamp
        assert dates == plain
        return
    assert dates.decision_last == date.fromisoformat(decision_last)
    assert dates.self_first <= dates.self_last <= dates.decision_first <= dates.decision_last
    assert dates.late_decision == plain.late_decision == date(2026, 11, 30)  # 27th is the last on time


def test_demo_of_this_month_warns_of_no_date_after_arrival_but_the_late_one(tmp_path: Path) -> None:
    """Before the month's late date has come, the planted late decision is dated after its
    arrival (a warning of its own, rules/deadlines); no other list of the demo may be."""
    import json

    from typer.testing import CliRunner

    from danhgia_batch.cli import app
    from danhgia_batch.ledger import open_ledger
    from danhgia_batch.settings import load_settings

    target = tmp_path / "demo"
    res = CliRunner().invoke(app, ["--json", "demo", "--dir", str(target)])  # the ward, this month
    assert res.exit_code == 0, res.stdout
    out = json.loads(res.stdout)
    with open_ledger(load_settings(cwd=target, env={})) as led:
        files = led.files(period=out["period"])
        codes = {f.name: {i.code for i in led.file_issues(f.id)} for f in files}
    late_file = out["faults"][F.LATE_DECISION]
    assert "late-decision" in codes[late_file]  # reported late, whatever today is (issue 18)
    status = json.loads(
        CliRunner().invoke(app, ["-c", str(target / "danhgia.toml"), "--json", "status", "-p", out["period"]]).stdout
    )
    late_units = {u["unit_code"] for b in status["blocks"] for u in b["units"] if u["on_time"] is False}
    assert any(code in late_file for code in late_units)
    assert [name for name, c in codes.items() if "date-after-arrival" in c and name != late_file] == []
