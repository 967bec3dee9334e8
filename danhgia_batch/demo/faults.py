"""The realistic faults the demo plants, each exactly once (issue 9).

Each fault is what a clerk really does: a mistyped score, a deleted column, a total typed
over its formula, too many A for the quota, a late decision, a file saved into another unit's
folder, the same file dropped twice, and a password-protected workbook. The edits here work
on a filled workbook with openpyxl, the way Excel would save them.
"""

from __future__ import annotations

import struct
from pathlib import Path

import openpyxl
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from .. import layout
from ..domain import Framework
from ..templates.fill import find_header_row

SCORE_TYPO = "score-typo"
COLUMN_MISSING = "column-missing"
TOTAL_OVERWRITTEN = "total-overwritten"
QUOTA = "quota"
LATE_DECISION = "late-decision"
WRONG_FOLDER = "wrong-folder"
DUPLICATE = "duplicate"
ENCRYPTED = "encrypted"

# Faults that take one decider list each, in the order they are assigned.
LIST_FAULTS = (QUOTA, SCORE_TYPO, COLUMN_MISSING, TOTAL_OVERWRITTEN, LATE_DECISION, WRONG_FOLDER)
ALL_FAULTS = (*LIST_FAULTS, DUPLICATE, ENCRYPTED)

# Vietnamese descriptions for the demo's summary.
DESCRIPTIONS = {
    SCORE_TYPO: "gõ nhầm điểm (vượt điểm tối đa)",
    COLUMN_MISSING: "xóa mất cột 'Ngày tự đánh giá'",
    TOTAL_OVERWRITTEN: "ghi đè công thức tổng điểm bằng một số sai",
    QUOTA: "vượt tỷ lệ 20% loại A",
    LATE_DECISION: "quyết định xếp loại muộn",
    WRONG_FOLDER: "nộp vào thư mục của đơn vị khác",
    DUPLICATE: "gửi trùng một tệp hai lần",
    ENCRYPTED: "tệp có mật khẩu",
}

# Expected outcome of the file carrying each fault (SPEC §9).
OUTCOMES = {
    SCORE_TYPO: "rejected",
    COLUMN_MISSING: "rejected",
    TOTAL_OVERWRITTEN: "rejected",
    QUOTA: "invalid",
    LATE_DECISION: "accepted",
    WRONG_FOLDER: "rejected",
    DUPLICATE: "duplicate",
    ENCRYPTED: "rejected",
}


def typo_value(framework: Framework) -> tuple[str, int]:
    """(row key, value) of the score typo: "95" typed for 9,5 in the part with the smallest
    maximum, far over that maximum."""
    part = min(framework.parts, key=lambda p: p.max)
    return f"final_{part.code}", int(part.max * 10 - 5)


def _sheet(path: Path) -> tuple[Workbook, Worksheet]:
    wb = openpyxl.load_workbook(path)
    return wb, wb[layout.SHEET_UNIT_LIST]


def delete_column(path: Path, framework: Framework, key: str = "self_date") -> None:
    """The clerk deleted a whole column (default "Ngày tự đánh giá") and saved."""
    wb, ws = _sheet(path)
    _, cols = find_header_row(ws, layout.unit_list_columns(framework))
    ws.delete_cols(cols[key])
    wb.save(path)


def overwrite_total(path: Path, framework: Framework, row_index: int, value: float) -> None:
    """The clerk typed a constant over the final-total formula of one row."""
    wb, ws = _sheet(path)
    header_row, cols = find_header_row(ws, layout.unit_list_columns(framework))
    ws.cell(row=header_row + 1 + row_index, column=cols["final_total"]).value = value
    wb.save(path)


# ---- an encrypted workbook -----------------------------------------------------------------

_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_SECTOR = 512


def _dir_entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
    raw = (name + "\0").encode("utf-16-le") if name else b""
    return struct.pack(
        "<64sHBBIII16sIQQII",
        raw.ljust(64, b"\0"),
        len(raw),
        kind,
        1,  # black
        _NOSTREAM,
        right,
        child,
        b"\0" * 16,
        0,
        0,
        0,
        start,
        size,
    ) + struct.pack("<I", 0)


def encrypted_workbook_bytes(salt: int = 0) -> bytes:
    """A minimal password-protected Excel file: an OLE2 compound file (CFB v3) holding the
    ``EncryptionInfo`` and ``EncryptedPackage`` streams, as Excel writes when a workbook is
    saved with a password. The payload is random-looking filler; no reader can open it, and
    none should: the reader must classify it as ``file-encrypted``. ``salt`` varies the bytes
    (two districts' encrypted files are not duplicates of each other)."""
    info_sectors, package_sectors = 8, 8  # both ≥ 4096 bytes: regular streams, no mini stream
    info = struct.pack("<HHI", 4, 4, 0x40) + b'<?xml version="1.0" encoding="UTF-8"?><encryption/>'
    info = info.ljust(info_sectors * _SECTOR, b"\0")
    filler = bytes((i * 151 + 7 + salt * 31) % 256 for i in range(package_sectors * _SECTOR - 8))
    package = struct.pack("<Q", 12_345) + filler
    fat = [_FATSECT, _END]
    first_info = 2
    fat += [first_info + i + 1 for i in range(info_sectors - 1)] + [_END]
    first_package = first_info + info_sectors
    fat += [first_package + i + 1 for i in range(package_sectors - 1)] + [_END]
    fat += [_FREE] * (_SECTOR // 4 - len(fat))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\0" * 16,
        0x003E,
        0x0003,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,  # directory sectors (0 in version 3)
        1,  # FAT sectors
        1,  # first directory sector
        0,
        4096,  # mini stream cutoff
        _END,  # first mini FAT sector
        0,
        _END,  # first DIFAT sector
        0,
        0,  # DIFAT[0]: the FAT is sector 0
    )
    header += struct.pack("<I", _FREE) * 108
    directory = (
        _dir_entry("Root Entry", 5, _NOSTREAM, 1, _END, 0)
        + _dir_entry("EncryptionInfo", 2, 2, _NOSTREAM, first_info, len(info))
        + _dir_entry("EncryptedPackage", 2, _NOSTREAM, _NOSTREAM, first_package, len(package))
        + _dir_entry("", 0, _NOSTREAM, _NOSTREAM, 0, 0)
    )
    return header + struct.pack(f"<{len(fat)}I", *fat) + directory + info + package
