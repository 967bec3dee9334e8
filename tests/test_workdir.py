"""``init_workdir`` / ``danhgia init``: a working folder with config, folders, templates."""

from __future__ import annotations

import dataclasses
import importlib.util
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from danhgia_batch import layout
from danhgia_batch.cli import app
from danhgia_batch.settings import SECTIONS, load_settings
from danhgia_batch.workdir import SAMPLE_REGISTRY, WorkdirExistsError, init_workdir


def _has_sample_registry() -> bool:
    if importlib.util.find_spec("danhgia_batch.demo") is None:
        return False
    import danhgia_batch.demo as demo

    return hasattr(demo, "write_sample_registry")


def test_init_creates_config_folders_and_templates(tmp_path: Path) -> None:
    work = tmp_path / "lam_viec"
    created = init_workdir(work)
    for name in ("inbox", "outbox", "archive", "logs"):
        assert (work / name).is_dir() and (work / name) in created
    for file_name in layout.FILE_NAMES.values():
        assert (work / "templates_xlsx" / file_name).is_file()
    config = work / "danhgia.toml"
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    assert set(data) == set(SECTIONS)
    for section, cls in SECTIONS.items():
        assert set(data[section]) == {f.name for f in dataclasses.fields(cls)}, section
    assert "# Mức điểm xếp loại" in config.read_text(encoding="utf-8")
    loaded = load_settings(config, env={})
    defaults = load_settings(cwd=tmp_path, env={})
    for section in SECTIONS:
        assert getattr(loaded, section) == getattr(defaults, section), section
    assert loaded.workdir == work.resolve()


def test_init_writes_sample_registry_when_demo_provides_it(tmp_path: Path) -> None:
    if not _has_sample_registry():
        pytest.skip("danhgia_batch.demo.write_sample_registry not available yet")
    created = init_workdir(tmp_path)
    sample = tmp_path / SAMPLE_REGISTRY
    assert sample in created and sample.is_file()


def test_init_refuses_to_overwrite_config_without_force(tmp_path: Path) -> None:
    (tmp_path / "danhgia.toml").write_text("[grading]\na = 95\n", encoding="utf-8")
    with pytest.raises(WorkdirExistsError) as err:
        init_workdir(tmp_path)
    assert err.value.exit_code == 2
    assert (tmp_path / "danhgia.toml").read_text(encoding="utf-8") == "[grading]\na = 95\n"
    result = CliRunner().invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert "--force" in result.output
    init_workdir(tmp_path, force=True)
    assert load_settings(tmp_path / "danhgia.toml", env={}).grading.a == 90


def test_cli_init_default_is_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "danhgia.toml").is_file() and (tmp_path / "inbox").is_dir()
