"""Registry model, template 00 validation, cross-checks and completeness (issue 5, SPEC §3).

A small registry: two blocks (CHINH_QUYEN, DANG), five units, 44 people (43 active). FormResults are
built the way the reader builds them (rows and A1 cells of columns in generated order).
"""

from __future__ import annotations

import functools
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers import valid_row
from hypothesis import given
from hypothesis import strategies as st

from danhgia_batch.issues import CATALOGUE, Issue, make_issue
from danhgia_batch.layout import strip_accents
from danhgia_batch.ledger import open_ledger
from danhgia_batch.models import EvaluationRow, FormResult, ListHeader, Person, Unit
from danhgia_batch.pipeline import period_status, process_inbox, publish_period, regenerate_reports, reopen_period
from danhgia_batch.registry import (
    Registry,
    compare_names,
    completeness,
    crosscheck,
    missing_people,
    person_blocks,
    registry_from_form,
    unit_size,
    validate_registry,
)
from danhgia_batch.settings import Settings, load_settings

UNIT_COLS = {"unit_code": "A", "unit_name": "B", "block": "C", "unit_kind": "D", "parent_code": "E"}
PEOPLE_COLS = {
    "person_code": "A",
    "full_name": "B",
    "birth_date": "C",
    "unit_code": "D",
    "position_title": "E",
    "position_code": "F",
    "category": "G",
    "group": "H",
    "active": "I",
}
LIST_COLS = {"person_code": "B", "full_name": "C", "birth_date": "D", "position_code": "F"}
HEADER_CELLS = {"period": "C3", "unit_code": "C4", "unit_name": "C5", "block": "C6", "decider_position": "C8"}

UNITS = [
    # code, name, block, kind, parent
    ("UBND_Q", "Lãnh đạo UBND quận", "CHINH_QUYEN", "UBND_Q", ""),
    ("PNV", "Phòng Nội vụ", "CHINH_QUYEN", "PHONG", "UBND_Q"),
    ("PTP", "Phòng Tư pháp", "CHINH_QUYEN", "PHONG", "UBND_Q"),
    ("UBND_PBD", "UBND phường Bồ Đề", "CHINH_QUYEN", "UBND_PHUONG", ""),
    ("BTC", "Ban Tổ chức Quận ủy", "DANG", "BAN_DANG", ""),
]
# unit → [(position, category, count)]
STAFF = {
    "UBND_Q": [("CT_UBND_Q", "CBCC", 1), ("PCT_UBND_Q", "CBCC", 2)],
    "PNV": [("TRUONG_PHONG", "CBCC", 1), ("CAP_PHO", "CBCC", 2), ("CONG_CHUC", "CBCC", 17), ("LDHD", "LDHD", 2)],
    "PTP": [("TRUONG_PHONG", "CBCC", 1), ("CAP_PHO", "CBCC", 1), ("CONG_CHUC", "CBCC", 4)],
    "UBND_PBD": [
        ("CT_UBND_PHUONG", "CBCC", 1),
        ("PCT_UBND_PHUONG", "CBCC", 1),
        ("CONG_CHUC", "CBCC", 3),
        ("KCT", "KCT", 2),
    ],
    "BTC": [("TRUONG_BAN_QU", "CBCC", 1), ("CAP_PHO", "CBCC", 1), ("CONG_CHUC", "CBCC", 3)],
}
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Quang", "Thu", "Minh", "Đức"]
GIVEN = ["Hà", "Minh", "Huy", "Lan", "Dũng", "Hương", "Tuấn", "Ngọc", "Bình", "Thảo", "Sơn"]


def _unit(row: int, code: str, name: str, block: str, kind: str, parent: str) -> Unit:
    cells = {k: f"{c}{row}" for k, c in UNIT_COLS.items()}
    return Unit(code=code, name=name, block=block, kind=kind, parent_code=parent, row=row, cells=cells)


def _person(row: int, code: str, name: str, unit: str, position: str, category: str, **kw: object) -> Person:
    cells = {k: f"{c}{row}" for k, c in PEOPLE_COLS.items()}
    return Person(
        code=code,
        full_name=name,
        unit_code=unit,
        position_code=position,
        category=category,
        group=category,
        birth_date=date(1970 + row % 30, 1 + row % 12, 1 + row % 28),
        row=row,
        cells=cells,
        **kw,  # type: ignore[arg-type]
    )


def registry_form(extra_people: list[Person] | None = None) -> FormResult:
    units = [_unit(i + 2, *u) for i, u in enumerate(UNITS)]
    people: list[Person] = []
    for unit, staff in STAFF.items():
        for position, category, count in staff:
            for _ in range(count):
                n = len(people)
                row = n + 2
                name = f"{FAMILY[n % 10]} {MIDDLE[n % 6]} {GIVEN[n % 11]}"
                people.append(_person(row, f"CB{n + 1:03d}", name, unit, position, category))
    # One PNV clerk has left: inactive, never counted nor missing.
    people.append(_person(len(people) + 2, "CB999", "Ngô Văn Cường", "PNV", "CONG_CHUC", "CBCC", active=False))
    people.extend(extra_people or [])
    return FormResult(path=Path("danh_muc.xlsx"), kind="00", sheet="CanBo", units=units, people=people)


@pytest.fixture
def registry() -> Registry:
    return registry_from_form(registry_form(), version=1)


def codes_at(issues: list[Issue]) -> list[tuple[str, str, str]]:
    return [(i.sheet, i.cell, i.code) for i in issues]


def check_catalogue(issues: list[Issue]) -> None:
    assert all(i.code in CATALOGUE for i in issues)


# --------------------------------------------------------------------------- model


def test_the_small_registry_is_valid(settings: Settings, registry: Registry) -> None:
    assert validate_registry(registry_form(), settings) == []
    assert len(registry.units) == 5 and len(registry.people) == 44
    assert registry.version == 1


def test_lookups(registry: Registry) -> None:
    assert registry.block_of("PNV") == "CHINH_QUYEN"
    assert registry.block_of(" btc ") == "DANG"  # codes are trimmed and upper-cased
    assert registry.block_of("NOPE") is None
    assert registry.unit_kind("UBND_PBD") == "UBND_PHUONG"
    assert [u.code for u in registry.expected_units("DANG")] == ["BTC"]
    assert len(registry.expected_units()) == 5
    assert len(registry.people_of("PNV")) == 22
    assert len(registry.people_of("PNV", active_only=False)) == 23


def test_a_unit_without_people_is_not_expected(settings: Settings) -> None:
    form = registry_form()
    form.units.append(_unit(7, "KHOI_CQ", "Khối chính quyền", "CHINH_QUYEN", "UBND_Q", ""))
    reg = registry_from_form(form)
    assert "KHOI_CQ" not in [u.code for u in reg.expected_units()]
    assert "KHOI_CQ" not in completeness(reg, {})


@pytest.mark.parametrize(
    ("unit", "size"),
    [
        ("PNV", 22),  # 1 head + 2 deputies + 17 + 2 LĐHĐ; the inactive clerk does not count
        ("PTP", 6),
        ("UBND_PBD", 5),  # letter §2.2.b counts CBCCVC and LĐHĐ: the 2 KCT do not count
        ("UBND_Q", 3),
        ("NOPE", 0),
    ],
)
def test_unit_size_counts_active_cbccvc_and_ldhd(registry: Registry, unit: str, size: int) -> None:
    assert unit_size(registry, unit) == size


def test_unit_size_is_counted_again_when_people_change(registry: Registry) -> None:
    """The size of a unit is kept once counted (every form of a school asks), and counted
    again once the registry's people change."""
    before = unit_size(registry, "PTP")
    assert unit_size(registry, " ptp ") == before  # the same unit however typed
    base = next(p for p in registry.people_of("PTP") if p.category == "CBCC")
    for n in range(3):
        code = f"NEW{n}"
        registry.people[code] = replace(base, code=code, active=n != 2)
    assert unit_size(registry, "PTP") == before + 2  # the inactive one does not count


def test_missing_people_are_active_people_not_evaluated(registry: Registry) -> None:
    ptp = [p.code for p in registry.people_of("PTP")]
    missing = missing_people(registry, "PTP", set(ptp[:4]))
    assert [p.code for p in missing] == ptp[4:]
    assert missing_people(registry, "PNV", {p.code for p in registry.people_of("PNV")}) == []


def test_completeness_per_unit(registry: Registry) -> None:
    ward = [p.code for p in registry.people_of("UBND_PBD")]
    chair = next(p.code for p in registry.people_of("UBND_PBD") if p.position_code == "CT_UBND_PHUONG")
    district = [p.code for p in registry.people_of("UBND_Q")]
    period = {
        # The ward chair is decided on the district chair's list (letter §2.2.b).
        "UBND_Q": {*district, chair},
        "UBND_PBD": {c for c in ward if c != chair and c != ward[-1]},
        "BTC": set(),  # an accepted list, however small, means "submitted"
    }
    result = completeness(registry, period)
    assert list(result) == ["UBND_Q", "PNV", "PTP", "UBND_PBD", "BTC"]
    assert result["UBND_PBD"].submitted and [p.code for p in result["UBND_PBD"].missing] == [ward[-1]]
    assert result["UBND_PBD"].evaluated == 6 and result["UBND_PBD"].expected == 7
    assert not result["PNV"].submitted and len(result["PNV"].missing) == 22
    assert result["BTC"].submitted and result["BTC"].evaluated == 0
    assert result["UBND_Q"].to_dict()["missing"] == []
    assert list(completeness(registry, period, block="DANG")) == ["BTC"]


def test_person_blocks(registry: Registry) -> None:
    assert person_blocks(registry, ["CB001", "CB040", "NOPE"]) == {"CB001": "CHINH_QUYEN", "CB040": "DANG"}


def test_registry_from_form_normalises_codes_and_defaults_the_group() -> None:
    form = registry_form()
    form.units[0] = replace(form.units[0], code=" ubnd_q ", block="chinh_quyen", kind="ubnd_q")
    form.people[0] = replace(form.people[0], code="cb001", unit_code="ubnd_q", group="", full_name="  Nguyễn   Văn Hà ")
    reg = registry_from_form(form)
    assert reg.units["UBND_Q"].block == "CHINH_QUYEN" and reg.units["UBND_Q"].kind == "UBND_Q"
    person = reg.people["CB001"]
    assert person.unit_code == "UBND_Q" and person.group == "CBCC" and person.full_name == "Nguyễn Văn Hà"


# --------------------------------------------------------------------------- template 00


def test_duplicate_codes_point_at_the_second_occurrence(settings: Settings) -> None:
    form = registry_form([_person(60, "cb003", "Trần Văn Bình", "PTP", "CONG_CHUC", "CBCC")])
    form.units.append(_unit(7, "PNV", "Phòng Nội vụ (trùng)", "CHINH_QUYEN", "PHONG", ""))
    issues = validate_registry(form, settings)
    assert codes_at(issues) == [("DonVi", "A7", "registry-code-duplicate"), ("CanBo", "A60", "registry-code-duplicate")]
    assert issues[0].row == 7 and "dòng 3" in issues[0].message


def test_unknown_parent_and_cycles(settings: Settings) -> None:
    form = registry_form()
    form.units[2] = replace(form.units[2], parent_code="KHONG_CO")  # PTP
    form.units[0] = replace(form.units[0], parent_code="PNV")  # UBND_Q → PNV → UBND_Q
    form.units[4] = replace(form.units[4], parent_code="BTC")  # BTC is its own parent
    issues = validate_registry(form, settings)
    assert sorted(codes_at(issues)) == [
        ("DonVi", "E2", "registry-cycle"),
        ("DonVi", "E3", "registry-cycle"),
        ("DonVi", "E4", "registry-parent-unknown"),
        ("DonVi", "E6", "registry-cycle"),
    ]
    cycle = next(i for i in issues if i.cell == "E2")
    assert "UBND_Q → PNV → UBND_Q" in cycle.message


def test_unknown_codes_and_kind_of_another_block(settings: Settings) -> None:
    form = registry_form()
    form.units[1] = replace(form.units[1], block="KHOI_LA")
    form.units[2] = replace(form.units[2], kind="LOAI_LA")
    form.units[4] = replace(form.units[4], kind="PHONG")  # a department kind in the Party block
    form.people[0] = replace(form.people[0], position_code="GIAM_DOC")
    form.people[1] = replace(form.people[1], category="CCVC")
    form.people[2] = replace(form.people[2], unit_code="PHONG_LA")
    issues = validate_registry(form, settings)
    assert codes_at(issues) == [
        ("DonVi", "C3", "code-unknown"),
        ("DonVi", "D4", "code-unknown"),
        ("DonVi", "D6", "registry-kind-block-mismatch"),
        ("CanBo", "F2", "code-unknown"),
        ("CanBo", "G3", "code-unknown"),
        ("CanBo", "D4", "registry-unit-unknown"),
    ]
    assert [i.column for i in issues[:2]] == ["Khối", "Loại đơn vị"]
    check_catalogue(issues)


def test_issues_the_reader_already_reported_are_not_repeated(settings: Settings) -> None:
    form = registry_form()
    form.people[0] = replace(form.people[0], position_code="GIAM_DOC")
    form.issues.append(make_issue("code-unknown", sheet="CanBo", cell="F2", row=2, column="Mã chức danh", value="x"))
    assert validate_registry(form, settings) == []


def test_without_cells_the_row_still_locates_the_problem(settings: Settings) -> None:
    form = registry_form()
    form.people[5] = replace(form.people[5], unit_code="PHONG_LA", cells={})
    [issue] = validate_registry(form, settings)
    assert (issue.code, issue.sheet, issue.cell, issue.row) == ("registry-unit-unknown", "CanBo", "", 7)


@functools.cache
def shipped_settings() -> Settings:
    return load_settings(env={}, cwd=Path(__file__).parent)


@given(st.lists(st.integers(min_value=-1, max_value=7), min_size=1, max_size=8))
def test_cycle_members_are_exactly_the_units_on_a_cycle(parents: list[int]) -> None:
    """Property: registry-cycle names exactly the units from which following parents loops."""
    n = len(parents)
    units = [
        _unit(i + 2, f"U{i}", f"Đơn vị {i}", "CHINH_QUYEN", "PHONG", f"U{p}" if 0 <= p < n else "")
        for i, p in enumerate(parents)
    ]
    on_cycle = set()
    for i in range(n):
        seen, j = [], i
        while 0 <= j < n and j not in seen:
            seen.append(j)
            j = parents[j]
        if 0 <= j < n and j == i:
            on_cycle.add(f"U{i}")
    form = FormResult(path=Path("danh_muc.xlsx"), kind="00", units=units)
    issues = validate_registry(form, shipped_settings())
    assert {i.value for i in issues if i.code == "registry-cycle"} == on_cycle


# --------------------------------------------------------------------------- cross-checks


def unit_list(
    registry: Registry,
    unit: str,
    decider: str,
    people: list[str],
    *,
    block: str | None = None,
    edit: dict[str, dict[str, object]] | None = None,
) -> FormResult:
    """A template 02 list as the reader returns it, rows from registry people (edited)."""
    header = ListHeader(
        period="2022-01",
        unit_code=unit,
        unit_name=unit,
        block=block if block is not None else registry.block_of(unit) or "CHINH_QUYEN",
        decider_name="Người quyết định",
        decider_position=decider,
        decision_date=date(2022, 1, 27),
        cells=dict(HEADER_CELLS),
    )
    rows = []
    for i, code in enumerate(people):
        row = 10 + i
        p = registry.people.get(code)
        values: dict[str, object] = {
            "person_code": code,
            "full_name": p.full_name if p else "Người Lạ",
            "birth_date": p.birth_date if p else None,
            "position_code": p.position_code if p else "CONG_CHUC",
            "category": p.category if p else "CBCC",
        }
        values.update((edit or {}).get(code, {}))
        rows.append(
            EvaluationRow(
                row=row,
                group=str(values["category"]),
                cells={k: f"{c}{row}" for k, c in LIST_COLS.items()},
                **values,  # type: ignore[arg-type]
            )
        )
    return FormResult(path=Path("ds.xlsx"), kind="02", sheet="DanhSach", header=header, rows=rows)


def codes_of(registry: Registry, unit: str) -> list[str]:
    return [p.code for p in registry.people_of(unit)]


def test_a_clean_list_passes(settings: Settings, registry: Registry) -> None:
    staff = [p.code for p in registry.people_of("PTP") if p.position_code != "TRUONG_PHONG"]
    assert crosscheck(unit_list(registry, "PTP", "TRUONG_PHONG", staff), registry, settings) == []


def test_unknown_unit_and_block_mismatch(settings: Settings, registry: Registry) -> None:
    unknown = unit_list(registry, "PHONG_LA", "TRUONG_PHONG", [])
    assert codes_at(crosscheck(unknown, registry, settings)) == [("DanhSach", "C4", "registry-unit-unknown")]
    wrong_block = unit_list(registry, "PTP", "TRUONG_PHONG", [], block="DANG")
    [issue] = crosscheck(wrong_block, registry, settings)
    assert (issue.cell, issue.code) == ("C6", "registry-block-mismatch")
    assert "Khối Chính quyền" in issue.message


def test_unknown_and_inactive_people(settings: Settings, registry: Registry) -> None:
    form = unit_list(registry, "PNV", "TRUONG_PHONG", ["CB999", "CB404"])
    assert codes_at(crosscheck(form, registry, settings)) == [
        ("DanhSach", "B10", "registry-person-inactive"),
        ("DanhSach", "B11", "registry-person-unknown"),
    ]


def test_a_person_of_another_unit(settings: Settings, registry: Registry) -> None:
    clerk_of_ptp = codes_of(registry, "PTP")[-1]
    form = unit_list(registry, "PNV", "TRUONG_PHONG", [codes_of(registry, "PNV")[-1], clerk_of_ptp])
    [issue] = crosscheck(form, registry, settings)
    assert (issue.cell, issue.code) == ("B11", "registry-person-wrong-unit")
    assert "PTP" in issue.message


def test_people_decided_from_outside_their_unit(settings: Settings, registry: Registry) -> None:
    """Letter §2.2.b: the district chair decides department heads and ward chairs."""
    heads = [
        p.code
        for p in registry.people.values()
        if p.position_code in ("TRUONG_PHONG", "CT_UBND_PHUONG", "PCT_UBND_Q") and p.active
    ]
    form = unit_list(registry, "UBND_Q", "CT_UBND_Q", heads)
    assert crosscheck(form, registry, settings) == []
    # ... but not their deputies, whose own head decides them.
    deputy = next(p.code for p in registry.people_of("PNV") if p.position_code == "CAP_PHO")
    form = unit_list(registry, "UBND_Q", "CT_UBND_Q", [deputy])
    assert [i.code for i in crosscheck(form, registry, settings)] == ["registry-person-wrong-unit"]


def test_party_secretary_decides_heads_of_other_blocks(settings: Settings, registry: Registry) -> None:
    """Letter §2.2.a: the district Party secretary decides the district chair and Party board heads."""
    reg = registry_from_form(
        registry_form([_person(70, "CB900", "Đinh Tiến Dũng", "BTC", "BI_THU_QU", "CBCC")]), version=2
    )
    chair = next(p.code for p in reg.people_of("UBND_Q") if p.position_code == "CT_UBND_Q")
    board_head = next(p.code for p in reg.people_of("BTC") if p.position_code == "TRUONG_BAN_QU")
    form = unit_list(reg, "BTC", "BI_THU_QU", [chair, board_head])
    assert crosscheck(form, reg, settings) == []


@pytest.mark.parametrize(
    ("given_name", "expected", "verdict"),
    [
        ("Nguyễn Văn Hà", "Nguyễn Văn Hà", "same"),
        ("  nguyễn   VĂN hà ", "Nguyễn Văn Hà", "same"),
        ("Nguyen Van Ha", "Nguyễn Văn Hà", "typo"),
        ("Nguyễn Văn Hả", "Nguyễn Văn Hà", "typo"),
        ("Nguyễn Vn Hà", "Nguyễn Văn Hà", "typo"),
        ("Nguyễn Thị Thu Hương", "Nguyễn Thị Thu Hường", "typo"),
        ("Trần Văn Minh", "Nguyễn Văn Hà", "different"),
        ("Lê Quang Huy", "Lê Thị Lan", "different"),
    ],
)
def test_compare_names(given_name: str, expected: str, verdict: str) -> None:
    assert compare_names(given_name, expected) == verdict


def test_name_and_birth_date_checks(settings: Settings, registry: Registry) -> None:
    a, b, c, d = codes_of(registry, "PTP")[2:6]
    pa = registry.people[a]
    edit: dict[str, dict[str, object]] = {
        a: {"full_name": "Hoàng Văn Tú"},  # a different person
        b: {"full_name": registry.people[b].full_name.upper()},  # same after case folding
        c: {"birth_date": date(1999, 9, 9)},
    }
    edit[d] = {"full_name": strip_accents(registry.people[d].full_name)}
    form = unit_list(registry, "PTP", "TRUONG_PHONG", [a, b, c, d], edit=edit)
    issues = crosscheck(form, registry, settings)
    assert codes_at(issues) == [
        ("DanhSach", "C10", "registry-name-mismatch"),
        ("DanhSach", "D12", "registry-birthdate-mismatch"),
        ("DanhSach", "C13", "registry-name-typo"),
    ]
    assert [i.severity.value for i in issues] == ["error", "error", "warning"]
    assert pa.full_name in issues[0].message and "09/09/1999" in issues[1].message
    check_catalogue(issues)


def test_person_listed_twice_in_the_period(settings: Settings, registry: Registry) -> None:
    a, b = codes_of(registry, "PTP")[2:4]
    form = unit_list(registry, "PTP", "TRUONG_PHONG", [a, b])
    issues = crosscheck(form, registry, settings, listed_elsewhere={b.lower(): "Phòng Nội vụ (danh sách 01/2022)"})
    assert codes_at(issues) == [("DanhSach", "B11", "registry-person-twice")]
    assert "Phòng Nội vụ" in issues[0].message


def test_other_kinds_are_not_crosschecked(settings: Settings, registry: Registry) -> None:
    assert crosscheck(registry_form(), registry, settings) == []


def test_individual_form_is_crosschecked(settings: Settings, registry: Registry) -> None:
    form = unit_list(registry, "PTP", "TRUONG_PHONG", ["CB404"])
    form = replace(form, kind="01", sheet="Phieu")
    assert codes_at(crosscheck(form, registry, settings)) == [("Phieu", "B10", "registry-person-unknown")]


# --------------------------------------------------------------------------- the demo district


def test_demo_district_is_a_valid_registry_and_its_lists_pass_the_crosschecks(settings: Settings) -> None:
    """Issue 5 "must show": the sample registry matches the demo data (the demo's decider
    lists, derived from the authority matrix, raise no registry issue)."""
    from danhgia_batch.demo import build_district
    from danhgia_batch.demo.lists import decider_lists

    district = build_district()
    form = FormResult(path=Path("danh_muc.xlsx"), kind="00", units=district.units, people=district.people)
    assert validate_registry(form, settings) == []
    reg = registry_from_form(form, version=1)
    assert len(reg.people) == len(district.people) > 4000
    lists = decider_lists(district, settings)
    cross_unit = 0
    for lst in lists:
        rows = [
            EvaluationRow(
                row=10 + i,
                person_code=p.code,
                full_name=p.full_name,
                birth_date=p.birth_date,
                position_code=p.position_code,
                category=p.category,
                group=p.group,
            )
            for i, p in enumerate(lst.members)
        ]
        cross_unit += sum(1 for p in lst.members if p.unit_code != lst.unit.code)
        header = ListHeader(
            period="2022-01", unit_code=lst.unit.code, block=lst.unit.block, decider_position=lst.decider.position
        )
        listed = FormResult(path=Path(f"{lst.slug}.xlsx"), kind="02", sheet="DanhSach", header=header, rows=rows)
        assert crosscheck(listed, reg, settings) == [], lst.slug
    assert cross_unit > 50  # ward chairs, department heads, principals, board heads
    sizes = [unit_size(reg, u.code) for u in reg.expected_units("CHINH_QUYEN")]
    assert max(sizes) >= 20  # some department triggers the delegation rule


# --------------------------------------------------------------------------- version in force


def _people(*specs: tuple[str, str, str]) -> list[dict[str, object]]:
    return [
        {"person_code": c, "full_name": n, "unit_code": u, "position_code": "CONG_CHUC", "category": "CBCC"}
        for c, n, u in specs
    ]


_UNITS = [
    {"unit_code": "PNV", "unit_name": "Phòng Nội vụ", "block": "CHINH_QUYEN", "unit_kind": "PHONG"},
    {"unit_code": "PTP", "unit_name": "Phòng Tư pháp", "block": "CHINH_QUYEN", "unit_kind": "PHONG"},
]
_OCTOBER = _people(("PNV001", "Nguyễn Văn An", "PNV"), ("PNV009", "Phan Văn Chín", "PNV"))
# November: Chín moves to the Justice office, Mười joins Home Affairs
_NOVEMBER = _people(
    ("PNV001", "Nguyễn Văn An", "PNV"), ("PNV009", "Phan Văn Chín", "PTP"), ("PNV010", "Hà Văn Mười", "PNV")
)


def _process(settings: Settings, source: Path, rel: str) -> None:
    dest = settings.inbox / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, dest)
    outcomes = [f.outcome for f in process_inbox(settings).files]
    assert outcomes == ["accepted"], outcomes


def _missing(settings: Settings) -> list[str]:
    with open_ledger(settings) as led:
        missing = led.unit_view("2022-01", "PNV").missing_people
        assert missing is not None
        return [p.code for p in missing]


@pytest.mark.parametrize("block", [None, "CHINH_QUYEN"])
def test_a_published_period_keeps_the_registry_it_was_published_with(
    settings: Settings, fill_template: Any, block: str | None
) -> None:
    _process(settings, fill_template("00", units=_UNITS, people=_OCTOBER), "danh_muc_10.xlsx")
    _process(settings, fill_template("02", [valid_row(birth_date=None)]), "PNV/ds.xlsx")
    publish_period(settings, "2022-01", block, by="Ban Tổ chức")
    _process(settings, fill_template("00", units=_UNITS, people=_NOVEMBER), "danh_muc_11.xlsx")
    # the published month still sees October's registry: Chín is missing, Mười is not expected
    assert _missing(settings) == ["PNV009"]
    (paths,) = [[p for p in regenerate_reports(settings, "2022-01") if p.name.startswith("danh_sach_tong_hop_pnv")]]
    wb = openpyxl.load_workbook(paths[0], read_only=True)
    text = " ".join(str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v)
    wb.close()
    assert "Phan Văn Chín (PNV009)" in text and "PNV010" not in text
    status = period_status(settings, "2022-01")
    assert {u.unit_code: u.missing_people for b in status.blocks for u in b.units}["PNV"] == 1
    # reopened to be corrected, the month follows the current registry until published again
    reopen_period(settings, "2022-01", block, by="Ban Tổ chức", reason="sửa danh mục")
    assert _missing(settings) == ["PNV010"]
    publish_period(settings, "2022-01", block, by="Ban Tổ chức")
    assert _missing(settings) == ["PNV010"]


def test_an_open_period_follows_the_current_registry(settings: Settings, fill_template: Any) -> None:
    _process(settings, fill_template("00", units=_UNITS, people=_OCTOBER), "danh_muc_10.xlsx")
    _process(settings, fill_template("02", [valid_row(birth_date=None)]), "PNV/ds.xlsx")
    assert _missing(settings) == ["PNV009"]
    _process(settings, fill_template("00", units=_UNITS, people=_NOVEMBER), "danh_muc_11.xlsx")
    assert _missing(settings) == ["PNV010"]


def test_a_period_published_before_any_registry_gets_the_first_one(settings: Settings, fill_template: Any) -> None:
    _process(settings, fill_template("02", [valid_row(birth_date=None)]), "PNV/ds.xlsx")
    publish_period(settings, "2022-01", by="Ban Tổ chức")
    with open_ledger(settings) as led:
        assert led.registry_for("2022-01") is None
    _process(settings, fill_template("00", units=_UNITS, people=_OCTOBER), "danh_muc_10.xlsx")
    _process(settings, fill_template("00", units=_UNITS, people=_NOVEMBER), "danh_muc_11.xlsx")
    assert _missing(settings) == ["PNV009"]


def _version(led: Any, people: int) -> int:
    units = [Unit(code="PNV", name="Phòng Nội vụ", block="CHINH_QUYEN", kind="PHONG")]
    staff = [Person(f"PNV{n:03d}", f"Người {n}", "PNV", "CONG_CHUC", "CBCC", "CBCC") for n in range(people)]
    return int(led.save_registry(units, staff, source=f"v{people}"))


def test_registry_version_in_force_follows_locks_of_the_period(any_ledger: Any) -> None:
    led = any_ledger
    assert led.registry_for("2022-01") is None
    first = _version(led, 1)
    led.set_lock("2022-01", "DANG", locked=True, by="t")  # one block published: the period is settled
    second = _version(led, 2)
    led.set_lock("2022-01", None, locked=True, by="t")  # the whole period later: the earliest lock counts
    assert led.registry_for("2022-01").version == first
    assert led.registry_for("2022-02").version == second  # an open period: the current registry
    assert len(led.unit_view("2022-01", "PNV").missing_people) == 1
    led.set_lock("2022-01", None, locked=False, by="t", reason="sửa")  # reopens every block
    assert led.registry_for("2022-01").version == second
    led.set_lock("2022-01", "CHINH_QUYEN", locked=True, by="t")
    third = _version(led, 3)
    assert led.registry_for("2022-01").version == second
    assert led.registry_for("2022-12").version == third


# ---- levels, letterheads and history (issue 16, SPEC §3) ---------------------------------


def test_levels_letterheads_and_validity_read_back_through_the_ledger(settings: Settings, tmp_path: Path) -> None:
    """Template 00's new DonVi columns reach the ledger; a period sees the structure in force."""
    from danhgia_batch.pipeline.registry import load_registry_file
    from danhgia_batch.sample.district import District
    from danhgia_batch.sample.registry import write_sample_registry

    units = [
        Unit("Q", "Quận Long Biên", "CHINH_QUYEN", "DIA_BAN", "", level="QUAN", valid_to=date(2025, 7, 1)),
        Unit("PNV", "Phòng Nội vụ", "CHINH_QUYEN", "PHONG", "Q", valid_to=date(2025, 7, 1)),
        Unit(
            "P",
            "Phường Long Biên",
            "CHINH_QUYEN",
            "DIA_BAN",
            "",
            level="PHUONG",
            place="Long Biên",
            header_form="state",
            signer_authority="TM. ỦY BAN NHÂN DÂN",
            signer_title="CHỦ TỊCH",
            signer_name="Nguyễn Văn A",
            valid_from=date(2025, 7, 1),
        ),
        Unit(
            "VP",
            "Văn phòng HĐND và UBND",
            "CHINH_QUYEN",
            "PHONG_PHUONG",
            "P",
            administers="CHINH_QUYEN",
            valid_from=date(2025, 7, 1),
        ),
    ]
    people = [
        Person("A1", "Trần Văn Bình", "PNV", "CONG_CHUC", "CBCC", "CBCC"),
        Person("B1", "Lê Thị Hoa", "VP", "CONG_CHUC", "CBCC", "CBCC"),
    ]
    path = write_sample_registry(settings, tmp_path / "danh_muc.xlsx", district=District(1, units, people))
    loaded = load_registry_file(path, settings)
    assert [i.code for i in loaded.issues if i.severity.value == "error"] == []
    with open_ledger(settings) as led:
        old, new = led.registry_for("2022-01"), led.registry_for("2026-12")
    assert old is not None and new is not None
    assert set(old.units) == {"Q", "PNV"} and set(old.people) == {"A1"}
    assert set(new.units) == {"P", "VP"} and set(new.people) == {"B1"}
    area = new.units["P"]
    assert (area.level, area.header_form, area.signer_authority, area.signer_name, area.place) == (
        "PHUONG", "state", "TM. ỦY BAN NHÂN DÂN", "Nguyễn Văn A", "Long Biên",
    )  # fmt: skip
    assert [u.code for u in new.chain("VP")] == ["VP", "P"] and new.administrator_of("VP") == new.units["VP"]


def test_unknown_level_form_and_validity_order(settings: Settings) -> None:
    bad = replace(
        _unit(5, "X", "Phường X", "CHINH_QUYEN", "DIA_BAN", ""),
        level="TINH_THANH", header_form="khác", valid_from=date(2025, 7, 1), valid_to=date(2025, 1, 1),
        cells={"level": "F5", "header_form": "I5", "valid_to": "O5"},
    )  # fmt: skip
    form = FormResult(Path("danh_muc.xlsx"), kind="00", units=[bad])
    issues = validate_registry(form, settings)
    assert codes_at(issues) == [
        ("DonVi", "F5", "code-unknown"),
        ("DonVi", "I5", "code-unknown"),
        ("DonVi", "O5", "registry-validity-order"),
    ]
    check_catalogue(issues)


def test_a_year_spanning_the_reorganisation_shows_each_person_once(
    settings: Settings, tmp_path: Path, fill_template: Any
) -> None:
    """SPEC §3: PNV ends on 01/07/2025, its successor VP begins that day; a person listed in both
    is decided in PNV in June and in VP in July, and the 2025 year view has one row for them."""
    from danhgia_batch.pipeline.registry import load_registry_file
    from danhgia_batch.reports import write_year_view
    from danhgia_batch.sample.district import District
    from danhgia_batch.sample.registry import write_sample_registry

    end = date(2025, 7, 1)
    units = [
        Unit("PNV", "Phòng Nội vụ", "CHINH_QUYEN", "PHONG", "", valid_to=end),
        Unit("P", "Phường Long Biên", "CHINH_QUYEN", "DIA_BAN", "", level="PHUONG", valid_from=end),
        Unit("VP", "Văn phòng HĐND và UBND", "CHINH_QUYEN", "PHONG_PHUONG", "P", valid_from=end),
    ]
    people = [
        Person("PNV000", "Trần Văn Hùng", "PNV", "TRUONG_PHONG", "CBCC", "CBCC"),
        Person("PNV001", "Nguyễn Văn An", "PNV", "CONG_CHUC", "CBCC", "CBCC"),
        Person("VP000", "Trần Văn Hùng", "VP", "TRUONG_PHONG_PHUONG", "CBCC", "CBCC"),
        Person("PNV001", "Nguyễn Văn An", "VP", "CONG_CHUC", "CBCC", "CBCC"),  # moved with the unit
    ]
    path = write_sample_registry(settings, tmp_path / "danh_muc.xlsx", district=District(1, units, people))
    loaded = load_registry_file(path, settings)
    assert [(i.code, i.cell) for i in loaded.issues if i.severity.value == "error"] == []
    with open_ledger(settings) as led:
        june, july = led.registry_for("2025-06"), led.registry_for("2025-07")
    assert june is not None and july is not None
    assert june.person("PNV001").unit_code == "PNV" and july.person("PNV001").unit_code == "VP"
    lists = [
        ("06/2025", "PNV", "Phòng Nội vụ", "TRUONG_PHONG", date(2025, 6, 20), 80),
        ("07/2025", "VP", "Văn phòng HĐND và UBND", "TRUONG_PHONG_PHUONG", date(2025, 7, 20), 92),
    ]
    for period, unit, name, decider, day, score in lists:
        source = fill_template(
            "02", [valid_row(score=score, self_date=day)], period=period, unit_code=unit, unit_name=name,
            decider_position=decider, decision_date=day, prepared_date=day,
        )  # fmt: skip
        dest = settings.inbox / unit / f"{unit}_{period[:2]}.xlsx"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, dest)
    outcomes = {Path(f.path).name: (f.outcome, [i.code for i in f.issues if i.severity.value == "error"])
                for f in process_inbox(settings).files}  # fmt: skip
    assert all(o == "accepted" for o, _ in outcomes.values()), outcomes
    with open_ledger(settings) as led:
        rows = [r for r in led.year_rows(2025) if r.person_code == "PNV001"]
    (row,) = rows
    assert (row.unit_code, row.grades) == ("VP", {6: "B", 7: "A"})
    assert row.units[6][0] == "PNV" and row.units[7][0] == "VP"
    ws = openpyxl.load_workbook(write_year_view(2025, rows, settings))["Nam"]
    cells = [str(c.value) for r in ws.iter_rows() for c in r if c.value]
    assert sum(1 for c in cells if c == "Nguyễn Văn An") == 1
    assert any("T06: Phòng Nội vụ" in c for c in cells)
