"""Regimes as data (SPEC §13): shipped files, selection, the work folder's, mistakes at keys."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from danhgia_batch.errors import ConfigError
from danhgia_batch.regimes import REGIMES_DIR, apply_regime, check_regime_file
from danhgia_batch.settings import load_settings


def _settings(tmp_path: Path, toml: str = ""):  # type: ignore[no-untyped-def]
    (tmp_path / "danhgia.toml").write_text(toml, encoding="utf-8")
    return load_settings(cwd=tmp_path, env={})


def test_shipped_regimes_load(tmp_path: Path) -> None:
    cat = _settings(tmp_path).catalogue
    assert set(cat.regimes) >= {"hn-1841", "nd-335-cong-chuc"}
    assert cat.in_force == ("hn-1841",)
    nd = cat.regimes["nd-335-cong-chuc"]
    assert nd.period_kinds == ("month", "quarter") and nd.categories == ("CBCC",)
    assert (nd.bands.a, nd.bands.b, nd.bands.c) == (90, 70, 50)
    assert [c.flag for c in nd.bands.caps] == ["discipline", "degradation"]
    assert nd.quota.scopes == ("group", "agency") and nd.quota.base == "good_only" and nd.quota.reading
    assert nd.aggregate == "average_score"
    fw = nd.frameworks[0]
    assert [(p.code, p.max) for p in fw.parts] == [("I", 30), ("II", 70)]
    assert len(nd.digest) == 64


def test_letter_regime_is_the_shipped_settings(tmp_path: Path) -> None:
    """Applying hn-1841 changes nothing: today's product is the letter regime."""
    settings = _settings(tmp_path)
    assert apply_regime(settings, settings.catalogue.regimes["hn-1841"]) is settings


@pytest.mark.parametrize(
    ("use", "period", "category", "expected"),
    [
        ('["hn-1841"]', "2022-03", "CBCC", "hn-1841"),
        ('["hn-1841"]', "2026-03", "CBCC", "hn-1841"),
        ('["hn-1841"]', "2026-Q1", "CBCC", None),  # the letter is monthly
        ('["hn-1841", "nd-335-cong-chuc"]', "2026-03", "CBCC", "nd-335-cong-chuc"),
        ('["hn-1841", "nd-335-cong-chuc"]', "2026-Q1", "CBCC", "nd-335-cong-chuc"),
        ('["hn-1841", "nd-335-cong-chuc"]', "2026-03", "VC", "hn-1841"),
        ('["hn-1841", "nd-335-cong-chuc"]', "2025-12", "CBCC", "hn-1841"),
        ('["hn-1841", "nd-335-cong-chuc"]', "2026-Q1", "VC", None),
    ],
)
def test_regime_for(tmp_path: Path, use: str, period: str, category: str, expected: str | None) -> None:
    cat = _settings(tmp_path, f"[regimes]\nuse = {use}\n").catalogue
    found = cat.regime_for(period, category)
    assert (found.id if found else None) == expected


def test_work_folder_regime_is_added_and_replaces_a_shipped_id(tmp_path: Path) -> None:
    (tmp_path / "regimes").mkdir()
    text = (REGIMES_DIR / "nd-335-cong-chuc.toml").read_text(encoding="utf-8")
    (tmp_path / "regimes" / "hn-kpi.toml").write_text(
        text.replace('id = "nd-335-cong-chuc"', 'id = "hn-kpi-2026"').replace(
            'valid_from = "2026-01"\ncategories', 'valid_from = "2026-Q3"\ncategories', 1
        ),
        encoding="utf-8",
    )
    available = _settings(tmp_path).catalogue  # a copy judges nothing until it is used
    assert available.in_force == ("hn-1841",) and "hn-kpi-2026" in available.regimes
    assert available.regime_for("2026-Q3", "CBCC") is None
    cat = _settings(tmp_path, '[regimes]\nuse = ["hn-1841", "hn-kpi-2026"]\n').catalogue
    assert cat.in_force == ("hn-1841", "hn-kpi-2026")
    assert not cat.regimes["hn-kpi-2026"].shipped
    assert cat.regime_for("2026-Q3", "CBCC").id == "hn-kpi-2026"  # type: ignore[union-attr]
    assert cat.regime_for("2026-06", "CBCC").id == "hn-1841"  # type: ignore[union-attr]


BAD = """\
id = "Sai Ma"
version = "1"
name = "Thử"
period_kinds = ["month", "week"]
valid_from = "03/2026"
categories = ["CBCC", "XYZ"]
frameworks = ["HN-THANG"]

[bands]
a = 90
b = 95
c = 50
colour = "red"

[[bands.cap]]
flag = "late"
grade = "D"
label = "x"

[quota]
ratio = 2
base = "all"
scopes = ["unit"]

[deadlines]
decision_day = 32
"""


def test_mistakes_name_their_keys_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "sai.toml"
    path.write_text(BAD, encoding="utf-8")
    settings = _settings(tmp_path)
    regime, result = check_regime_file(path, codes=settings.codes, known_frameworks=["HN-THANG"])
    assert regime is None and not result.ok
    got = {(m.key, m.line) for m in result.mistakes}
    assert got >= {
        ("id", 1),
        ("period_kinds", 4),
        ("valid_from", 5),
        ("categories", 6),
        ("bands.colour", 13),
        ("bands", 9),
        ("bands.cap[0].flag", 16),
        ("quota.ratio", 21),
        ("quota.base", 22),
        ("quota.scopes", 23),
        ("deadlines.decision_day", 26),
    }, got
    assert all(m.message for m in result.mistakes)


def test_syntax_error_gives_its_line(tmp_path: Path) -> None:
    path = tmp_path / "cu_phap.toml"
    path.write_text('id = "x"\nversion = "1"\n[bands\na = 90\n', encoding="utf-8")
    _, result = check_regime_file(path)
    assert [(m.key, m.line) for m in result.mistakes] == [("", 3)]


def test_framework_inside_a_regime_must_total_100(tmp_path: Path) -> None:
    text = (REGIMES_DIR / "nd-335-cong-chuc.toml").read_text(encoding="utf-8").replace("max = 70\n", "max = 75\n")
    path = tmp_path / "r.toml"
    path.write_text(text, encoding="utf-8")
    _, result = check_regime_file(path)
    assert [m.key for m in result.mistakes] == ["framework[0].part"]


def test_a_bad_work_folder_regime_stops_the_run(tmp_path: Path) -> None:
    (tmp_path / "regimes").mkdir()
    shutil.copy(REGIMES_DIR / "hn-1841.toml", tmp_path / "regimes" / "copy.toml")
    (tmp_path / "regimes" / "copy.toml").write_text(
        (REGIMES_DIR / "hn-1841.toml").read_text(encoding="utf-8").replace("a = 90", "a = 190"), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"bands\.a"):
        _settings(tmp_path)
    (tmp_path / "danhgia.toml").write_text('[regimes]\nuse = ["khong-co"]\n', encoding="utf-8")
    shutil.rmtree(tmp_path / "regimes")
    with pytest.raises(ConfigError, match=r"regimes\.use"):
        load_settings(cwd=tmp_path, env={})


# --------------------------------------------------------------------------- the commands


def _cli(tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from danhgia_batch.cli import app

    if not (tmp_path / "danhgia.toml").exists():
        (tmp_path / "danhgia.toml").write_text('[regimes]\nuse = ["hn-1841", "nd-335-cong-chuc"]\n', encoding="utf-8")
    return CliRunner().invoke(app, ["--config", str(tmp_path / "danhgia.toml"), *args])


def test_regime_list_json_says_who_is_judged_by_what(tmp_path: Path) -> None:
    import json

    result = _cli(tmp_path, "--json", "regime", "list", "--period", "Quý I/2026")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["period"] == "2026-Q1"
    assert data["judged"] == {"CBCC": "nd-335-cong-chuc", "VC": "", "KCT": "", "LDHD": ""}
    assert [r["id"] for r in data["rows"]][:2] == ["hn-1841", "nd-335-cong-chuc"]
    monthly = json.loads(_cli(tmp_path, "--json", "regime", "list", "-p", "03/2026").output)
    assert monthly["judged"] == {"CBCC": "nd-335-cong-chuc", "VC": "hn-1841", "KCT": "hn-1841", "LDHD": "hn-1841"}


def test_regime_list_table_and_bad_period(tmp_path: Path) -> None:
    result = _cli(tmp_path, "regime", "list")
    assert result.exit_code == 0 and "nd-335-cong-chuc" in result.output and "tháng, quý" in result.output
    bad = _cli(tmp_path, "regime", "list", "--period", "Q5/2026")
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_regime_check_names_keys_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "sai.toml"
    path.write_text(BAD, encoding="utf-8")
    result = _cli(tmp_path, "regime", "check", str(path))
    assert result.exit_code == 1
    assert "dòng 21, khóa 'quota.ratio'" in result.output and "Traceback" not in result.output
    ok = _cli(tmp_path, "regime", "check", str(REGIMES_DIR / "hn-1841.toml"))
    assert ok.exit_code == 0 and "hợp lệ" in ok.output
    missing = _cli(tmp_path, "regime", "check", str(tmp_path / "khong_co.toml"))
    assert missing.exit_code == 1 and "không đọc được tệp" in missing.output


def test_regime_check_works_when_the_broken_file_sits_in_regimes(tmp_path: Path) -> None:
    (tmp_path / "regimes").mkdir()
    path = tmp_path / "regimes" / "moi.toml"
    path.write_text(BAD, encoding="utf-8")
    result = _cli(tmp_path, "regime", "check", str(path))
    assert result.exit_code == 1 and "quota.ratio" in result.output


def test_a_draft_with_mistakes_never_stops_the_office_but_one_in_use_does(tmp_path: Path) -> None:
    # an administrator editing a copy in regimes/ (not yet in regimes.use): every command goes on
    (tmp_path / "regimes").mkdir()
    (tmp_path / "regimes" / "moi.toml").write_text(BAD, encoding="utf-8")
    listed = _cli(tmp_path, "regime", "list")
    assert listed.exit_code == 0 and "Bỏ qua regimes/moi.toml (có lỗi, chưa áp dụng)" in listed.output
    assert "quota.ratio" in listed.output and "hn-1841" in listed.output
    settings = load_settings(tmp_path / "danhgia.toml", env={})
    assert [name for name, _ in settings.catalogue.broken] == ["moi.toml"]
    # named in regimes.use (by its declared id): the run cannot go on, the mistakes are named
    (tmp_path / "danhgia.toml").write_text('[regimes]\nuse = ["hn-1841", "Sai Ma"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"quota\.ratio"):
        load_settings(tmp_path / "danhgia.toml", env={})


# --------------------------------------------------------------------------- bonus parts

BONUS = """\
id = "KPI-THUONG"
version = "1"
name = "Khung có điểm thưởng"
valid_from = "2026-Q1"

[[part]]
code = "I"
name = "Tiêu chí chung"
max = 30

[[part]]
code = "II"
name = "Kết quả thực hiện nhiệm vụ"
max = 70

[[part]]
code = "T"
name = "Điểm thưởng"
max = 7
bonus = true
"""


def test_a_bonus_part_comes_on_top_of_100_and_the_total_stays_within_100(tmp_path: Path, fill_template: Any) -> None:
    """Issue 15: "30 + 70 + 7 bonus" was refused ("tổng điểm tối đa phải là 100, hiện là 107")."""
    from datetime import date
    from decimal import Decimal

    from danhgia_batch.read import read_forms

    (tmp_path / "khung.toml").write_text(BONUS, encoding="utf-8")
    settings = _settings(tmp_path, '[domain]\nframeworks = ["khung.toml"]\n')
    fw = settings.default_framework
    assert (fw.id, fw.max_total, fw.has_bonus) == ("KPI-THUONG", 107, True)
    row = {
        "person_code": "PNV001", "full_name": "Nguyễn Văn An", "position_code": "CONG_CHUC", "category": "CBCC",
        "self_I": 29, "self_II": 68, "self_T": 7, "final_I": 28, "final_II": 66, "final_T": 5,
        "self_grade": "A", "final_grade": "A", "self_date": date(2022, 1, 20),
    }  # fmt: skip
    path = fill_template("02", [row], framework=fw, period="03/2026")
    form = next(iter(read_forms([path], settings)))
    assert [i.code for i in form.issues] == []
    assert (form.rows[0].self_total, form.rows[0].final_total) == (Decimal(100), Decimal(99))


def test_a_framework_without_bonus_must_still_total_100(tmp_path: Path) -> None:
    (tmp_path / "khung.toml").write_text(BONUS.replace("bonus = true\n", ""), encoding="utf-8")
    with pytest.raises(ConfigError, match="107"):
        _settings(tmp_path, '[domain]\nframeworks = ["khung.toml"]\n')


def test_band_conditions_load_and_their_mistakes_are_named(tmp_path: Path) -> None:
    base = (REGIMES_DIR / "nd-335-cong-chuc.toml").read_text(encoding="utf-8")
    good = base + '\n[[bands.condition]]\ngrade = "A"\nmin_on_time = 100\nlabel = "366-QĐ/TW"\n'
    (tmp_path / "ok.toml").write_text(good, encoding="utf-8")
    regime, result = check_regime_file(tmp_path / "ok.toml")
    assert result.ok and regime is not None
    assert [(c.grade, c.min_on_time) for c in regime.bands.conditions] == [("A", 100.0)]
    bad = base + '\n[[bands.condition]]\ngrade = "D"\nmin_on_time = 120\n'
    (tmp_path / "bad.toml").write_text(bad, encoding="utf-8")
    _, result = check_regime_file(tmp_path / "bad.toml")
    assert {m.key for m in result.mistakes} == {"bands.condition[0].grade", "bands.condition[0].min_on_time"}


def test_copy_check_use(tmp_path: Path) -> None:
    """README "Thêm một bộ quy định": copy, edit, check, use."""
    import json

    copied = _cli(tmp_path, "regime", "copy", "nd-335-cong-chuc", "hn-kpi-2026")
    assert copied.exit_code == 0, copied.output
    path = tmp_path / "regimes" / "hn-kpi-2026.toml"
    text = path.read_text(encoding="utf-8")
    assert 'id = "hn-kpi-2026"' in text and 'id = "nd-335-cong-chuc"' not in text
    assert _cli(tmp_path, "regime", "copy", "nd-335-cong-chuc", "hn-kpi-2026").exit_code == 2  # exists
    assert _cli(tmp_path, "regime", "copy", "khong-co", "x").exit_code == 2
    # edit: from the third quarter, quality deductions unchanged, a higher ratio
    path.write_text(
        text.replace('valid_from = "2026-01"\ncategories', 'valid_from = "2026-Q3"\ncategories', 1).replace(
            "ratio = 0.20", "ratio = 0.25"
        ),
        encoding="utf-8",
    )
    assert _cli(tmp_path, "regime", "check", str(path)).exit_code == 0
    listed = json.loads(_cli(tmp_path, "--json", "regime", "list", "-p", "2026-Q3").output)
    assert listed["judged"]["CBCC"] == "nd-335-cong-chuc"  # copied, not yet used
    (tmp_path / "danhgia.toml").write_text(
        '[regimes]\nuse = ["hn-1841", "nd-335-cong-chuc", "hn-kpi-2026"]\n', encoding="utf-8"
    )
    listed = json.loads(_cli(tmp_path, "--json", "regime", "list", "-p", "2026-Q3").output)
    assert listed["judged"]["CBCC"] == "hn-kpi-2026"  # the later valid_from wins
    listed = json.loads(_cli(tmp_path, "--json", "regime", "list", "-p", "2026-Q2").output)
    assert listed["judged"]["CBCC"] == "nd-335-cong-chuc"


def test_the_leader_variant_is_only_for_a_computed_part(tmp_path: Path) -> None:
    """`leaders = true` on a part that is not computed, or not true/false, is named at its key."""
    from danhgia_batch.regimes import REGIMES_DIR

    text = (REGIMES_DIR / "nd-335-cong-chuc.toml").read_text(encoding="utf-8")
    wrong = text.replace("reading = true   # the split among", "leaders = true\nreading = true   # the split among", 1)
    wrong = wrong.replace("leaders = true\nreading = true\n", 'leaders = "có"\nreading = true\n', 1)
    path = tmp_path / "sai_lanh_dao.toml"
    path.write_text(wrong, encoding="utf-8")
    _, result = check_regime_file(path)
    keys = {m.key for m in result.mistakes}
    assert keys == {"framework[0].part[0].leaders", "framework[0].part[1].leaders"}, result.mistakes
    assert all(m.line for m in result.mistakes)
