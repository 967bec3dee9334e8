"""The pre-flight reads its XML parts (package and workbook relationships, the workbook,
content types) with expat directly, as defusedxml's parser configures it, without building
an ElementTree (issue 19): the same parts pass, the same are rejected with the same reason, and
the same sheets, targets, defined names and date system are learnt as with defusedxml's tree
(the reference below, the pre-flight's code before), for any bytes."""

from __future__ import annotations

import posixpath

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from danhgia_batch.read import preflight as P


def _tree(data: bytes, part: str):  # the pre-flight's parser before issue 19's pass
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise P._reject("file-unsafe-xml", detail=f"{type(exc).__name__} trong {part}") from exc
    except Exception as exc:
        raise P._reject("file-corrupt", detail=f"XML hỏng trong {part}") from exc


def _reference_rels(data: bytes, part: str, folder: str) -> dict[str, str]:
    root = _tree(data, part)
    out: dict[str, str] = {}
    for rel in root.iter(f"{{{P.PKG_REL_NS}}}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = full
    return out


def _reference_workbook(data: bytes, part: str, rels: dict[str, str], container: P.Container) -> None:
    root = _tree(data, part)
    ns = {"m": P.MAIN_NS}
    pr = root.find("m:workbookPr", ns)
    if pr is not None and pr.get("date1904", "0").lower() in ("1", "true"):
        container.date1904 = True
    for sh in root.iterfind("m:sheets/m:sheet", ns):
        target = rels.get(sh.get(f"{{{P.REL_NS}}}id", ""), "")
        container.sheets.append(P.SheetInfo(name=sh.get("name", ""), part=target, state=sh.get("state", "visible")))
    for dn in root.iterfind("m:definedNames/m:definedName", ns):
        if dn.get("localSheetId") is not None:
            continue
        m = P._DEFINED_RE.match((dn.text or "").strip().lstrip("="))
        if m:
            container.defined_names[dn.get("name", "")] = (m.group(1).replace("''", "'"), f"{m.group(2)}{m.group(3)}")


def _outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except P.Rejected as rej:
        return ("rejected", rej.issue)


def _workbook_outcome(parse, data: bytes):
    c = P.Container()
    got = _outcome(parse, data, "xl/workbook.xml", {"rId1": "xl/worksheets/sheet1.xml", "rId2": "x.xml"}, c)
    return got, c


_M = P.MAIN_NS.encode()
_R = P.REL_NS.encode()
_PKG = P.PKG_REL_NS.encode()
_XML_FRAGMENTS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
    b'<?xml version="1.0" encoding="ISO-8859-1"?>',
    b"<!DOCTYPE workbook>",
    b'<!DOCTYPE r [<!ENTITY e "x">]>',
    b'<!DOCTYPE r SYSTEM "file:///etc/passwd">',
    b'<!ENTITY e "x">',
    b'<workbook xmlns="' + _M + b'" xmlns:r="' + _R + b'">',
    b'<x:workbook xmlns:x="' + _M + b'" xmlns:r="' + _R + b'">',
    b"<workbook>",
    b"</workbook>",
    b"</x:workbook>",
    b'<Relationships xmlns="' + _PKG + b'">',
    b"</Relationships>",
    b'<Relationship Id="rId1" Target="worksheets/sheet1.xml"/>',
    b'<Relationship Id="rId2" Target="/xl/./a/../b.xml" TargetMode="Internal"/>',
    b'<Relationship Id="rId3" Target="http://x" TargetMode="External"/>',
    b'<Relationship Id="rId1" Target="../c.xml">t<x/></Relationship>',
    b'<workbookPr date1904="1"/>',
    b'<workbookPr date1904="TRUE"/>',
    b'<workbookPr date1904="false"/>',
    b"<workbookPr/>",
    b"<sheets>",
    b"</sheets>",
    b'<sheet name="Phieu" sheetId="1" r:id="rId1"/>',
    b'<sheet name="_meta" state="hidden" r:id="rId2"/>',
    b'<sheet name="A&amp;B" r:id="rId9"/>',
    b'<x:sheet name="X" x:id="rId1"/>',
    b'<sheet name="a" name="b"/>',
    b'<sheet name="a" r:id="rId1" q:id="1"/>',
    b"<definedNames>",
    b"</definedNames>",
    b"<definedName name=\"HO_TEN\">'Phieu'!$C$10</definedName>",
    b'<definedName name="X" localSheetId="0">Phieu!$C$1</definedName>',
    b'<definedName name="Y">Phieu!<!-- c -->$D$4</definedName>',
    b'<definedName name="Z"><![CDATA[=Phieu!A1]]></definedName>',
    b'<definedName name="W">Phieu!B2<b/>!C3</definedName>',
    b'<definedName name="V">&#80;hieu!$E$5</definedName>',
    b'<definedName name="U">&e;</definedName>',
    b"<definedName name=\"T\">'It''s'!A1</definedName>",
    b"<!-- comment -->",
    b"<?pi data?>",
    b"text",
    b" ",
    b"\n",
    b"&amp;",
    b"&",
    b"<",
    b">",
    b"]]>",
    b"<a>",
    b"</a>",
    b"<b/>",
    b"<p:q/>",
    b"\x00",
    b"\xff",
)


_FILLER = (b"", b" ", b"\n", b"x", b"<!-- c -->", b"<?pi d?>", b"<b/>", b"<a>t</a>", b"&amp;", b"&#65;")
_ROOTS = (
    (b'<workbook xmlns="' + _M + b'" xmlns:r="' + _R + b'">', b"</workbook>"),
    (b'<x:workbook xmlns:x="' + _M + b'" xmlns:r="' + _R + b'">', b"</x:workbook>"),
    (b"<workbook>", b"</workbook>"),
)


def _pick(fragments: tuple[bytes, ...] | list[bytes], max_size: int = 5) -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from(fragments), max_size=max_size).map(b"".join)


def _frags(word: bytes) -> list[bytes]:
    return [f for f in _XML_FRAGMENTS if f.startswith(b"<" + word)]


def _xml_docs() -> st.SearchStrategy[bytes]:
    """Any sequence of the fragments (mostly malformed), workbooks and relationship parts."""
    body = st.lists(st.sampled_from(_XML_FRAGMENTS), max_size=14).map(b"".join)
    workbook = st.tuples(
        st.sampled_from([b"", _XML_FRAGMENTS[0]])
        | _pick([f for f in _XML_FRAGMENTS if f.startswith((b"<?xml", b"<!"))], 2),
        st.just(_ROOTS[0]) | st.sampled_from(_ROOTS),
        _pick(_frags(b"workbookPr") + list(_FILLER), 3),
        _pick([b"<sheets>" + x + b"</sheets>" for x in _frags(b"sheet ") + _frags(b"x:sheet")] + list(_FILLER)),
        st.lists(_pick(_frags(b"definedName ") + list(_FILLER)), max_size=2),
        _pick(_FILLER, 2),
    ).map(
        lambda t: (
            t[0]
            + t[1][0]
            + t[2]
            + t[3]
            + b"".join(b"<definedNames>" + x + b"</definedNames>" for x in t[4])
            + t[5]
            + t[1][1]
        )
    )
    rels = st.tuples(
        _pick(_frags(b"Relationship ") + list(_FILLER), 6),
        st.sampled_from([b"", b"<!DOCTYPE r>", b'<?xml version="1.0"?>']),
    ).map(lambda t: t[1] + b'<Relationships xmlns="' + _PKG + b'">' + t[0] + b"</Relationships>")
    docs = body | workbook | rels
    return docs | docs.map(lambda d: d.decode("latin-1").encode("utf-16"))


@given(data=_xml_docs())
@example(
    data=b'<workbook xmlns="'
    + _M
    + b'"><definedNames><definedName name="A">\'P\'!$C$1</definedName></definedNames></workbook>'
)
@hsettings(max_examples=2000, deadline=None)
def test_xml_parts_read_as_defusedxml_reads_them(data: bytes) -> None:
    assert _workbook_outcome(P._parse_workbook, data) == _workbook_outcome(_reference_workbook, data)
    for folder in ("", "xl"):
        part = posixpath.join(folder, "_rels", "x.rels")
        assert _outcome(P._parse_rels, data, part, folder) == _outcome(_reference_rels, data, part, folder)
    assert _verdict(P._parse_xml, data) == _verdict(_tree, data)  # [Content_Types].xml: checked only


def _verdict(parse, data: bytes):
    got = _outcome(parse, data, "[Content_Types].xml")
    return got[0] if got[0] == "ok" else got
