"""Shipped domain data (frameworks, authority matrix, code lists) and their validation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from danhgia_batch.domain import (
    DATA_DIR,
    index_frameworks,
    load_authority,
    load_codes,
    load_framework,
)
from danhgia_batch.errors import ConfigError
from danhgia_batch.settings import load_settings

CODES = load_codes(DATA_DIR / "codes.toml")
AUTHORITY = load_authority(DATA_DIR / "authority.toml", CODES)


def test_shipped_data_loads(tmp_path: Path) -> None:
    settings = load_settings(cwd=tmp_path, env={})
    assert {fw.id for fw in settings.frameworks.values()} == {"HN-THANG", "HN-THANG-LD"}
    assert settings.default_framework.id == "HN-THANG"
    assert CODES.codes("blocks") == ["DANG", "CHINH_QUYEN", "TRUONG_HOC"]
    assert CODES.codes("categories") == ["CBCC", "VC", "KCT", "LDHD"]
    assert set(CODES.codes("grades")) == {"A", "B", "C", "D", "KXL"}
    assert CODES.label("grades", "A") == "Hoàn thành xuất sắc nhiệm vụ"
    # every position code the authority matrix uses is in the code list (checked by the loader)
    used = {p for r in AUTHORITY.rules for p in (*r.positions, *r.deciders)}
    assert used <= set(CODES.codes("positions"))


@pytest.mark.parametrize("name", ["framework_default.toml", "framework_lanh_dao.toml"])
def test_shipped_frameworks_total_100(name: str) -> None:
    fw = load_framework(DATA_DIR / name)
    assert fw.max_total == 100
    for part in fw.parts:
        assert sum(c.max for c in part.criteria) == part.max
    assert [p.max for p in fw.parts] == [20, 70, 10]  # SPEC §5: 20 / 70 / 10
    assert fw.applies_to("2022-01") and not fw.applies_to("2021-12")


def _framework(tmp_path: Path, parts: str, header: str = 'id = "X"\nversion = "1"\nname = "Thử"\n') -> Path:
    path = tmp_path / "khung.toml"
    path.write_text(header + parts, encoding="utf-8")
    return path


GOOD_PARTS = """
[[part]]
code = "I"
name = "Phần một"
max = 40
[[part.criterion]]
code = "I.1"
name = "Một"
max = 40
[[part]]
code = "II"
name = "Phần hai"
max = 60
"""


def test_custom_framework_with_deduction_loads(tmp_path: Path) -> None:
    parts = GOOD_PARTS + '[[part]]\ncode = "III"\nname = "Trừ"\nmax = 0\nmin = -10\n'
    fw = load_framework(_framework(tmp_path, parts))
    assert fw.part("III").min == Decimal(-10) and fw.max_total == 100


@pytest.mark.parametrize(
    ("parts", "header", "fragment"),
    [
        (GOOD_PARTS.replace("max = 60", "max = 50"), None, "100"),  # parts do not sum to 100
        (GOOD_PARTS.replace("max = 40\n[[part]]", "max = 30\n[[part]]"), None, "part[0]"),  # criteria ≠ part
        (GOOD_PARTS.replace('code = "II"', 'code = "I.1"'), None, "bị trùng"),  # duplicate code
        (GOOD_PARTS.replace('code = "II"', 'code = "I"'), None, "bị trùng"),
        (GOOD_PARTS.replace("max = 60", 'max = "sáu mươi"'), None, "part[1].max"),
        (GOOD_PARTS + '[[part]]\ncode = "T"\nname = "T"\nmax = -1\nmin = 0\n', None, "part[2].min"),
        ("", None, "part"),
        (GOOD_PARTS, 'id = "X"\nname = "Thử"\n', "version"),
        (GOOD_PARTS, 'id = "X"\nversion = "1"\nname = "T"\nvalid_from = "01/2022"\n', "valid_from"),
    ],
)
def test_bad_framework_is_config_error(tmp_path: Path, parts: str, header: str | None, fragment: str) -> None:
    path = _framework(tmp_path, parts, header) if header else _framework(tmp_path, parts)
    with pytest.raises(ConfigError) as err:
        load_framework(path)
    assert fragment in str(err.value) and str(path) in str(err.value)


def test_duplicate_framework_version_is_config_error(tmp_path: Path) -> None:
    fw = load_framework(_framework(tmp_path, GOOD_PARTS))
    with pytest.raises(ConfigError, match="hai lần"):
        index_frameworks([fw, fw])


def test_bad_framework_in_settings_names_the_file(tmp_path: Path) -> None:
    _framework(tmp_path, GOOD_PARTS.replace("max = 60", "max = 50"))
    (tmp_path / "danhgia.toml").write_text('[domain]\nframeworks = ["khung.toml"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"khung\.toml"):
        load_settings(cwd=tmp_path, env={})


def test_bad_codes_and_authority_are_config_errors(tmp_path: Path) -> None:
    text = (DATA_DIR / "codes.toml").read_text(encoding="utf-8").replace('code = "KXL"', 'code = "E"')
    (tmp_path / "codes.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="KXL"):
        load_codes(tmp_path / "codes.toml")
    text = (DATA_DIR / "authority.toml").read_text(encoding="utf-8").replace('"HIEU_TRUONG"]', '"HIEU_TRUONGX"]', 1)
    (tmp_path / "authority.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="HIEU_TRUONGX"):
        load_authority(tmp_path / "authority.toml", CODES)


# letter §2.2: (position, block, unit kind) → allowed deciders
@pytest.mark.parametrize(
    ("position", "block", "kind", "deciders"),
    [
        ("BI_THU_QU", "DANG", "QUAN_UY", {"PBT_TT_THANH_UY"}),
        ("THUONG_TRUC_QU", "DANG", "QUAN_UY", {"BI_THU_QU"}),
        ("CT_UBND_Q", "CHINH_QUYEN", "UBND_Q", {"BI_THU_QU"}),
        ("BI_THU_DU_PHUONG", "DANG", "DANG_UY_PHUONG", {"BI_THU_QU"}),
        ("CONG_CHUC", "DANG", "BAN_DANG", {"TRUONG_BAN_QU"}),
        ("CAP_PHO", "DANG", "DANG_UY_KHOI", {"BI_THU_DUK_DN"}),
        ("KCT", "DANG", "DANG_UY_PHUONG", {"BI_THU_DU_PHUONG"}),
        ("PCT_HDND_Q", "CHINH_QUYEN", "HDND_Q", {"CT_HDND_Q", "BI_THU_QU"}),
        ("TRUONG_PHONG", "CHINH_QUYEN", "PHONG", {"CT_UBND_Q"}),
        ("CT_UBND_PHUONG", "CHINH_QUYEN", "UBND_PHUONG", {"CT_UBND_Q"}),
        ("CONG_CHUC", "CHINH_QUYEN", "PHONG", {"TRUONG_PHONG", "TRUONG_PHONG_GDDT"}),
        ("KCT", "CHINH_QUYEN", "UBND_PHUONG", {"CT_UBND_PHUONG"}),
        ("HIEU_TRUONG", "TRUONG_HOC", "TRUONG", {"TRUONG_PHONG_GDDT"}),
        ("PHO_HIEU_TRUONG", "TRUONG_HOC", "TRUONG", {"HIEU_TRUONG"}),
        ("GIAO_VIEN", "TRUONG_HOC", "TRUONG", {"HIEU_TRUONG"}),
        # unit kind unknown: the union of the block's rules
        ("CONG_CHUC", "CHINH_QUYEN", None, {"TRUONG_PHONG", "TRUONG_PHONG_GDDT", "CT_UBND_PHUONG"}),
        # principals listed by the Education Office (government block): the schools rule applies
        ("HIEU_TRUONG", "CHINH_QUYEN", None, {"TRUONG_PHONG_GDDT"}),
        ("HIEU_TRUONG", "CHINH_QUYEN", "PHONG", {"TRUONG_PHONG_GDDT"}),
        # a known kind the block covers only elsewhere: no rule, not another kind's decider
        ("CONG_CHUC", "DANG", "DANG_UY_PHUONG", set()),
        ("VIEN_CHUC", "CHINH_QUYEN", "UBND_PHUONG", set()),
    ],
)
def test_rules_for(position: str, block: str, kind: str | None, deciders: set[str]) -> None:
    rules = AUTHORITY.rules_for(position, block, kind, "2022-01")  # the letter's matrix
    assert {d for r in rules for d in r.deciders} == deciders


@pytest.mark.parametrize(
    ("period", "position", "block", "kind", "deciders", "reading"),
    [
        # 3251-QĐ/TU from 08/2022: the City Party Secretary decides the District Secretary
        ("2022-07", "BI_THU_QU", "DANG", "QUAN_UY", {"PBT_TT_THANH_UY"}, False),
        ("2022-08", "BI_THU_QU", "DANG", "QUAN_UY", {"BI_THU_THANH_UY"}, False),
        ("2025-06", "CT_UBND_PHUONG", "CHINH_QUYEN", "UBND_PHUONG", {"CT_UBND_Q"}, False),
        # from 01/07/2025 no district: the ward matrix (the product's reading)
        ("2025-07", "BI_THU_QU", "DANG", "QUAN_UY", set(), False),
        ("2025-07", "CT_UBND_PHUONG", "CHINH_QUYEN", "UBND_PHUONG", {"BI_THU_DU_PHUONG"}, True),
        ("2026-12", "HIEU_TRUONG", "TRUONG_HOC", "TRUONG", {"CT_UBND_PHUONG"}, True),
        ("2026-12", "GIAO_VIEN", "TRUONG_HOC", "TRUONG", {"HIEU_TRUONG"}, False),
        ("2026-12", "CONG_CHUC", "CHINH_QUYEN", "PHONG_PHUONG", {"TRUONG_PHONG_PHUONG"}, True),
        ("2026-12", "BI_THU_DU_PHUONG", "DANG", "DANG_UY_PHUONG", {"BI_THU_THANH_UY"}, True),
    ],
)
def test_rules_in_force_for_the_period(
    period: str, position: str, block: str, kind: str, deciders: set[str], reading: bool
) -> None:
    rules = AUTHORITY.rules_for(position, block, kind, period)
    assert {d for r in rules for d in r.deciders} == deciders
    assert all(r.reading == reading for r in rules)


def test_delegation_and_school_board_rules() -> None:
    (rule,) = AUTHORITY.rules_for("CONG_CHUC", "CHINH_QUYEN", "PHONG", "2022-01")
    assert rule.delegate is not None and rule.delegate.min_unit_size == 20  # letter §2.2.b
    assert rule.delegate.evaluator_positions == ("CAP_PHO",) and "CAP_PHO" in rule.delegate.exempt_positions
    (school,) = AUTHORITY.rules_for("GIAO_VIEN", "TRUONG_HOC", "TRUONG", "2022-01")
    assert set(school.evaluator_positions) == {"PHO_HIEU_TRUONG", "HIEU_TRUONG"}  # letter §2.2.c
    (cq2,) = AUTHORITY.rules_for("TRUONG_PHONG", "CHINH_QUYEN", "PHONG", "2022-01")
    assert cq2.evaluator_positions == ("PCT_UBND_Q",)


def test_subject_groups_default_to_the_categories_and_may_be_extended(tmp_path: Path) -> None:
    assert CODES.codes("groups") == ["CBCC", "VC", "KCT", "LDHD"]
    assert CODES.resolve("groups", "LĐHĐ") == "LDHD" and CODES.resolve("groups", "NHOM1") == "NHOM1"
    shipped = (DATA_DIR / "codes.toml").read_text(encoding="utf-8")
    head, _, tail = shipped.partition("[[group]]")
    without = head + "[[grade]]" + tail.partition("[[grade]]")[2]  # an older codes file: no [[group]]
    (tmp_path / "old.toml").write_text(without, encoding="utf-8")
    assert load_codes(tmp_path / "old.toml").codes("groups") == CODES.codes("categories")
    (tmp_path / "more.toml").write_text(shipped + '\n[[group]]\ncode = "LANH_DAO"\nlabel = "Lãnh đạo"\n', "utf-8")
    assert load_codes(tmp_path / "more.toml").codes("groups")[-1] == "LANH_DAO"
    lost = shipped.replace('[[group]]\ncode = "KCT"', '[[group]]\ncode = "KHAC"')
    (tmp_path / "lost.toml").write_text(lost, encoding="utf-8")
    with pytest.raises(ConfigError, match="KCT"):  # a blank group means the category: it must be a group
        load_codes(tmp_path / "lost.toml")
