"""Pre-flight of the .xlsx container: every bad container is rejected with a reason before
any spreadsheet parser sees it (issue 3 ¶7). Fixtures are generated here, byte by byte."""

from __future__ import annotations

import dataclasses
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import valid_row
from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from danhgia_batch.read.preflight import Rejected, preflight
from danhgia_batch.settings import ReaderSettings, Settings

LIMITS = ReaderSettings()
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def rewrite(
    src: Path, dst: Path, edits: dict[str, Callable[[bytes], bytes] | None], add: dict[str, bytes] | None = None
) -> Path:
    """Copy the zip ``src`` to ``dst``; ``edits`` maps a member to a transform (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in edits:
                fn = edits[info.filename]
                if fn is None:
                    continue
                data = fn(data)
            zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def rejected(path: Path, limits: ReaderSettings = LIMITS) -> tuple[str, str]:
    with pytest.raises(Rejected) as exc:
        preflight(path, limits)
    message = exc.value.issue.message
    assert message and "{" not in message and "()" not in message and " ;" not in message  # a complete reason
    return exc.value.issue.code, exc.value.issue.sheet


SHEET = "xl/worksheets/sheet1.xml"  # DanhSach in the generated template 02


@pytest.fixture
def good(fill_template: Callable[..., Path]) -> Path:
    return fill_template("02")


def test_valid_file_passes_and_reports_sheets_names_and_formulas(good: Path) -> None:
    c = preflight(good, LIMITS)
    assert [s.name for s in c.sheets][:1] == ["DanhSach"]
    assert c.defined_names["KY_DANH_GIA"] == ("DanhSach", "D4")
    assert {"L17", "R17", "S17"} <= c.sheet("DanhSach").formulas  # type: ignore[union-attr]
    assert c.date1904 is False


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "file-empty"),
        (b"\x00" * 5000, "file-corrupt"),
        (b"Just some bytes \x01\x02\x03\xff\xfe garbage" * 10, "file-corrupt"),
        ("Mã cán bộ;Họ và tên\nCB001;Nguyễn Văn An\n".encode(), "file-not-xlsx"),
        (b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>", "file-not-xlsx"),
        (OLE2 + b"\x00" * 600 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 100, "file-encrypted"),
        (OLE2 + b"\x00" * 600 + "Workbook".encode("utf-16-le") + b"\x00" * 100, "file-not-xlsx"),
    ],
    ids=["zero-bytes", "zero-filled", "garbage", "csv", "html", "encrypted", "xls"],
)
def test_foreign_and_broken_files(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    assert rejected(path) == (code, "")


def test_truncated_zip(tmp_path: Path, good: Path) -> None:
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert rejected(path) == ("file-corrupt", "")


def test_ods_renamed(tmp_path: Path) -> None:
    path = tmp_path / "calc.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    assert rejected(path) == ("file-not-xlsx", "")


def test_macro_content(tmp_path: Path, good: Path) -> None:
    path = rewrite(good, tmp_path / "m.xlsx", {}, {"xl/vbaProject.bin": b"\x00VBA" * 10})
    assert rejected(path) == ("file-macro", "")
    types = "[Content_Types].xml"
    path2 = rewrite(
        good,
        tmp_path / "m2.xlsx",
        {types: lambda d: d.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml")},
    )
    assert rejected(path2) == ("file-macro", "")


def test_workbook_without_sheets(tmp_path: Path, good: Path) -> None:
    path = rewrite(
        good, tmp_path / "nosheets.xlsx", {"xl/workbook.xml": lambda d: re.sub(rb"<sheets>.*</sheets>", b"", d)}
    )
    assert rejected(path) == ("file-no-sheets", "")


def test_strict_open_xml(tmp_path: Path, good: Path) -> None:
    strict = b"http://purl.oclc.org/ooxml/spreadsheetml/main"
    path = rewrite(
        good,
        tmp_path / "strict.xlsx",
        {"xl/workbook.xml": lambda d: d.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", strict)},
    )
    assert rejected(path) == ("file-strict-ooxml", "")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize("prolog", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
@pytest.mark.parametrize("member", ["xl/workbook.xml", SHEET, "xl/styles.xml"])
def test_dtd_and_entities_are_unsafe(tmp_path: Path, good: Path, prolog: bytes, member: str) -> None:
    def inject(d: bytes) -> bytes:
        return prolog + re.sub(rb"^<\?xml[^>]*\?>", b"", d)

    path = rewrite(good, tmp_path / "dtd.xlsx", {member: inject})
    assert rejected(path) == ("file-unsafe-xml", "")


def test_zip_bomb_by_ratio(tmp_path: Path, good: Path) -> None:
    path = rewrite(good, tmp_path / "bomb.xlsx", {}, {"xl/media/pad.xml": b"<a>" + b" " * (50 << 20) + b"</a>"})
    assert rejected(path) == ("file-too-large", "")


def test_zip_bomb_by_declared_size(tmp_path: Path, good: Path) -> None:
    path = rewrite(good, tmp_path / "big.xlsx", {}, {"xl/media/pad.xml": b"<a>" + b" " * (3 << 20) + b"</a>"})
    small = dataclasses.replace(LIMITS, max_uncompressed_mb=2)
    assert rejected(path, small) == ("file-too-large", "")


def test_too_many_members(tmp_path: Path, good: Path) -> None:
    extra = {f"xl/media/p{i}.xml": b"<a/>" for i in range(40)}
    path = rewrite(good, tmp_path / "many.xlsx", {}, extra)
    assert rejected(path, dataclasses.replace(LIMITS, max_members=30)) == ("file-too-large", "")


def test_member_larger_than_declared_is_caught_while_streaming(tmp_path: Path, good: Path) -> None:
    """A lying local header: the streamed size is checked, not only the declared one."""
    path = tmp_path / "liar.xlsx"
    rewrite(good, path, {}, {"xl/media/pad.xml": b"<a>" + b"x" * 300_000 + b"</a>"})
    data = bytearray(path.read_bytes())
    # patch the central-directory uncompressed size of the last member to a tiny number
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    code, _ = rejected(path)
    assert code in ("file-too-large", "file-corrupt")


def test_cell_far_away_is_bounded_before_calamine(tmp_path: Path, good: Path) -> None:
    far = b'<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>'
    path = rewrite(good, tmp_path / "far.xlsx", {SHEET: lambda d: d.replace(b"</sheetData>", far)})
    assert rejected(path) == ("file-too-many-cells", "DanhSach")


def test_wrong_dimension_tag_is_not_trusted(tmp_path: Path, good: Path) -> None:
    for ref in (b"A1:XFD1048576", b"A1:B2"):
        path = rewrite(
            good,
            tmp_path / "dim.xlsx",
            {SHEET: lambda d, ref=ref: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + ref + b'"', d)},
        )
        c = preflight(path, LIMITS)
        assert c.sheet("DanhSach").max_row < 300  # type: ignore[union-attr]


def test_million_row_sheet(tmp_path: Path, good: Path) -> None:
    rows = b"".join(b'<row r="%d"><c r="A%d" t="n"><v>1</v></c></row>' % (i, i) for i in range(1, 1_048_577))
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + rows
        + b"</sheetData></worksheet>"
    )
    path = rewrite(good, tmp_path / "tall.xlsx", {"xl/worksheets/sheet2.xml": lambda _d: sheet})
    code, _sheet_name = rejected(path)
    assert code in ("file-too-many-cells", "file-too-large")


# ---- cell references however spelt, DTDs anywhere (issue 19: the one-pass scan) -------------

HIDDEN_FAR_CELLS = {  # each spelling python-calamine reads as a cell far away (it aborts or allocates)
    "single-quotes": b"<row r='1048576'><c r='XFD1048576'><v>1</v></c></row>",
    "blanks-around-equals": b'<row r = "1048576"><c r\t=\n"XFD1048576"><v>1</v></c></row>',
    "lower-case-column": b'<row r="30"><c r="xfd30"><v>1</v></c></row>',
    "leading-zeros": b'<row><c r="A0000001048576"><v>1</v></c></row>',
    "nine-digit-row": b'<row><c r="A123456789"><v>1</v></c></row>',
    "five-letter-column": b'<row><c r="AAAAA30"><v>1</v></c></row>',
}


@pytest.mark.parametrize("cells", list(HIDDEN_FAR_CELLS.values()), ids=list(HIDDEN_FAR_CELLS))
def test_far_cell_however_spelt_is_bounded(tmp_path: Path, good: Path, cells: bytes) -> None:
    path = rewrite(good, tmp_path / "far.xlsx", {SHEET: lambda d: d.replace(b"</sheetData>", cells + b"</sheetData>")})
    assert rejected(path) == ("file-too-many-cells", "DanhSach")


def test_far_cell_in_a_sheet_part_not_named_xml_is_bounded(tmp_path: Path, good: Path) -> None:
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    path = tmp_path / "bin.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            name, data = info.filename, zin.read(info.filename)
            if name == SHEET:
                name, data = SHEET.replace(".xml", ".bin"), data.replace(b"</sheetData>", far)
            elif name == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"worksheets/sheet1.xml", b"worksheets/sheet1.bin")
            zout.writestr(name, data)
    assert rejected(path) == ("file-too-many-cells", "DanhSach")


@pytest.mark.parametrize(
    ("target", "member"),
    [
        (b"./worksheets/sheet1.xml", "xl/./worksheets/sheet1.xml"),
        (b"worksheets//sheet1.xml", "xl/worksheets//sheet1.xml"),
        (b"../xl/worksheets/sheet1.xml", "xl/../xl/worksheets/sheet1.xml"),
    ],
    ids=["dot", "double-slash", "dot-dot"],
)
def test_far_cell_in_a_sheet_part_spelt_otherwise_is_bounded(
    tmp_path: Path, good: Path, target: bytes, member: str
) -> None:
    """The target names the sheet part in another spelling; python-calamine opens the member
    spelt as the target (the far cell), not the sheet1.xml beside it."""
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    path = tmp_path / "alias.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b'"worksheets/sheet1.xml"', b'"' + target + b'"')
            zout.writestr(info.filename, data)
            if info.filename == SHEET:
                zout.writestr(member, data.replace(b"</sheetData>", far))
    assert rejected(path) == ("file-too-many-cells", "DanhSach")


def test_sheets_sharing_a_part_share_its_bounds(tmp_path: Path, good: Path) -> None:
    def alias(d: bytes) -> bytes:  # a second sheet entry on DanhSach's part
        return re.sub(
            rb"(<sheet [^>]*?name=\"DanhSach\"[^>]*?/>)",
            lambda m: (
                m.group(1)
                + m.group(1).replace(b'name="DanhSach"', b'name="Alias"').replace(b'sheetId="', b'sheetId="9')
            ),
            d,
        )

    path = rewrite(good, tmp_path / "alias.xlsx", {"xl/workbook.xml": alias})
    c = preflight(path, LIMITS)
    first, second = c.sheet("DanhSach"), c.sheet("Alias")
    assert first is not None and second is not None and first.part == second.part
    assert (second.max_row, second.max_col, second.formulas) == (first.max_row, first.max_col, first.formulas)
    assert first.max_row >= 17


@pytest.mark.parametrize(
    "padding",
    [b" " * 70_000, b"<!--" + b"x" * 5000 + b"-->", b" " * (65_536 - 21 - 4)],
    ids=["past-the-first-chunk", "after-a-comment", "across-two-chunks"],
)
@pytest.mark.parametrize("member", [SHEET, "xl/styles.xml"])
def test_dtd_after_padding_is_unsafe(tmp_path: Path, good: Path, padding: bytes, member: str) -> None:
    def inject(d: bytes) -> bytes:
        body = re.sub(rb"^<\?xml[^>]*\?>", b"", d)
        return b'<?xml version="1.0"?>' + padding + b'<!DOCTYPE r SYSTEM "file:///etc/passwd">' + body

    path = rewrite(good, tmp_path / "dtd.xlsx", {member: inject})
    assert rejected(path) == ("file-unsafe-xml", "")


def _scan(data: bytes, fast: bool, start: tuple[int, int] = (0, 0), pieces: int = 1) -> tuple[int, int, set[str]]:
    from danhgia_batch.read.preflight import SheetInfo, _scan_cells, scan_cells_exact

    s = SheetInfo("x", "x", max_row=start[0], max_col=start[1])
    step = max(1, len(data) // pieces)
    for i in range(0, max(len(data), 1), step):
        (_scan_cells if fast else scan_cells_exact)(data[i : i + step], s)
    return s.max_row, s.max_col, s.formulas


def test_fast_scan_of_a_real_sheet_equals_the_reference(good: Path, fill_template: Callable[..., Path]) -> None:
    from helpers import valid_row

    big = fill_template("02", [valid_row(person_code=f"F{i}") for i in range(150)])
    for path in (good, big):
        with zipfile.ZipFile(path) as z:
            data = z.read(SHEET)
        expected = _scan(data, fast=False)
        assert expected[0] >= 17 and expected[1] >= 10 and {"L17", "R17"} <= expected[2]
        assert _scan(data, fast=True) == expected
        # cut where the reader cuts (after a closing tag), the pieces give the same
        cut = data.rfind(b"</", 0, len(data) // 2)
        cut = data.find(b">", cut) + 1
        s_fast = _scan(data[:cut], fast=True)
        s_fast = _scan(data[cut:], fast=True, start=s_fast[:2])[:2], s_fast[2] | _scan(data[cut:], fast=True)[2]
        assert (s_fast[0], s_fast[1]) == (expected[:2], expected[2])


_FRAGMENTS = (  # "|"-separated pieces of worksheet XML, odd spellings included
    b'<c r="|<c r=\'|r = "|r\t="|r=|"|\'|<row r="|<row>|</row>|A|W|x|XFD|ZZ|AAAAA|0|1|2|9|21|216|1048576'
    b'|>|<| |\n|<f>|<f/>|<f |<x:f>|<xf>|</f>|<v>1</v>|</c>| s="3"| t="s"|header="0.3"'
    b"|\t|<F>|<f\t|<abcdefgh:f>|<abcdefghi:f>|<a<b:f/>|<:f>|x:f>|r:f"
    b'|<dimension ref="A1:W216"/>|<dimension ref="A1:B2"/>'
).split(b"|")


_CELLS = st.tuples(  # a reference attribute, ordinary or odd, and what follows it
    st.sampled_from([b'<c r="', b"<c r='", b'<c r = "', b'<row r="', b' r="', b'r="', b"<c\tr=\n'"]),
    st.sampled_from([b"", b"A", b"W", b"X", b"Y", b"Z", b"w", b"x", b"z", b"AZ", b"BA", b"XFD", b"ZZ", b"AAAAA"]),
    st.one_of(st.integers(0, 999), st.integers(0, 10**9)).map(lambda n: str(n).encode()) | st.just(b"007"),
    st.sampled_from([b'"', b"'", b""]),
    st.sampled_from(
        [b">", b"/>", b' s="3">', b"><f>", b">\n<f/>", b"><x:f>", b"><v>1</v></c>", b"<", b' t="s" >\t <f ', b"><ab:f>"]
    ),
).map(b"".join)


@given(
    parts=st.lists(_CELLS | st.sampled_from(_FRAGMENTS), max_size=12) | st.lists(_CELLS, max_size=40),
    start=st.tuples(st.integers(0, 300), st.integers(0, 40)),
)
@example(parts=[b'<c r="Z1">', b'<c r="Y1">'], start=(0, 0))  # a column after the candidate's
@example(parts=[b'<c r="AZ1">', b'<c r="BA1">', b'<c r="AY1">'], start=(0, 0))
@example(parts=[b'<c r="Bz1">', b'<c r="AB1">'], start=(0, 0))
@example(parts=[b'<c r="aC1">', b'<c r="AB1">'], start=(0, 0))
@example(parts=[b'<c r="A1216">', b'<c r="A216">'], start=(0, 0))  # one digit more, smaller prefix
@example(parts=[b'<c r="A219">', b'<c r="A216">', b'<c r="A209">'], start=(0, 0))
@example(parts=[b'<c r="A30">', b"<c r='B40'>", b'<c r="C5">'], start=(0, 0))
@hsettings(max_examples=1000, deadline=None)
def test_fast_scan_equals_the_reference_on_any_bytes(parts: list[bytes], start: tuple[int, int]) -> None:
    data = b"".join(parts)
    assert _scan(data, fast=True, start=start) == _scan(data, fast=False, start=start)


def test_the_bytes_the_preflight_checked_are_the_bytes_read(
    fill_template: Callable[..., Path], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A usual file is checked in memory; calamine (and the error workbook's openpyxl) parse
    those bytes, not the file again, which may have been swapped for an unchecked one since."""
    from danhgia_batch.read import form as form_mod

    checked = fill_template("02", [valid_row(person_code="PNV001")])
    swapped = fill_template("02", [valid_row(person_code="PNV777", full_name="Người khác")])
    path = settings.workdir / "ds.xlsx"
    shutil.copy(checked, path)
    real = form_mod.preflight

    def swap_once_checked(p: Path, limits: Any) -> Any:
        container = real(p, limits)
        shutil.copy(swapped, p)
        return container

    monkeypatch.setattr(form_mod, "preflight", swap_once_checked)
    form = form_mod.read_form_here(path, settings)
    assert [r.person_code for r in form.rows] == ["PNV001"]


def _members_read_by_zipfile(data: bytes) -> dict[str, bytes | str]:
    """What zipfile gives for each member of ``data``: its bytes, or the error's name."""
    import io

    out: dict[str, bytes | str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            try:
                out[info.filename] = zf.read(info)
            except Exception as exc:
                out[info.filename] = type(exc).__name__
    return out


def _mutations(data: bytes, rng: Any) -> list[bytes]:
    """Copies of the zip ``data`` with one member's local header, data or central entry hurt."""
    import struct

    out = []
    cds = [m.start() for m in re.finditer(rb"PK\x01\x02", data)]
    locals_ = [m.start() for m in re.finditer(rb"PK\x03\x04", data)]
    utf8 = [at for at in locals_ if struct.unpack_from("<H", data, at + 6)[0] & 0x800] or locals_
    for _ in range(160):
        b = bytearray(data)
        how = rng.randrange(8)
        lh = rng.choice(locals_)
        cd = rng.choice(cds)
        if how == 0:  # a byte of a member's compressed data
            name_len, extra_len = struct.unpack_from("<HH", b, lh + 26)
            at = lh + 30 + name_len + extra_len + rng.randrange(8)
            b[at] ^= 1 << rng.randrange(8)
        elif how == 1:  # the CRC in the directory
            b[cd + 16 + rng.randrange(4)] ^= 1 << rng.randrange(8)
        elif how == 2:  # a letter of the name in the local header
            b[lh + 30] ^= 0x20
        elif how == 3:  # a flag bit (encryption, patched data, strong encryption, ...)
            b[cd + 8] |= rng.choice([0x01, 0x20, 0x40, 0x10])
        elif how == 4:  # the method in the directory (stored, bzip2, lzma, unknown)
            struct.pack_into("<H", b, cd + 10, rng.choice([0, 12, 14, 99]))
        elif how == 5:  # the declared compressed or uncompressed size
            struct.pack_into("<I", b, cd + rng.choice([20, 24]), rng.randrange(1, 4000))
        elif how == 6:  # the local header's extra-field length
            struct.pack_into("<H", b, lh + 28, rng.randrange(1, 64))
        else:  # the local header's UTF-8 flag, on a member whose name is not ASCII
            b[rng.choice(utf8) + 7] ^= 0x08
        out.append(bytes(b))
    return out


def test_a_member_read_in_memory_is_what_zipfile_reads(tmp_path: Path, good: Path) -> None:
    """The pre-flight inflates the members of an in-memory zip itself (issue 19): it must
    give zipfile's bytes, or step aside (``None``) for zipfile to read or refuse the member.
    Oracle: zipfile, over one-field mutations of every kind of a real template's zip (with a
    member named in Vietnamese: its local header's UTF-8 flag decides how zipfile reads it)."""
    import io
    import random

    from danhgia_batch.read.preflight import _inflate_clean

    data = rewrite(good, tmp_path / "named.xlsx", {}, {"xl/media/ảnh_đơn_vị.xml": b"<a/>"}).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:  # the plain case is taken, not left to zipfile
        assert all(_inflate_clean(data, i) == zf.read(i) for i in zf.infolist())
    rng = random.Random(19)
    taken = stepped_aside = 0
    for hurt in _mutations(data, rng):
        try:
            infos = zipfile.ZipFile(io.BytesIO(hurt)).infolist()
        except zipfile.BadZipFile:
            continue
        by_zipfile = _members_read_by_zipfile(hurt)
        for info in infos:
            mine = _inflate_clean(hurt, info)
            if mine is None:
                stepped_aside += 1
            else:
                taken += 1
                assert mine == by_zipfile[info.filename], info.filename
    assert taken and stepped_aside  # both ways were exercised


def test_the_preflight_decides_as_with_zipfile_alone(
    tmp_path: Path, good: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same verdict (sheets, bounds, formulas, or the rejection) with the members inflated
    in memory as with zipfile reading every one of them."""
    import random

    from danhgia_batch.read import preflight as pf

    def outcome(path: Path) -> object:
        try:
            c = preflight(path, LIMITS)
        except Rejected as rej:
            return (rej.issue.code, rej.issue.message)
        return [(s.name, s.part, s.max_row, s.max_col, sorted(s.formulas)) for s in c.sheets], c.defined_names

    rng = random.Random(335)
    hurts = [good.read_bytes(), *_mutations(good.read_bytes(), rng)[:60]]
    fast = []
    for n, data in enumerate(hurts):
        (tmp_path / f"{n}.xlsx").write_bytes(data)
        fast.append(outcome(tmp_path / f"{n}.xlsx"))
    monkeypatch.setattr(pf, "_inflate_clean", lambda content, info: None)
    assert [outcome(tmp_path / f"{n}.xlsx") for n in range(len(hurts))] == fast
    assert any(isinstance(o, tuple) and o[0] == "file-corrupt" for o in fast)  # some were refused
