"""Authority matrix (letter §2.2, SPEC §7): every rule row, delegation at 20 people, evaluators."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from danhgia_batch.domain import load_authority
from danhgia_batch.models import EvaluationRow, ListHeader
from danhgia_batch.rules import check_authority
from danhgia_batch.rules.common import Where
from danhgia_batch.settings import Settings


def make_row(n: int, position: str, evaluator: str = "") -> EvaluationRow:
    r = 10 + n
    return EvaluationRow(
        row=r,
        person_code=f"CB{n:03d}",
        full_name=f"Người {n}",
        position_code=position,
        category="CBCC",
        group="CBCC",
        evaluator_position=evaluator,
        cells={"position_code": f"F{r}", "evaluator_position": f"W{r}"},
    )


def header(block: str, decider: str) -> ListHeader:
    return ListHeader(period="2022-01", block=block, decider_position=decider, cells={"decider_position": "C6"})


def check(block: str, decider: str, rows: list[EvaluationRow], **kw: object) -> list[tuple[str, str]]:
    issues = check_authority(header(block, decider), rows, kw.pop("settings"), **kw)  # type: ignore[arg-type]
    return [(i.code, i.cell) for i in issues]


# (position, block, unit kind or None, expected deciders) — every row of SPEC §7 / authority.toml
MATRIX = [
    # a) Party and mass organisations
    ("BI_THU_QU", "DANG", None, {"PBT_TT_THANH_UY"}),
    ("THUONG_TRUC_QU", "DANG", "QUAN_UY", {"BI_THU_QU"}),
    ("CT_HDND_Q", "DANG", None, {"BI_THU_QU"}),
    ("CT_UBND_Q", "CHINH_QUYEN", "UBND_Q", {"BI_THU_QU"}),
    ("TRUONG_BAN_QU", "DANG", "BAN_DANG", {"BI_THU_QU"}),
    ("TRUONG_BAN_QU", "DANG", "DOAN_THE", {"BI_THU_QU"}),
    ("BI_THU_DUK_DN", "DANG", "DANG_UY_KHOI", {"BI_THU_QU"}),
    ("BI_THU_DU_PHUONG", "DANG", "DANG_UY_PHUONG", {"BI_THU_QU"}),
    ("CAP_PHO", "DANG", "BAN_DANG", {"TRUONG_BAN_QU"}),
    ("CONG_CHUC", "DANG", "DOAN_THE", {"TRUONG_BAN_QU"}),
    ("VIEN_CHUC", "DANG", "QUAN_UY", {"TRUONG_BAN_QU"}),
    ("LDHD", "DANG", "BAN_DANG", {"TRUONG_BAN_QU"}),
    ("CAP_PHO", "DANG", "DANG_UY_KHOI", {"BI_THU_DUK_DN"}),
    ("CONG_CHUC", "DANG", "DANG_UY_KHOI", {"BI_THU_DUK_DN"}),
    ("VIEN_CHUC", "DANG", "DANG_UY_KHOI", {"BI_THU_DUK_DN"}),
    ("LDHD", "DANG", "DANG_UY_KHOI", {"BI_THU_DUK_DN"}),
    ("PBT_TT_DU_PHUONG", "DANG", "DANG_UY_PHUONG", {"BI_THU_DU_PHUONG"}),
    ("TRUONG_DOAN_THE_PHUONG", "DANG", "DANG_UY_PHUONG", {"BI_THU_DU_PHUONG"}),
    ("LDHD", "DANG", "DANG_UY_PHUONG", {"BI_THU_DU_PHUONG"}),
    ("KCT", "DANG", "DANG_UY_PHUONG", {"BI_THU_DU_PHUONG"}),
    # without a registry (unit kind unknown) the block's rules are united
    ("CONG_CHUC", "DANG", None, {"TRUONG_BAN_QU", "BI_THU_DUK_DN"}),
    ("LDHD", "DANG", None, {"TRUONG_BAN_QU", "BI_THU_DUK_DN", "BI_THU_DU_PHUONG"}),
    ("KCT", "DANG", None, {"BI_THU_DU_PHUONG"}),
    # b) Government
    ("PCT_HDND_Q", "CHINH_QUYEN", "HDND_Q", {"CT_HDND_Q", "BI_THU_QU"}),
    ("TRUONG_BAN_HDND", "CHINH_QUYEN", "HDND_Q", {"CT_HDND_Q", "BI_THU_QU"}),
    ("PHO_BAN_HDND", "CHINH_QUYEN", None, {"CT_HDND_Q", "BI_THU_QU"}),
    ("PCT_UBND_Q", "CHINH_QUYEN", "UBND_Q", {"CT_UBND_Q"}),
    ("TRUONG_PHONG", "CHINH_QUYEN", "PHONG", {"CT_UBND_Q"}),
    ("TRUONG_PHONG", "CHINH_QUYEN", "DVSN", {"CT_UBND_Q"}),
    ("TRUONG_PHONG_GDDT", "CHINH_QUYEN", "PHONG", {"CT_UBND_Q"}),
    ("CT_UBND_PHUONG", "CHINH_QUYEN", "UBND_PHUONG", {"CT_UBND_Q"}),
    ("CAP_PHO", "CHINH_QUYEN", "PHONG", {"TRUONG_PHONG", "TRUONG_PHONG_GDDT"}),
    ("CONG_CHUC", "CHINH_QUYEN", "PHONG", {"TRUONG_PHONG", "TRUONG_PHONG_GDDT"}),
    ("VIEN_CHUC", "CHINH_QUYEN", "DVSN", {"TRUONG_PHONG", "TRUONG_PHONG_GDDT"}),
    ("LDHD", "CHINH_QUYEN", "HDND_Q", {"TRUONG_PHONG", "TRUONG_PHONG_GDDT"}),
    ("CONG_CHUC", "CHINH_QUYEN", "UBND_Q", {"TRUONG_PHONG", "TRUONG_PHONG_GDDT"}),
    ("PCT_UBND_PHUONG", "CHINH_QUYEN", "UBND_PHUONG", {"CT_UBND_PHUONG"}),
    ("CONG_CHUC", "CHINH_QUYEN", "UBND_PHUONG", {"CT_UBND_PHUONG"}),
    ("LDHD", "CHINH_QUYEN", "UBND_PHUONG", {"CT_UBND_PHUONG"}),
    ("KCT", "CHINH_QUYEN", "UBND_PHUONG", {"CT_UBND_PHUONG"}),
    ("CONG_CHUC", "CHINH_QUYEN", None, {"TRUONG_PHONG", "TRUONG_PHONG_GDDT", "CT_UBND_PHUONG"}),
    # c) Schools
    ("HIEU_TRUONG", "TRUONG_HOC", "TRUONG", {"TRUONG_PHONG_GDDT"}),
    ("HIEU_TRUONG", "CHINH_QUYEN", "PHONG", {"TRUONG_PHONG_GDDT"}),  # listed by the Education Office
    ("PHO_HIEU_TRUONG", "TRUONG_HOC", "TRUONG", {"HIEU_TRUONG"}),
    ("GIAO_VIEN", "TRUONG_HOC", "TRUONG", {"HIEU_TRUONG"}),
    ("VIEN_CHUC", "TRUONG_HOC", None, {"HIEU_TRUONG"}),
    ("LDHD", "TRUONG_HOC", "TRUONG", {"HIEU_TRUONG"}),
]


# A ward after 01/07/2025 (SPEC Appendix B; the product's reading, marked in authority.toml),
# and 3251-QĐ/TU's amendment of 08/2022: (period, position, block, kind, expected deciders).
LATER = [
    ("2022-08", "BI_THU_QU", "DANG", "QUAN_UY", {"BI_THU_THANH_UY"}),
    ("2026-12", "BI_THU_DU_PHUONG", "DANG", "DANG_UY_PHUONG", {"BI_THU_THANH_UY"}),
    ("2026-12", "PBT_TT_DU_PHUONG", "DANG", "DANG_UY_PHUONG", {"BI_THU_DU_PHUONG"}),
    ("2026-12", "CT_HDND_PHUONG", "CHINH_QUYEN", "HDND_PHUONG", {"BI_THU_DU_PHUONG"}),
    ("2026-12", "CT_UBND_PHUONG", "CHINH_QUYEN", "UBND_PHUONG", {"BI_THU_DU_PHUONG"}),
    ("2026-12", "TRUONG_BAN_DU_PHUONG", "DANG", "BAN_DANG_PHUONG", {"BI_THU_DU_PHUONG"}),
    ("2026-12", "TRUONG_DOAN_THE_PHUONG", "DANG", "DOAN_THE_PHUONG", {"BI_THU_DU_PHUONG"}),
    ("2026-12", "CAP_PHO", "DANG", "BAN_DANG_PHUONG", {"TRUONG_BAN_DU_PHUONG"}),
    ("2026-12", "CONG_CHUC", "DANG", "DOAN_THE_PHUONG", {"TRUONG_DOAN_THE_PHUONG"}),
    ("2026-12", "KCT", "DANG", "DANG_UY_PHUONG", {"BI_THU_DU_PHUONG"}),
    ("2026-12", "PCT_HDND_PHUONG", "CHINH_QUYEN", "HDND_PHUONG", {"CT_HDND_PHUONG", "BI_THU_DU_PHUONG"}),
    ("2026-12", "PCT_UBND_PHUONG", "CHINH_QUYEN", "UBND_PHUONG", {"CT_UBND_PHUONG"}),
    ("2026-12", "TRUONG_PHONG_PHUONG", "CHINH_QUYEN", "PHONG_PHUONG", {"CT_UBND_PHUONG"}),
    ("2026-12", "HIEU_TRUONG", "TRUONG_HOC", "TRUONG", {"CT_UBND_PHUONG"}),
    ("2026-12", "VIEN_CHUC", "CHINH_QUYEN", "DVSN_PHUONG", {"TRUONG_PHONG_PHUONG"}),
    ("2026-12", "GIAO_VIEN", "TRUONG_HOC", "TRUONG", {"HIEU_TRUONG"}),
]
ALL_PERIODS = [("2022-01", *m) for m in MATRIX] + LATER


def test_table_covers_every_rule_and_position(settings: Settings) -> None:
    covered = set()
    for period, position, block, kind, _ in ALL_PERIODS:
        covered |= {r.id for r in settings.authority.rules_for(position, block, kind, period)}
    assert covered == {r.id for r in settings.authority.rules}
    pairs = {
        (p, r.id) for r in settings.authority.rules for p in r.positions if r.valid_to is None or r.valid_from is None
    }
    assert pairs - {
        (p, r.id) for t, p, b, k, _ in ALL_PERIODS for r in settings.authority.rules_for(p, b, k, t) if p in r.positions
    } <= {(p, r.id) for r in settings.authority.rules if r.reading for p in r.positions}


@pytest.mark.parametrize(("period", "position", "block", "kind", "deciders"), LATER)
def test_later_matrices(settings: Settings, period: str, position: str, block: str, kind: str, deciders: set) -> None:
    rules = settings.authority.rules_for(position, block, kind, period)
    assert {d for r in rules for d in r.deciders} == deciders
    head = ListHeader(period=period, block=block, decider_position=sorted(deciders)[0], cells={})
    assert check_authority(head, [make_row(1, position)], settings, unit_kind=kind) == []


def test_district_secretary_by_period(settings: Settings) -> None:
    """3251-QĐ/TU (08/2022): the City Party Secretary, no longer the Standing Deputy Secretary."""
    row = [make_row(1, "BI_THU_QU")]
    for period, ok, wrong in (
        ("2022-07", "PBT_TT_THANH_UY", "BI_THU_THANH_UY"),
        ("2022-08", "BI_THU_THANH_UY", "PBT_TT_THANH_UY"),
    ):
        assert check_authority(ListHeader(period=period, block="DANG", decider_position=ok), row, settings) == []
        issues = check_authority(ListHeader(period=period, block="DANG", decider_position=wrong), row, settings)
        assert [(i.code, i.cell) for i in issues] == [("authority-decider", "F11")]


@pytest.mark.parametrize(("position", "block", "kind", "deciders"), MATRIX)
def test_expected_decider(settings: Settings, position: str, block: str, kind: str | None, deciders: set) -> None:
    for decider in deciders:
        assert [
            c
            for c in check(block, decider, [make_row(1, position)], settings=settings, unit_kind=kind)
            if c[0] == "authority-decider"
        ] == []
    wrong = next(p for p in ("HIEU_TRUONG", "CT_UBND_Q", "BI_THU_QU") if p not in deciders)
    issues = check_authority(header(block, wrong), [make_row(1, position)], settings, unit_kind=kind)
    assert [(i.code, i.cell, i.row) for i in issues] == [("authority-decider", "F11", 11)]
    for expected in deciders:  # the expected position is named in Vietnamese
        assert settings.codes.label("positions", expected) in issues[0].message
    assert settings.codes.label("positions", wrong) in issues[0].message
    assert "Người 1" in issues[0].message


def test_unknown_position(settings: Settings) -> None:
    rows = [make_row(1, "PBT_TT_THANH_UY"), make_row(2, "KHONG_CO"), make_row(3, "")]
    assert check("DANG", "BI_THU_QU", rows, settings=settings) == [
        ("authority-unknown-position", "F11"),
        ("authority-unknown-position", "F12"),
    ]


def test_missing_decider_is_the_readers_issue(settings: Settings) -> None:
    assert check("CHINH_QUYEN", "", [make_row(1, "CONG_CHUC")], settings=settings, unit_kind="PHONG") == []


def test_person_block_from_registry_wins(settings: Settings) -> None:
    # a ward Party list deciding an LĐHĐ whom the registry places in the Government block
    rows = [make_row(1, "LDHD")]
    assert check("DANG", "BI_THU_DU_PHUONG", rows, settings=settings) == []
    got = check("DANG", "BI_THU_DU_PHUONG", rows, settings=settings, person_blocks={"CB001": "CHINH_QUYEN"})
    assert got == [("authority-decider", "F11")]
    assert check("DANG", "BI_THU_DU_PHUONG", rows, settings=settings, person_blocks={"CB999": "CHINH_QUYEN"}) == []


# ---- delegation (letter §2.2.b, ý 3) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "evaluator", "expected"),
    [
        (19, "", []),
        (20, "", [("authority-evaluator-required", "W11")]),
        (21, "", [("authority-evaluator-required", "W11")]),
        (20, "CAP_PHO", []),
        (19, "CAP_PHO", []),
        (20, "PCT_UBND_Q", [("authority-evaluator", "W11")]),
        (19, "HIEU_TRUONG", [("authority-evaluator", "W11")]),
    ],
)
def test_delegation_boundary(settings: Settings, size: int, evaluator: str, expected: list) -> None:
    rows = [make_row(1, "CONG_CHUC", evaluator)]
    assert check("CHINH_QUYEN", "TRUONG_PHONG", rows, settings=settings, unit_kind="PHONG", unit_size=size) == expected


def test_delegation_message_names_the_deputy(settings: Settings) -> None:
    issues = check_authority(
        header("CHINH_QUYEN", "TRUONG_PHONG"), [make_row(1, "VIEN_CHUC")], settings, unit_kind="DVSN", unit_size=25
    )
    assert settings.codes.label("positions", "CAP_PHO") in issues[0].message and "25" in issues[0].message


def test_deputies_are_exempt_from_delegation(settings: Settings) -> None:
    rows = [make_row(1, "CAP_PHO")]
    assert check("CHINH_QUYEN", "TRUONG_PHONG", rows, settings=settings, unit_kind="PHONG", unit_size=30) == []


def test_unit_size_defaults_to_the_list_size(settings: Settings) -> None:
    nineteen = [make_row(i, "CONG_CHUC") for i in range(1, 20)]
    assert check("CHINH_QUYEN", "TRUONG_PHONG", nineteen, settings=settings, unit_kind="PHONG") == []
    twenty = [*nineteen, make_row(20, "CAP_PHO")]
    got = check("CHINH_QUYEN", "TRUONG_PHONG", twenty, settings=settings, unit_kind="PHONG")
    assert len(got) == 19 and {c for c, _ in got} == {"authority-evaluator-required"}
    # the registry count wins over the list size
    assert check("CHINH_QUYEN", "TRUONG_PHONG", twenty, settings=settings, unit_kind="PHONG", unit_size=19) == []


def test_ward_list_does_not_inherit_department_delegation(settings: Settings) -> None:
    # unit kind unknown: CQ-3 (departments) and CQ-4 (wards) both cover CONG_CHUC, but the ward
    # chair decides this list, so the department's delegation does not apply
    rows = [make_row(i, "CONG_CHUC") for i in range(1, 41)]
    assert check("CHINH_QUYEN", "CT_UBND_PHUONG", rows, settings=settings) == []


def test_school_evaluators(settings: Settings) -> None:
    rows = [
        make_row(1, "GIAO_VIEN", "PHO_HIEU_TRUONG"),
        make_row(2, "GIAO_VIEN", "HIEU_TRUONG"),
        make_row(3, "LDHD", ""),
        make_row(4, "GIAO_VIEN", "CAP_PHO"),
    ]
    assert check("TRUONG_HOC", "HIEU_TRUONG", rows, settings=settings, unit_kind="TRUONG", unit_size=60) == [
        ("authority-evaluator", "W14")
    ]


def test_district_chair_evaluator_is_a_vice_chair(settings: Settings) -> None:
    rows = [make_row(1, "TRUONG_PHONG", "PCT_UBND_Q"), make_row(2, "TRUONG_PHONG", "CAP_PHO")]
    assert check("CHINH_QUYEN", "CT_UBND_Q", rows, settings=settings) == [("authority-evaluator", "W12")]


def test_matrix_is_data(settings: Settings, tmp_path: Path) -> None:
    # an amendment (the City Party Secretary deciding in person) is a change of the file only
    assert settings.authority.source is not None
    text = settings.authority.source.read_text(encoding="utf-8")
    amended = text.replace('deciders = ["PBT_TT_THANH_UY"]', 'deciders = ["BI_THU_QU"]', 1)
    path = tmp_path / "authority.toml"
    path.write_text(amended, encoding="utf-8")
    s = dataclasses.replace(settings, authority=load_authority(path, settings.codes))
    assert check("DANG", "PBT_TT_THANH_UY", [make_row(1, "BI_THU_QU")], settings=s) == [("authority-decider", "F11")]


def test_where_locates_issues(settings: Settings) -> None:
    where = Where(file="ds.xlsx", sheet="DanhSach")
    (issue,) = check_authority(header("TRUONG_HOC", "TRUONG_PHONG"), [make_row(1, "GIAO_VIEN")], settings, where=where)
    assert (issue.file, issue.sheet, issue.column) == ("ds.xlsx", "DanhSach", "Mã chức danh")
