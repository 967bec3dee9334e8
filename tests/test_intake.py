"""Inbox intake: what is taken, what is ignored, unit folders, hashes."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from danhgia_batch.intake import (
    CHANGING,
    GONE,
    INCOMPLETE,
    LOCKED,
    is_candidate,
    scan_inbox,
    sha256_file,
    signature_of,
    unit_folder,
    unsettled_reason,
    wait_until_settled,
)


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


def _zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", "x")
    return path


def test_settled_needs_the_same_signature_for_the_settle_time(tmp_path: Path) -> None:
    path = _zip(tmp_path / "f.xlsx")
    sig = signature_of(path)
    assert unsettled_reason(path, previous=sig, stable_for=4.9, settle_seconds=5) == (CHANGING, sig)
    assert unsettled_reason(path, previous=sig, stable_for=5, settle_seconds=5) == ("", sig)
    with path.open("ab") as fh:
        fh.write(b"more")
    assert unsettled_reason(path, previous=sig, stable_for=60, settle_seconds=5)[0] == CHANGING
    assert unsettled_reason(tmp_path / "gone.xlsx", previous=sig, stable_for=60, settle_seconds=5) == (GONE, None)


def test_file_times_count_as_stable_for_process_and_check(tmp_path: Path) -> None:
    path = _zip(tmp_path / "f.xlsx")
    sig = signature_of(path)
    assert unsettled_reason(path, previous=sig, stable_for=0, settle_seconds=3600, file_times=True)[0] == CHANGING
    assert unsettled_reason(path, previous=sig, stable_for=0, settle_seconds=0.0, file_times=True)[0] == ""


@pytest.mark.parametrize("lock", ["~$f.xlsx", ".~lock.f.xlsx#", "~$F.XLSX"])
def test_a_lock_file_beside_it_holds_a_stable_file(tmp_path: Path, lock: str) -> None:
    path = _zip(tmp_path / "f.xlsx")
    (tmp_path / lock).write_bytes(b"owner")
    sig = signature_of(path)
    assert unsettled_reason(path, previous=sig, stable_for=60, settle_seconds=5) == (LOCKED, sig)


def test_an_unreadable_zip_is_held_and_another_format_is_not(tmp_path: Path) -> None:
    whole = _zip(tmp_path / "whole.xlsx").read_bytes()
    truncated = touch(tmp_path / "half.xlsx", whole[: len(whole) // 2])
    old_excel = touch(tmp_path / "cu.xls", b"\xd0\xcf\x11\xe0" + b"x" * 60)
    for path, reason in ((truncated, INCOMPLETE), (old_excel, "")):
        sig = signature_of(path)
        assert unsettled_reason(path, previous=sig, stable_for=60, settle_seconds=5)[0] == reason


def test_wait_until_settled_waits_for_a_copy_but_not_for_a_lock(tmp_path: Path) -> None:
    now = [0.0]
    copying = touch(tmp_path / "dang_chep.xlsx", b"PK\x03\x04")
    locked = _zip(tmp_path / "mo.xlsx")
    (tmp_path / "~$mo.xlsx").write_bytes(b"owner")
    sleeps = [0]

    def sleep(seconds: float) -> None:  # our clock moves on; the copy grows, then completes
        now[0] += seconds
        sleeps[0] += 1
        if sleeps[0] < 4:
            with copying.open("ab") as fh:
                fh.write(b"x")
        elif sleeps[0] == 4:
            _zip(copying)

    kw = {"clock": lambda: now[0], "sleep": sleep}
    assert wait_until_settled([copying, locked], 0.5, timeout=30, **kw) == {locked: LOCKED}
    assert 0.5 <= now[0] < 30  # it waited for the copy; a lock alone does not keep process waiting
    started = now[0]
    assert wait_until_settled([locked], 0.5, timeout=2, wait_holds=True, **kw) == {locked: LOCKED}
    assert now[0] - started >= 2  # check --wait waits for it, bounded
    assert wait_until_settled([copying], 1e9, timeout=1, **kw) == {copying: CHANGING}
