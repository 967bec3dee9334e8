"""Issue 19, memory of a city run: the unit writer process is given the registry's people of the
units it writes (``StaffSlice``) and loads only the registry's units; the views it builds are
the ones the whole registry gives. A registry wholly in force is not copied per period."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import update
from test_ledger import record_list, row

from danhgia_batch.ledger import Ledger, views
from danhgia_batch.ledger import schema as s
from danhgia_batch.ledger.queries import evaluated_among
from danhgia_batch.ledger.views import StaffSlice, staff_slice
from danhgia_batch.models import Person, Unit
from danhgia_batch.registry import Registry

PERIOD = "2022-01"
UNITS = [
    Unit("Q", "Quận Long Biên", "CHINH_QUYEN", "QUAN", level="QUAN"),
    Unit("PNV", "Phòng Nội vụ", "CHINH_QUYEN", "PHONG", parent_code="Q"),
    Unit("PTP", "Phòng Tư pháp", "CHINH_QUYEN", "PHONG", parent_code="Q"),
]


def _registry(led: Ledger) -> int:
    people = [
        Person("P1", "Người P1", "PNV", "CONG_CHUC", "CBCC", "CBCC"),
        Person("P2", "Người P2", "pnv ", "CONG_CHUC", "CBCC", "CBCC", birth_date=date(1990, 1, 2)),
        Person("P3", "Người P3", "PNV", "CONG_CHUC", "CBCC", "CBCC", active=False),
        Person("T1", "Người T1", "PTP", "CONG_CHUC", "CBCC", "CBCC"),
        Person("T2", "Người T2", "PTP", "CONG_CHUC", "CBCC", "CBCC"),
    ]
    return led.save_registry(UNITS, people, "danh_muc.xlsx")


def test_the_views_of_a_staff_slice_are_those_of_the_whole_registry(ledger: Ledger) -> None:
    vid = _registry(ledger)
    record_list(ledger, "ab" * 32, [row("P1", "80", "B"), row("T1", "91", "A")])  # T1 evaluated on PNV's list
    codes = ["PNV", "PTP", "NOPE"]
    whole = ledger.unit_views(PERIOD, codes)
    registry = ledger.registry_for(PERIOD)
    assert registry is not None
    given = staff_slice(registry, codes)
    assert given.version == vid and [p.code for p in given.people["PNV"]] == ["P1", "P2"]
    writer = Ledger(ledger.url)  # another process's ledger, as the unit writer process opens it
    try:
        sliced = writer.unit_views_given(PERIOD, codes, given)
        assert writer._units_only is not None and not writer._units_only.people  # no people loaded there
        assert writer._registry is None
    finally:
        writer.close()
    assert sliced == whole
    assert [p.code for p in sliced["PNV"].missing_people or []] == ["P2"]
    assert [p.code for p in sliced["PTP"].missing_people or []] == ["T2"]  # T1 was evaluated elsewhere
    assert sliced["PNV"].registry_size == 2 and [u.code for u in sliced["PNV"].chain] == ["PNV", "Q"]


def test_a_staff_slice_of_another_registry_version_reads_the_whole_registry(ledger: Ledger) -> None:
    vid = _registry(ledger)
    record_list(ledger, "cd" * 32, [row("P1", "80", "B")])
    stale = StaffSlice(vid + 7, {"PNV": []})  # not the version in force: its people are not used
    writer = Ledger(ledger.url)
    try:
        assert writer.unit_views_given(PERIOD, ["PNV"], stale) == ledger.unit_views(PERIOD, ["PNV"])
        assert writer._registry is not None and writer._registry.people
    finally:
        writer.close()


def test_a_registry_wholly_in_force_is_its_own_registry_of_the_period() -> None:
    units = {
        "A": Unit("A", "A", "CHINH_QUYEN", "PHONG", valid_from=date(2025, 7, 1)),
        "B": Unit("B", "B", "CHINH_QUYEN", "PHONG", valid_from=date(2025, 7, 1), valid_to=date(2026, 1, 1)),
    }
    people = {
        "P1": Person("P1", "Người P1", "A", "CONG_CHUC", "CBCC", "CBCC"),
        "P2": Person("P2", "Người P2", "B", "CONG_CHUC", "CBCC", "CBCC"),
    }
    reg = Registry(units=units, people=people, version=1)
    december = reg.in_force("2025-12")  # both units in force
    assert december is reg and december.people_of("B") == [people["P2"]]
    january = reg.in_force("2026-01")  # B ended: a registry without it and its people
    assert list(january.units) == ["A"] and list(january.people) == ["P1"]
    assert reg.in_force("2026-01") is january


def _missing(views: dict[str, Any]) -> dict[str, list[str]]:
    return {c: [p.code for p in v.missing_people or []] for c, v in views.items()}


@pytest.mark.parametrize("extra_code", ["X9", "Đ9"])  # a non-ASCII code: the period's every row is read
def test_the_views_of_a_few_units_look_up_only_their_people_and_agree_with_the_whole_period(
    any_ledger: Ledger, monkeypatch: pytest.MonkeyPatch, extra_code: str
) -> None:
    """Issue 19: the unit writer's every job read the period's every evaluated person (a city
    month: 175,000 rows per job). The views of a few units now look up their own people only;
    they are the views the whole period's rows give."""
    people = [
        Person("P1", "Người P1", "PNV", "CONG_CHUC", "CBCC", "CBCC"),
        Person("P2", "Người P2", "pnv ", "CONG_CHUC", "CBCC", "CBCC"),
        Person("T1", "Người T1", "PTP", "CONG_CHUC", "CBCC", "CBCC"),
        Person("T2", "Người T2", "PTP", "CONG_CHUC", "CBCC", "CBCC"),
        Person("T3", "Người T3", "PTP", "CONG_CHUC", "CBCC", "CBCC"),
        Person(extra_code, "Người khác", "PTP", "CONG_CHUC", "CBCC", "CBCC"),
    ]
    any_ledger.save_registry(UNITS, people, "danh_muc.xlsx")
    record_list(any_ledger, "ab" * 32, [row("P1", "80", "B"), row("T1", "91", "A"), row(extra_code, "85", "B")])
    record_list(any_ledger, "cd" * 32, [row("T2", "80", "B")], period="2022-02")  # another month
    gone = record_list(any_ledger, "ef" * 32, [row("T3", "80", "B")], unit_code="PTP", decider_name="Lê Thị Lan")
    with any_ledger.engine.begin() as conn:  # T3's list superseded: T3 is missing again
        conn.execute(update(s.lists).where(s.lists.c.id == gone.list_ids[0]).values(status=s.SUPERSEDED))
    codes = ["PNV", "PTP"]
    narrowed = any_ledger.unit_views(PERIOD, codes)
    monkeypatch.setattr(views, "NARROW_UNITS", 0)  # the period's every evaluated person, as before
    whole = any_ledger.unit_views(PERIOD, codes)
    assert narrowed == whole
    assert _missing(narrowed) == {"PNV": ["P2"], "PTP": ["T2", "T3"]}
    with any_ledger.engine.connect() as conn:
        hits = evaluated_among(conn, PERIOD, ["P1", "P2", "T1", "T2", "T3"])
    assert sorted(hits) == ["P1", "T1"]
