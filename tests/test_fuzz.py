"""Robustness: mutated copies of a valid workbook, crashing and hanging readers.

Every file ends either parsed or rejected with a reason; the parent process is never killed,
never hangs, and a dead or stuck worker is replaced while the other files go on.
"""

from __future__ import annotations

import dataclasses
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import valid_row

from danhgia_batch.issues import CATALOGUE
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


def test_timeout_is_reported_per_file(fill_template: Callable[..., Path], settings: Settings) -> None:
    good = fill_template("02")
    hasty = dataclasses.replace(settings, reader=dataclasses.replace(settings.reader, timeout_seconds=0.001))
    results = list(read_forms([good, good], hasty, workers=1))
    assert [i.code for r in results for i in r.issues] == ["file-timeout", "file-timeout"]
