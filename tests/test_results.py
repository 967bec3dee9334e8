"""A run's per-file results keep what their output needs, and the on-disk path only when the
display text does not name the file (issue 19: a city month's Path objects were 25 MB)."""

from __future__ import annotations

import os
from pathlib import Path

from danhgia_batch.pipeline.results import FileResult, skipped
from danhgia_batch.textsafe import fs_text


def test_a_file_named_in_valid_utf8_keeps_no_second_path_and_is_found_from_its_text(tmp_path: Path) -> None:
    path = tmp_path / "Phiếu cá nhân T12.xlsx"
    path.write_bytes(b"x")
    res = skipped(path)
    assert res.source is None
    assert res.on_disk == path and res.on_disk.read_bytes() == b"x"


def test_an_undecodable_file_name_keeps_the_path_on_disk(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/bad-\xff-name.xlsx"
    path = Path(os.fsdecode(raw))
    path.write_bytes(b"y")
    res = FileResult(fs_text(path), fs_text(path.name), "rejected", source=path)
    assert res.path != str(path)  # shown with the undecodable byte replaced
    assert res.source == path and res.on_disk.read_bytes() == b"y"
