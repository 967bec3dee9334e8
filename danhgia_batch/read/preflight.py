"""Pre-flight check of an untrusted ``.xlsx`` container, before any spreadsheet parser sees it.

Everything here is plain :mod:`zipfile` reading with hard caps, so a crafted file is turned
into an :class:`~danhgia_batch.issues.Issue` instead of exhausting memory: declared and
streamed uncompressed sizes, member count, compression ratio, legacy/foreign formats
(``.xls``, encrypted OOXML, ODS, CSV, HTML), macros, Strict Open XML, DTDs/entities in any
XML part (billion laughs, XXE; searched in the whole part) and the used range of every
worksheet (a cell at XFD1048576 would make python-calamine allocate the whole grid and abort;
every ``r`` attribute counts, however spelt: quotes, blanks, case, leading zeros; a sheet
part is scanned whatever its name). The worksheet scan is two regex passes per piece (formulas,
bounds) in the usual case (:func:`_scan_cells`) and gives the same as the reference scan
:func:`scan_cells_exact` in every case (a property test).

The scan also collects what the reader needs from the raw XML: the sheets with their part
names and visibility, the defined names, the 1904 date flag and the cells that hold a formula
(calamine does not tell formulas from constants; SPEC §8: a typed-over total is an issue).
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from .. import layout
from ..issues import Issue, make_issue
from ..settings import ReaderSettings

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
STRICT_NS = b"http://purl.oclc.org/ooxml/"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CHUNK = 1 << 16
RATIO_MIN_BYTES = 1 << 20  # compression ratio is only meaningful for large members
IN_MEMORY = 4 << 20  # a file up to this size is read into memory once, then checked there

# Cell references as python-calamine reads them: an ``r`` attribute (either quote, blanks
# around ``=``) holding letters (either case) then digits. No blank is required before ``r``,
# so a crafted separator (tab, newline) cannot hide a cell from the bound check; no length is
# capped, so leading zeros or a fifth letter cannot hide one either. A row counts when its
# digits close the value; a column when digits follow its letters.
_ATTR = rb"""r\s*+=\s*+["']"""
# Every attribute is judged on its own (the value is looked at, not consumed).
_REF_RE = re.compile(_ATTR + rb"""(?=([A-Za-z]*+)([0-9]*+)(["']?))""")
# A cell whose tag is directly followed by an <f> element: every reference attribute is
# judged on its own, as for the bounds.
_FORMULA_TAIL = rb"""[^<>]*+>\s*+<(?:[A-Za-z]{1,8}:)?+f[\s>/]"""
_FORMULA_REF = rb"""(?=([A-Za-z]++[0-9]++)["']""" + _FORMULA_TAIL + rb")"
_FORMULA_RE = re.compile(_ATTR + _FORMULA_REF)
_DTD_RE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
DTD_OVERLAP = 8  # a DOCTYPE/ENTITY split across two chunks is still seen

# The fast path of the scan (same results, see _scan_cells): candidates from the ordinary
# spelling r="A1" and the <dimension> tag (a hint, never trusted).
_STD_REF_RE = re.compile(rb'r="([A-Z]++)([0-9]++)"')
_DIMENSION_RE = re.compile(rb'<dimension ref="[A-Z]++[0-9]++:([A-Z]++)[0-9]++"')


class Rejected(Exception):
    """Pre-flight rejection carrying its issue (internal to this module and the reader)."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.code)
        self.issue = issue


@dataclass
class SheetInfo:
    """A worksheet of the workbook: name, zip part, visibility, used range and formula cells."""

    name: str
    part: str
    state: str = "visible"
    max_row: int = 0
    max_col: int = 0
    formulas: set[str] = field(default_factory=set)


@dataclass
class Container:
    """What the pre-flight learnt about a workbook that passed."""

    sheets: list[SheetInfo] = field(default_factory=list)
    defined_names: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (sheet, A1)
    date1904: bool = False
    # the bytes checked, for a usual file read into memory: what the reading library must parse
    # (the file on the disk may have changed since; None for a larger file, checked on the disk)
    content: bytes | None = field(default=None, repr=False)

    def sheet(self, name: str) -> SheetInfo | None:
        for s in self.sheets:
            if s.name == name:
                return s
        return None


def col_number(letters: str | bytes) -> int:
    """``"A"`` → 1, ``"XFD"`` → 16384."""
    text = letters.decode() if isinstance(letters, bytes) else letters
    n = 0
    for ch in text.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.0f} MB"


def _reject(code: str, **params: object) -> Rejected:
    return Rejected(make_issue(code, **params))  # type: ignore[arg-type]


def _sniff_foreign(head: bytes) -> Rejected:
    """Classify a file that is not a zip: HTML, CSV/text, zero-filled or garbage."""
    if not head.strip(b"\x00"):
        return _reject("file-corrupt", detail="nội dung toàn byte 0")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) or b"<html" in text[:512]:
        what = "tệp HTML/XML đổi tên thành .xlsx" if not text.startswith(b"<?xml") else "tệp XML đổi tên thành .xlsx"
        return _reject("file-not-xlsx", detail=what)
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            decoded = head.decode("utf-16")
        except UnicodeDecodeError:
            decoded = ""
    if decoded and sum(ch.isprintable() or ch in "\r\n\t" for ch in decoded) >= 0.95 * len(decoded):
        return _reject("file-not-xlsx", detail="tệp văn bản/CSV đổi tên thành .xlsx")
    return _reject("file-corrupt", detail="không phải tệp Excel .xlsx (không phải tệp nén zip)")


def _check_ole2(path: Path, limit: int) -> Rejected:
    with path.open("rb") as fh:
        data = fh.read(limit)
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        return _reject("file-encrypted")
    return _reject("file-not-xlsx", detail="tệp Excel 97-2003 (.xls)")


ONE_READ = 1 << 20  # a member up to this size (uncompressed) is read whole, then checked


class _Members:
    """The members of an open zip, read under one uncompressed budget (``[remaining, cap]``),
    each at most once: a part looked at twice (the content types, the relationships) is
    kept from its first read."""

    def __init__(
        self, zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], cap: int, content: bytes | None = None
    ) -> None:
        self.zf = zf
        self.infos = infos
        self.content = content  # the zip's bytes when it was read into memory
        self.budget = [cap, cap]
        self._kept: dict[str, bytes] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.infos

    def read(self, name: str) -> bytes:
        """The bytes of member ``name`` (checked for a DTD, counted against the budget)."""
        if name not in self._kept:
            self._kept[name] = _read_member(self.zf, self.infos[name], self.budget, None, self.content)
        return self._kept[name]

    def check(self, name: str, scan: SheetInfo | None) -> None:
        """Check member ``name`` unless :meth:`read` did (its bytes are not kept), scanning its
        cells into ``scan`` if given."""
        if scan is None and name in self._kept:
            return
        _read_member(self.zf, self.infos[name], self.budget, scan, self.content)


def _read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int], scan: SheetInfo | None, content: bytes | None = None
) -> bytes:
    """Read a member with caps; for worksheets scan cells instead of keeping the text.

    ``budget`` is ``[remaining, cap]`` of the uncompressed allowance, shared by all members.
    A member of at most :data:`ONE_READ` declared bytes is read whole (zipfile never gives
    more than the declared size, already counted against the cap by :func:`_check_members`);
    a larger one is streamed in chunks, each searched for a DTD (a prolog may be padded past
    the first chunk). Returns the member's bytes (nothing for worksheets).
    """
    try:
        if info.file_size <= ONE_READ:
            return _read_whole(zf, info, budget, scan, content)
        return _read_streamed(zf, info, budget, scan)
    except Rejected:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise _reject("file-corrupt", detail=f"phần {info.filename}: {type(exc).__name__}") from exc
    except Exception as exc:  # zlib.error and other decompressor failures
        raise _reject("file-corrupt", detail=f"phần {info.filename}: {type(exc).__name__}") from exc


def _over_budget(info: zipfile.ZipInfo, budget: list[int]) -> Rejected:
    detail = f"phần {info.filename} giải nén lớn hơn khai báo hoặc vượt giới hạn"
    return _reject("file-too-large", detail=detail, limit=_mb(budget[1]))


def _read_whole(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int], scan: SheetInfo | None, content: bytes | None
) -> bytes:
    data = _inflate_clean(content, info) if content is not None else None
    if data is None:
        data = zf.read(info)
    budget[0] -= len(data)
    if budget[0] < 0 or len(data) > info.file_size + CHUNK:
        raise _over_budget(info, budget)
    if _has_dtd(data):
        raise _reject("file-unsafe-xml", detail=f"DOCTYPE/ENTITY trong {info.filename}")
    if scan is None:
        return data
    if data:  # a whole part is a piece that ends at a tag's end or at the part's end
        _scan_cells(data, scan)
    return b""


# a local file header: signature, flags, then the name's and the extra field's lengths
_LOCAL_HEADER = struct.Struct("<4s2xH18xHH")
_PLAIN_FLAGS = 0x800 | 0x8 | 0x6  # UTF-8 name, data descriptor, deflate options: nothing else


def _inflate_clean(content: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """Member ``info`` of the in-memory zip ``content``, inflated with zlib directly (a
    fraction of zipfile's per-member cost, issue 19), or ``None`` to let zipfile read it.

    Only the plain case is taken here: stored or deflated, no flag beyond UTF-8 names, a data
    descriptor and deflate options; a local header whose name is the directory's; exactly the
    declared size and CRC, and the end of the deflate stream. Anything else (encryption, other
    methods, a truncated, padded or corrupt member) is zipfile's to read, or to refuse.
    """
    if info.flag_bits & ~_PLAIN_FLAGS or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    at = info.header_offset
    if at < 0 or at + _LOCAL_HEADER.size > len(content):
        return None
    sig, local_flags, name_len, extra_len = _LOCAL_HEADER.unpack_from(content, at)
    name = content[at + _LOCAL_HEADER.size : at + _LOCAL_HEADER.size + name_len]
    try:  # decoded as zipfile decodes it: by the local header's own UTF-8 flag
        local_name = name.decode("utf-8" if local_flags & 0x800 else "cp437")
    except UnicodeDecodeError:
        return None
    if sig != b"PK\x03\x04" or local_name != info.orig_filename:
        return None
    start = at + _LOCAL_HEADER.size + name_len + extra_len
    raw = content[start : start + info.compress_size]
    if len(raw) != info.compress_size:
        return None
    if info.compress_type == zipfile.ZIP_STORED:
        data = raw
    else:
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(raw, info.file_size + 1)
        except zlib.error:
            return None
        if not inflater.eof:
            return None
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        return None
    return data


def _read_streamed(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int], scan: SheetInfo | None) -> bytes:
    out: list[bytes] = []
    carry = b""
    tail = b""  # the end of the previous chunk, for a DOCTYPE split across two
    total = 0
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            total += len(chunk)
            budget[0] -= len(chunk)
            if budget[0] < 0 or total > info.file_size + CHUNK:
                raise _over_budget(info, budget)
            if _has_dtd(tail + chunk[:DTD_OVERLAP]) or _has_dtd(chunk):
                raise _reject("file-unsafe-xml", detail=f"DOCTYPE/ENTITY trong {info.filename}")
            tail = chunk[-DTD_OVERLAP:]
            if scan is None:
                out.append(chunk)
                continue
            data = carry + chunk
            # cut after the last closing tag: never inside a tag, never between <c> and its <f>
            last = data.rfind(b"</")
            cut = data.find(b">", last) + 1 if last >= 0 else 0
            if cut:
                _scan_cells(data[:cut], scan)
            carry = data[cut:]
            if len(carry) > 4 * CHUNK:  # no closing tag for long: scan all but the tail
                _scan_cells(carry[:-CHUNK], scan)
                carry = carry[-CHUNK:]
    if scan is not None:
        if carry:  # (an empty piece changes nothing)
            _scan_cells(carry, scan)
        return b""
    return b"".join(out)


def _has_dtd(data: bytes) -> bool:
    """A ``<!DOCTYPE`` or ``<!ENTITY`` (any case) in ``data``; most parts hold no ``<!`` at all."""
    return b"<!" in data and _DTD_RE.search(data) is not None


CANDIDATE_TRIES = 64  # ordinary references looked for from the end of a piece
MAX_ROW_DIGITS = 9  # a row of more digits counts as 10**9 (beyond any limit, no huge int)
MAX_COL_LETTERS = 6  # a column of more letters counts as 26**6


def _row_value(digits: bytes) -> int:
    digits = digits.lstrip(b"0")
    return int(digits or b"0") if len(digits) <= MAX_ROW_DIGITS else 10**MAX_ROW_DIGITS


def _col_value(letters: bytes) -> int:
    return col_number(letters) if len(letters) <= MAX_COL_LETTERS else 26**MAX_COL_LETTERS


def scan_cells_exact(data: bytes, scan: SheetInfo) -> None:
    """The reference scan of a piece of a worksheet: every ``r`` attribute however spelt.

    Raises ``scan.max_row``/``scan.max_col`` to the largest row and column referenced and adds
    the references of the cells holding an ``<f>``. :func:`_scan_cells` gives the same results
    faster; this one is its fallback (odd spellings, references out of order) and its oracle.
    """
    _exact_bounds(data, scan)
    _exact_formulas(data, scan)


def _exact_bounds(data: bytes, scan: SheetInfo) -> None:
    refs = _REF_RE.findall(data)
    if refs:
        letters, digits, quotes = zip(*refs, strict=True)
        cols = {a.upper() for a, d in zip(letters, digits, strict=True) if a and d}
        rows = {d.lstrip(b"0") for d, q in zip(digits, quotes, strict=True) if d and q}
        if cols:
            scan.max_col = max(scan.max_col, _col_value(max(cols, key=lambda x: (len(x), x))))
        if rows:
            scan.max_row = max(scan.max_row, _row_value(max(rows, key=lambda x: (len(x), x))))


def _exact_formulas(data: bytes, scan: SheetInfo) -> None:
    _add_formulas(_FORMULA_RE.findall(data), scan)


def _add_formulas(refs: list[bytes], scan: SheetInfo) -> None:
    if refs:
        scan.formulas.update(b" ".join(refs).decode().upper().split())


_F_TAG_RE = re.compile(rb"<(?:[A-Za-z]{1,8}:)?+f[\s>/]")  # the end of _FORMULA_RE
_BLANKS = frozenset(b" \t\n\r\f\v")  # what ``\s`` matches in a bytes pattern


def _formulas(data: bytes, scan: SheetInfo) -> None:
    """:func:`_exact_formulas`, found from the ``<f>`` tags instead of every reference.

    A reference of :data:`_FORMULA_RE` ends its tag (nothing but blanks between the tag's
    ``>`` and the ``<f>``), and neither it nor the rest of its tag holds ``<`` or ``>``: the
    regex is run only over each such tag, from the last ``<`` or ``>`` before the tag's end to
    the end of the ``<f>``, which finds every reference it finds over the whole piece (no match
    spans a ``<`` or ``>``), and nothing else. A sheet without formulas costs two searches.
    """
    starts = set()
    at = data.find(b"<f")
    while at >= 0:
        starts.add(at)
        at = data.find(b"<f", at + 2)
    at = data.find(b":f")
    while at >= 0:  # <x:f>: the "<" is the nearest one before, at most 8 letters back
        starts.add(data.rfind(b"<", max(0, at - 9), at))
        at = data.find(b":f", at + 2)
    refs: list[bytes] = []
    for q in sorted(starts):
        tag = _F_TAG_RE.match(data, q) if q >= 0 else None
        if tag is None:
            continue
        g = q - 1
        while g >= 0 and data[g] in _BLANKS:
            g -= 1
        if g < 0 or data[g] != 0x3E:  # ">"
            continue
        begin = max(data.rfind(b"<", 0, g), data.rfind(b">", 0, g)) + 1
        refs += _FORMULA_RE.findall(data, begin, tag.end())
    _add_formulas(refs, scan)


def _scan_cells(data: bytes, scan: SheetInfo) -> None:
    """:func:`scan_cells_exact`, fast in the usual case, the same results in every case.

    The largest column and row so far, the piece's last ordinary reference ``r="W216"`` and
    the ``<dimension>`` tag give a candidate column and row. One pass (:func:`_bounds_re`)
    then looks at every reference attribute however spelt: one beyond the candidate column or
    the candidate row's bucket (same number of digits, same first two) sends the piece to the
    reference scan; otherwise it yields the rows of the bucket. The column is the candidate's
    if attained, the row the largest of the bucket. Formula cells: the reference regex, run
    over the tags that an ``<f>`` follows (:func:`_formulas`).
    """
    _formulas(data, scan)
    col, row, hint = _candidate(data, scan)
    if not row:
        _exact_bounds(data, scan)
        return
    digits = str(row)
    k, p = len(digits), digits[:2]
    found = _bounds_re(col, k, p).findall(data)
    if found:
        beyond, bucket = zip(*found, strict=True)
        if any(beyond):
            _exact_bounds(data, scan)
            return
        scan.max_row = max(scan.max_row, int(max(bucket)))
    if hint and not _attained_re(col).search(data):
        _exact_bounds(data, scan)
        return
    scan.max_col = max(scan.max_col, col_number(col))


def _candidate(data: bytes, scan: SheetInfo) -> tuple[bytes, int, bool]:
    """Column and row candidates: the maxima so far, the piece's last ordinary reference
    (attained) and, for the column, the ``<dimension>`` tag (``hint``: attainment unknown)."""
    col = col_letter_bytes(scan.max_col)
    row = scan.max_row
    end = len(data)
    for _ in range(CANDIDATE_TRIES):
        at = data.rfind(b'r="', 0, end)
        if at < 0:
            break
        m = _STD_REF_RE.match(data, at)
        if m:
            letters, digits = m.group(1), m.group(2)
            if (len(letters), letters) > (len(col), col) and len(letters) <= MAX_COL_LETTERS:
                col = letters
            if len(digits) <= MAX_ROW_DIGITS:
                row = max(row, int(digits))
            break
        end = at
    hint = False
    if not scan.max_col and (dim := _DIMENSION_RE.search(data, 0, 4096)):
        letters = dim.group(1)
        if (len(letters), letters) > (len(col), col) and len(letters) <= MAX_COL_LETTERS:
            col, hint = letters, True
    return col, row, hint


def col_letter_bytes(col: int) -> bytes:
    """16384 → ``b"XFD"``; 0 → ``b""``."""
    out = b""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = bytes((65 + rem,)) + out
    return out


def _either_case(lo: int, hi: int) -> bytes:
    """A character class of the letters ``lo``..``hi`` (ASCII codes of capitals), both cases."""
    return b"[%c-%c%c-%c]" % (lo, hi, lo + 32, hi + 32)


def _beyond(col: bytes, k: int, p: str) -> bytes:
    """A reference value (after ``r="``) with a column after ``col`` or a row of more than
    ``k`` significant digits or of ``k`` digits starting above ``p`` (its first digits). A
    superset of the values beyond the candidates: a false alarm costs the reference scan."""
    alts = [b"[A-Za-z]{%d,}+[0-9]" % (len(col) + 1)] if col else [b"[A-Za-z]++[0-9]"]
    for i, ch in enumerate(col):  # same length, greater at letter i
        if ch < ord("Z"):
            same = b"".join(b"[%c%c]" % (c, c + 32) for c in col[:i])
            rest = b"[A-Za-z]{%d}" % (len(col) - i - 1)
            alts.append(same + _either_case(ch + 1, ord("Z")) + rest + b"[0-9]")
    rows = [b"[1-9][0-9]{%d}" % k]
    for i, digit in enumerate(p):  # same length, greater at digit i
        if digit < "9":
            rows.append(p[:i].encode() + b"[%d-9][0-9]{%d}" % (int(digit) + 1, k - i - 1))
    alts.append(b"[A-Za-z]*+0*+(?:" + b"|".join(rows) + b")")
    return b"|".join(alts)


@functools.lru_cache(maxsize=512)
def _bounds_re(col: bytes, k: int, p: str) -> re.Pattern[bytes]:
    """At each reference attribute: (beyond the candidates) or (a row of the bucket: ``k``
    significant digits starting with ``p``, counted as the reference scan counts rows)."""
    bucket = rb"""(?=[A-Za-z]*+0*+(%s[0-9]{%d})["'])""" % (p.encode(), k - len(p))
    return re.compile(_ATTR + b"(?:(?=(" + _beyond(col, k, p) + b"))|" + bucket + b")")


@functools.lru_cache(maxsize=512)
def _attained_re(col: bytes) -> re.Pattern[bytes]:
    """A cell of column ``col`` (either case)."""
    return re.compile(_ATTR + b"".join(b"[%c%c]" % (c, c + 32) for c in col) + b"[0-9]")


def _forbid_dtd(name: str, sysid: str | None, pubid: str | None, has_internal_subset: bool) -> None:
    raise DTDForbidden(name, sysid, pubid)


def _forbid_entity(
    name: str,
    is_parameter: bool,
    value: str | None,
    base: str | None,
    sysid: str,
    pubid: str | None,
    notation: str | None,
) -> None:
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation)


def _forbid_unparsed_entity(name: str, base: str | None, sysid: str, pubid: str | None, notation: str) -> None:
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation)


def _forbid_external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> int:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


Element = tuple[str, dict[str, str], str]  # (what ``keep`` called it, attributes, text)


def _parse_xml(data: bytes, part: str, keep: Callable[[list[str]], str] | None = None) -> list[Element]:
    """Parse an XML part as defusedxml's ``fromstring(forbid_dtd=True, forbid_entities=True,
    forbid_external=True)`` does, without building its tree; return the elements ``keep``
    names (a non-empty name) from their path of tags, in document order.

    The parser is the one defusedxml configures (expat, namespace separator ``}``, the same
    handlers raising defusedxml's exceptions at a DTD, an entity declaration or an external
    reference), so the same parts pass and fail the same way; only the tree (pure-Python
    callbacks for every element) is left out. Tags and attribute names are expat's
    ``uri}local`` (ElementTree's ``{uri}local`` without the brace); an element's text is
    ElementTree's ``.text``: the character data before its first child (``""`` for none).
    """
    parser = expat.ParserCreate(None, "}")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_unparsed_entity
    parser.ExternalEntityRefHandler = _forbid_external
    found: list[tuple[str, dict[str, str], list[str]]] = []
    if keep is not None:
        path: list[str] = []
        text: list[list[str] | None] = [None]  # the text of the innermost element, until its first child

        def start(tag: str, attrs: dict[str, str]) -> None:
            path.append(tag)
            name = keep(path)
            if name:
                chars: list[str] = []
                found.append((name, attrs, chars))
                text[0] = chars
            else:
                text[0] = None

        def end(tag: str) -> None:
            path.pop()
            text[0] = None

        def characters(chars: str) -> None:
            if text[0] is not None:
                text[0].append(chars)

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except DefusedXmlException as exc:
        raise _reject("file-unsafe-xml", detail=f"{type(exc).__name__} trong {part}") from exc
    except Exception as exc:  # ExpatError: malformed XML
        raise _reject("file-corrupt", detail=f"XML hỏng trong {part}") from exc
    return [(name, attrs, "".join(chars)) for name, attrs, chars in found]


_RELATIONSHIP = f"{PKG_REL_NS}}}Relationship"


def _relationship(path: list[str]) -> str:
    """Every ``Relationship``, at any depth (ElementTree's ``root.iter``)."""
    return "rel" if path[-1] == _RELATIONSHIP else ""


def _rels(members: _Members, part: str) -> dict[str, str]:
    """Relationship id → target part name for ``part`` (empty when the rels part is missing)."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    if rels_name not in members:
        return {}
    return _parse_rels(members.read(rels_name), rels_name, folder)


def _parse_rels(data: bytes, rels_name: str, folder: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for _name, rel, _text in _parse_xml(data, rels_name, _relationship):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = full
    return out


def _workbook_part(members: _Members) -> str:
    for target in _rels(members, "").values():
        if target.endswith(".xml") and "workbook" in posixpath.basename(target).lower():
            return target
    return "xl/workbook.xml"


_DEFINED_RE = re.compile(r"^'?(.+?)'?!\$?([A-Z]{1,3})\$?([0-9]{1,7})$")
_WORKBOOK_PR = f"{MAIN_NS}}}workbookPr"
_SHEETS, _SHEET = f"{MAIN_NS}}}sheets", f"{MAIN_NS}}}sheet"
_DEFINED_NAMES, _DEFINED_NAME = f"{MAIN_NS}}}definedNames", f"{MAIN_NS}}}definedName"
_REL_ID = f"{REL_NS}}}id"


def _workbook_element(path: list[str]) -> str:
    """The root's ``workbookPr``, ``sheets/sheet`` and ``definedNames/definedName``."""
    depth = len(path)
    if depth == 2:
        return "pr" if path[1] == _WORKBOOK_PR else ""
    if depth == 3:
        if path[2] == _SHEET and path[1] == _SHEETS:
            return "sheet"
        if path[2] == _DEFINED_NAME and path[1] == _DEFINED_NAMES:
            return "name"
    return ""


def _parse_workbook(data: bytes, part: str, rels: dict[str, str], container: Container) -> None:
    pr: dict[str, str] | None = None
    for name, attrs, text in _parse_xml(data, part, _workbook_element):
        if name == "sheet":
            target = rels.get(attrs.get(_REL_ID, ""), "")
            container.sheets.append(SheetInfo(attrs.get("name", ""), target, attrs.get("state", "visible")))
        elif name == "name":
            if attrs.get("localSheetId") is not None:
                continue
            m = _DEFINED_RE.match(text.strip().lstrip("="))
            if m:
                sheet = m.group(1).replace("''", "'")
                container.defined_names[attrs.get("name", "")] = (sheet, f"{m.group(2)}{m.group(3)}")
        elif pr is None:  # the first ``workbookPr`` (ElementTree's ``root.find``)
            pr = attrs
    if pr is not None and pr.get("date1904", "0").lower() in ("1", "true"):
        container.date1904 = True


def _open_zip(source: Path | io.BytesIO) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise _reject("file-corrupt", detail="tệp nén bị cắt cụt hoặc hỏng") from exc


def _check_members(zf: zipfile.ZipFile, limits: ReaderSettings) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise _reject("file-too-large", detail=f"{len(infos)} phần trong tệp nén", limit=f"{limits.max_members} phần")
    declared = sum(i.file_size for i in infos)
    cap = limits.max_uncompressed_mb << 20
    if declared > cap:
        raise _reject("file-too-large", detail=f"giải nén {_mb(declared)}", limit=_mb(cap))
    for i in infos:
        if i.file_size > RATIO_MIN_BYTES and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise _reject(
                "file-too-large",
                detail=f"tỷ lệ nén {i.file_size // max(i.compress_size, 1)}:1 ở {i.filename}",
                limit=f"{limits.max_ratio:.0f}:1",
            )
    return {i.filename: i for i in infos}


def _check_kind(members: _Members) -> None:
    if "mimetype" in members:
        mime = members.read("mimetype")[:200]
        if b"opendocument" in mime:
            raise _reject("file-not-xlsx", detail="bảng tính OpenDocument (.ods)")
    if "[Content_Types].xml" not in members:
        raise _reject("file-not-xlsx", detail="tệp nén không phải bảng tính Excel")
    types = members.read("[Content_Types].xml")
    _parse_xml(types, "[Content_Types].xml")
    if any(n.lower().endswith("vbaproject.bin") for n in members.infos) or b"macroEnabled" in types:
        raise _reject("file-macro")
    if b"wordprocessingml" in types and b"spreadsheetml" not in types:
        raise _reject("file-not-xlsx", detail="tài liệu Word (.docx)")
    if b"presentationml" in types and b"spreadsheetml" not in types:
        raise _reject("file-not-xlsx", detail="tài liệu PowerPoint (.pptx)")


REGISTRY_SHEETS = (layout.SHEET_UNITS, layout.SHEET_PEOPLE)


def row_limit(sheet: str, limits: ReaderSettings) -> int:
    """Most rows allowed in ``sheet``: ``max_registry_rows`` for the registry's sheets (template
    00 names them, whatever the file turns out to be: :func:`.form.read_form_here` holds other
    kinds to ``max_rows`` once recognised), else ``max_rows``."""
    return max(limits.max_rows, limits.max_registry_rows) if sheet in REGISTRY_SHEETS else limits.max_rows


def registry_rows(container: Container) -> int:
    """Rows of the largest registry sheet of ``container`` (0 when it has none)."""
    return max((s.max_row for s in container.sheets if s.name in REGISTRY_SHEETS), default=0)


def preflight(path: Path, limits: ReaderSettings) -> Container:
    """Check the container of ``path``; return what was learnt, or raise :class:`Rejected`."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            # a usual file is read once: the zip is then checked in memory (no seek nor read
            # per member); a larger one is read from the disk as it is checked
            content: bytes | None = fh.read(IN_MEMORY + 1) if size <= IN_MEMORY else None
            head = fh.read(4096) if content is None else content[:4096]
    except OSError as exc:
        raise _reject("file-corrupt", detail=f"không đọc được tệp: {type(exc).__name__}") from exc
    if content is not None and len(content) > IN_MEMORY:  # it grew since: read from the disk
        content = None
    if size == 0:
        raise _reject("file-empty")
    if size > limits.max_file_mb << 20:
        raise _reject("file-too-large", detail=f"tệp {_mb(size)}", limit=_mb(limits.max_file_mb << 20))
    if head.startswith(OLE2_MAGIC):
        raise _check_ole2(path, limits.max_file_mb << 20)
    if not head.startswith(ZIP_MAGICS):
        raise _sniff_foreign(head)
    with _open_zip(path if content is None else io.BytesIO(content)) as zf:
        container = _scan_zip(zf, limits, content)
    container.content = content
    return container


def _part_key(name: str) -> str:
    """A part name as a reader may resolve it (slashes, dot segments and case folded): every
    member spelt like a sheet's part (``xl/./worksheets/sheet1.xml``, what python-calamine
    opens for the target ``./worksheets/sheet1.xml``) is scanned as that sheet."""
    return posixpath.normpath(name.replace("\\", "/")).lstrip("/").lower()


def _scan_zip(zf: zipfile.ZipFile, limits: ReaderSettings, content: bytes | None = None) -> Container:
    members = _Members(zf, _check_members(zf, limits), limits.max_uncompressed_mb << 20, content)
    _check_kind(members)
    part = _workbook_part(members)
    if part not in members:
        raise _reject("file-corrupt", detail="thiếu phần workbook.xml")
    data = members.read(part)
    if STRICT_NS in data[:2048]:
        raise _reject("file-strict-ooxml")
    container = Container()
    _parse_workbook(data, part, _rels(members, part), container)
    if not container.sheets:
        raise _reject("file-no-sheets")
    by_part: dict[str, SheetInfo] = {}
    for s in container.sheets:
        by_part.setdefault(_part_key(s.part), s)
    for name in members.infos:
        sheet = by_part.get(_part_key(name))  # a sheet part is scanned whatever its name
        if sheet is None and not name.endswith((".xml", ".rels", ".vml")):
            continue
        members.check(name, sheet)
    for s in container.sheets:  # sheets sharing a part share its scan
        first = by_part[_part_key(s.part)]
        if first is not s:
            s.max_row, s.max_col, s.formulas = first.max_row, first.max_col, set(first.formulas)
        if s.part not in members:
            raise _reject("file-corrupt", detail=f"thiếu trang tính {s.name}")
        max_rows = row_limit(s.name, limits)
        if s.max_row > max_rows or s.max_col > limits.max_cols:
            raise _reject(
                "file-too-many-cells",
                sheet=s.name,
                detail=f"{s.max_row} dòng × {s.max_col} cột",
                limit=f"{max_rows} dòng × {limits.max_cols} cột",
            )
    return container
