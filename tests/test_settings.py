"""Settings: flag > DANHGIA_* environment > danhgia.toml > shipped defaults; bad values are
one-line Vietnamese ConfigErrors naming the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from danhgia_batch.cli import app
from danhgia_batch.errors import ConfigError
from danhgia_batch.settings import load_settings


def _config(tmp_path: Path, text: str, name: str = "danhgia.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("use_file", "env", "flag", "expected"),
    [
        (False, None, None, 90.0),  # shipped default
        (True, None, None, 92.0),  # file beats default
        (True, "93", None, 93.0),  # environment beats file
        (True, "93", 94, 94.0),  # flag beats environment
        (False, "93", None, 93.0),
        (False, None, 94, 94.0),
    ],
)
def test_precedence(tmp_path: Path, use_file: bool, env: str | None, flag: int | None, expected: float) -> None:
    if use_file:
        _config(tmp_path, "[grading]\na = 92\n")
    environ = {"DANHGIA_GRADING_A": env} if env else {}
    overrides = {"grading": {"a": flag}} if flag else None
    settings = load_settings(cwd=tmp_path, env=environ, overrides=overrides)
    assert settings.grading.a == expected
    assert settings.grading.b == 70  # untouched keys keep their defaults


def test_config_file_found_in_current_folder_or_named(tmp_path: Path) -> None:
    _config(tmp_path, "[watcher]\nsettle_seconds = 1.5\n")
    assert load_settings(cwd=tmp_path, env={}).watcher.settle_seconds == 1.5
    assert load_settings(cwd=tmp_path, env={}).workdir == tmp_path.resolve()
    other = tmp_path / "khac"
    other.mkdir()
    named = _config(other, "[watcher]\nsettle_seconds = 2.5\n", "cau_hinh.toml")
    assert load_settings(cwd=tmp_path, env={"DANHGIA_CONFIG": str(named)}).watcher.settle_seconds == 2.5
    settings = load_settings(named, cwd=tmp_path, env={})
    assert settings.watcher.settle_seconds == 2.5
    assert settings.inbox == other / "inbox"  # paths are relative to the config's folder


def test_environment_strings_are_coerced(tmp_path: Path) -> None:
    env = {
        "DANHGIA_WATCHER_POLLING": "có",
        "DANHGIA_REPORTS_COMMENDATION_GRADES": "A, B",
        "DANHGIA_QUOTA_SMALL_GROUP_SIZE": "6",
        "DANHGIA_LEDGER_URL": "postgresql+psycopg://u@h/db",
    }
    settings = load_settings(cwd=tmp_path, env=env)
    assert settings.watcher.polling is True
    assert settings.reports.commendation_grades == ("A", "B")
    assert settings.quota.small_group_size == 6
    assert settings.ledger_url == "postgresql+psycopg://u@h/db"
    assert load_settings(cwd=tmp_path, env={}).ledger_url.startswith("sqlite:///")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[quota]\nratio = "hai mươi"\n', "quota.ratio"),
        ("[quota]\nratio = 1.5\n", "quota.ratio"),
        ('[quota]\nbase = "all"\n', "quota.base"),
        ("[grading]\na = 60\nb = 70\n", "grading"),
        ("[deadlines]\ndecision_day = 40\n", "deadlines.decision_day"),
        ("[watcher]\nno_such_key = 1\n", "watcher.no_such_key"),
        ("[khong_co]\nx = 1\n", "khong_co"),
        ('[reports]\ncommendation_grades = ["A", "E"]\n', "reports.commendation_grades"),
        ("[reader]\nmax_registry_rows = 0\n", "reader.max_registry_rows"),
        ("[reader]\nregistry_memory_mb = -1\n", "reader.registry_memory_mb"),
    ],
)
def test_bad_value_names_key_and_file(tmp_path: Path, text: str, key: str) -> None:
    path = _config(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(cwd=tmp_path, env={})
    message = str(err.value)
    assert key in message and str(path) in message
    assert "\n" not in message
    assert err.value.exit_code == 2


def test_bad_environment_value_names_the_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(cwd=tmp_path, env={"DANHGIA_READER_WORKERS": "nhiều"})
    assert "reader.workers" in str(err.value) and "DANHGIA_" in str(err.value)


def test_broken_toml_and_missing_domain_file(tmp_path: Path) -> None:
    path = _config(tmp_path, "[grading\na = 1\n")
    with pytest.raises(ConfigError, match=r"danhgia\.toml"):
        load_settings(cwd=tmp_path, env={})
    path.write_text('[domain]\ncodes = "khong_co.toml"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"khong_co\.toml"):
        load_settings(cwd=tmp_path, env={})


def test_cli_bad_config_is_one_line_vietnamese_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    bad = _config(tmp_path, '[quota]\nratio = "hai mươi"\n', "bad.toml")
    result = CliRunner().invoke(app, ["--config", str(bad), "templates", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("Lỗi") and "quota.ratio" in lines[0] and "bad.toml" in lines[0]
    assert "cấu hình" in lines[0]
    assert not (tmp_path / "out").exists()


def test_registry_has_its_own_row_limit(tmp_path: Path) -> None:
    """A city registry (~200,000 people) fits the default; max_rows stays for other sheets."""
    defaults = load_settings(cwd=tmp_path, env={}).reader
    assert defaults.max_rows == 20_000 and defaults.max_registry_rows == 300_000
    assert defaults.registry_memory_mb >= 2048 > defaults.memory_mb  # 300k rows need ~1.5-2 GB
    env = {"DANHGIA_READER_MAX_REGISTRY_ROWS": "250000", "DANHGIA_READER_REGISTRY_MEMORY_MB": "4096"}
    reader = load_settings(cwd=tmp_path, env=env).reader
    assert (reader.max_registry_rows, reader.registry_memory_mb, reader.max_rows) == (250_000, 4096, 20_000)
