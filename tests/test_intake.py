"""Inbox intake: what is taken, what is ignored, unit folders, hashes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from danhgia_batch.intake import is_candidate, is_settled, scan_inbox, sha256_file, unit_folder


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    box = tmp_path / "inbox"
    (box / "PNV").mkdir(parents=True)
    return box


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("rel", "taken"),
    [
        ("ds.xlsx", True),
        ("PNV/ds.xlsx", True),
        ("PNV/DS.XLSX", True),
        ("ds.xlsm", True),  # taken, then rejected by the reader with a reason
        ("ds.xls", True),
        ("ds.ods", True),
        ("ds.csv", True),
        ("~$ds.xlsx", False),  # Excel owner file
        (".~lock.ds.xlsx#", False),  # LibreOffice lock
        ("ds.xlsx.tmp", False),
        ("ds.tmp", False),
        (".hidden.xlsx", False),
        (".an/ds.xlsx", False),  # hidden folder
        ("PNV/sub/ds.xlsx", False),  # only one level of unit folders
        ("ghi_chu.docx", False),  # not a spreadsheet: left for a person to see
        ("Thumbs.db", False),
    ],
)
def test_is_candidate(inbox: Path, rel: str, taken: bool) -> None:
    path = touch(inbox / rel)
    assert is_candidate(path, inbox) is taken


def test_symlinks_and_folders_are_never_taken(inbox: Path, tmp_path: Path) -> None:
    target = touch(tmp_path / "elsewhere.xlsx")
    link = inbox / "link.xlsx"
    link.symlink_to(target)
    (inbox / "folder.xlsx").mkdir()
    (inbox / "PNVLINK").symlink_to(inbox / "PNV", target_is_directory=True)
    touch(inbox / "PNV" / "ok.xlsx")
    assert not is_candidate(link, inbox)
    assert not is_candidate(inbox / "folder.xlsx", inbox)
    assert [p.relative_to(inbox).as_posix() for p in scan_inbox(inbox)] == ["PNV/ok.xlsx"]


def test_scan_inbox_top_level_and_unit_folders(inbox: Path) -> None:
    touch(inbox / "a.xlsx")
    touch(inbox / "PNV" / "b.xlsx")
    touch(inbox / "PNV" / "~$b.xlsx")
    touch(inbox / "PTP" / "c.xlsx")
    found = sorted(p.relative_to(inbox).as_posix() for p in scan_inbox(inbox))
    assert found == ["PNV/b.xlsx", "PTP/c.xlsx", "a.xlsx"]
    assert scan_inbox(inbox / "missing") == []


def test_unit_folder(inbox: Path, tmp_path: Path) -> None:
    assert unit_folder(inbox / "PNV" / "b.xlsx", inbox) == "PNV"
    assert unit_folder(inbox / "a.xlsx", inbox) is None
    assert unit_folder(tmp_path / "x.xlsx", inbox) is None


def test_sha256_file(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    assert sha256_file(touch(tmp_path / "f.xlsx", data)) == hashlib.sha256(data).hexdigest()


def test_is_settled_needs_the_same_size_and_mtime_twice(tmp_path: Path) -> None:
    path = touch(tmp_path / "f.xlsx", b"abc")
    ok, sig = is_settled(path, None)
    assert not ok and sig is not None
    assert is_settled(path, sig)[0]
    touch(path, b"abcdef")
    assert not is_settled(path, sig)[0]
    assert is_settled(tmp_path / "gone.xlsx", sig) == (False, None)
