"""PDF printouts (issue 18): the demo month's unit lists, a commendation list, every roll-up and
an error workbook printed by LibreOffice, then read back with ``pdftotext``: the page count, the
title and the signature block, no table or chart split across pages.

Skipped where LibreOffice (``soffice``) or poppler (``pdftotext``) is missing, except in CI
(``CI=true``), where ``.ci/run`` installs them and their absence is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from danhgia_batch.demo import run_demo
from danhgia_batch.errors import DanhgiaError
from danhgia_batch.reports import pdf as pdf_mod

pytestmark = pytest.mark.slow

PERIOD = "2022-01"
UNITS = 14  # both blocks of the trimmed district, every planted fault
PERSON = re.compile(r"^\s*\d+\s+[^\d\s-].*?\bLB\d{5}\b", re.M)  # a row of a unit's table: STT, name, code


def _metric_fonts() -> bool:
    """Times New Roman and Calibri (the printouts' fonts) resolve to metric-compatible fonts
    (Liberation Serif, Carlito): with another font every column is wider and pages split."""
    if shutil.which("fc-match") is None:
        return False
    found = [
        subprocess.run(["fc-match", f], capture_output=True, text=True).stdout for f in ("Times New Roman", "Calibri")
    ]
    return "Liberation Serif" in found[0] and "Carlito" in found[1]


def _tools() -> None:
    missing = [t for t in ("soffice", "pdftotext", "pdfinfo") if shutil.which(t) is None]
    if not _metric_fonts():
        missing.append("fonts-liberation + fonts-crosextra-carlito")
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must have {missing} (.ci/run installs libreoffice-calc-nogui and poppler-utils)")
        pytest.skip(f"not installed: {missing}")


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """The demo month's outputs and error workbooks, each with its PDF."""
    _tools()
    demo = run_demo(tmp_path_factory.mktemp("pdf") / "demo", units=UNITS, period=PERIOD)
    outbox = demo.directory / "outbox" / PERIOD
    books = {
        "unit": sorted(outbox.glob("*/*/danh_sach_tong_hop_*.xlsx")),
        "commendation": sorted(outbox.glob("*/*/de_nghi_khen_thuong_*.xlsx"))[:2],
        "block": sorted(outbox.glob("*/tong_hop_khoi_*.xlsx")),
        "district": sorted(outbox.glob("tong_hop_quan_*.xlsx")),
        "errors": [p for p in demo.error_files if p.suffix == ".xlsx"][:2],
    }
    assert all(books.values()), books
    made = pdf_mod.convert_to_pdf([p for group in books.values() for p in group])
    assert len(made) == sum(len(g) for g in books.values())
    return {kind: [pdf_mod.pdf_path(p) for p in group] for kind, group in books.items()}


def pages(pdf: Path) -> list[str]:
    """The text of each page (layout kept, so a table row stays on one line)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    out = []
    for n in range(1, count + 1):
        cmd = ["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"]
        out.append(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    return out


def _squash(text: str) -> str:
    """``text`` without white space: pdftotext may split a word where a font kerns ("c ấu")."""
    return re.sub(r"\s+", "", text)


def _page_of(texts: list[str], needle: str) -> int:
    found = [i for i, t in enumerate(texts) if _squash(needle) in _squash(t)]
    assert found, f"{needle!r} printed nowhere"
    return found[0]


def _footer_counts(texts: list[str]) -> None:
    """Every page says "Trang k/N" with N the real page count."""
    for k, t in enumerate(texts, start=1):
        assert f"Trang {k}/{len(texts)}" in t


def test_unit_lists(printed: dict[str, list[Path]]) -> None:
    for pdf in printed["unit"]:
        texts = pages(pdf)
        _footer_counts(texts)
        assert "DANH SÁCH TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI" in texts[0]
        people = sum(len(PERSON.findall(t)) for t in texts)
        assert len(texts) <= 2 + people // 15, (pdf.name, len(texts), people)  # 15+ rows a page
        for t in texts:  # a page with rows of the table carries the table's header
            if PERSON.search(t):
                assert "Họ và tên" in t and "Mã cán bộ" in t, pdf.name
        # totals, quota table, notes and signatures: each whole on one page
        for first, last in [
            ("TỔNG HỢP KẾT QUẢ XẾP LOẠI", "Tổng số người trong danh sách"),
            ("TỶ LỆ LOẠI A THEO NHÓM", "Kết quả"),
            ("GHI CHÚ", "NGƯỜI LẬP BIỂU"),
            ("NGƯỜI LẬP BIỂU", "(Ký, ghi rõ họ tên)"),
        ]:
            assert _page_of(texts, first) == _page_of(texts, last), (pdf.name, first)
        sign = texts[_page_of(texts, "NGƯỜI LẬP BIỂU")]
        head = "HIỆU TRƯỞNG" if pdf.parent.parent.name == "TRUONG_HOC" else "THỦ TRƯỞNG ĐƠN VỊ"  # issue 18: schools
        assert head in sign and sign.count("(Ký, ghi rõ họ tên)") == 2, pdf.name
        # the repeated header never sits above the totals: they follow the table's last row
        totals = _page_of(texts, "TỔNG HỢP KẾT QUẢ XẾP LOẠI")
        assert "Họ và tên" not in texts[totals] or PERSON.search(texts[totals])


def test_a_long_unit_list_runs_onto_pages_under_its_header(printed: dict[str, list[Path]]) -> None:
    longest = max(printed["unit"], key=lambda p: sum(len(PERSON.findall(t)) for t in pages(p)))
    texts = pages(longest)
    assert len(texts) >= 2
    rows = [t for t in texts if PERSON.search(t)]
    assert len(rows) >= 2 and all("Họ và tên" in t for t in rows)


def test_commendation_lists(printed: dict[str, list[Path]]) -> None:
    for pdf in printed["commendation"]:
        texts = pages(pdf)
        _footer_counts(texts)
        assert len(texts) <= 2
        assert "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG" in texts[0]
        sign = texts[_page_of(texts, "NGƯỜI LẬP BIỂU")]
        assert "(Ký, ghi rõ họ tên)" in sign


@pytest.mark.parametrize("kind", ["block", "district"])
def test_rollups(printed: dict[str, list[Path]], kind: str) -> None:
    for pdf in printed[kind]:
        texts = pages(pdf)
        _footer_counts(texts)
        assert len(texts) <= 6, (pdf.name, len(texts))
        assert "BÁO CÁO TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI" in texts[0]
        # the summary sheet: its tables and its signature block each on one page
        assert _page_of(texts, "I. TÌNH HÌNH NỘP DANH SÁCH") == _page_of(texts, "Số người còn thiếu so với danh mục")
        sign = _page_of(texts, "(Ký, ghi rõ họ tên)")
        assert "LÃNH ĐẠO" in texts[sign] and texts[sign].count("(Ký, ghi rõ họ tên)") == 2
        # the units table: every page holding its rows carries its header; the total row follows it
        for t in texts:
            if re.search(r"^\s*\d+\s+(DU|UBND|P|V|B|TH|MN|THCS)[A-Z_]*\s", t, re.M) and "Tên đơn vị" not in t:
                pytest.fail(f"{pdf.name}: a page of the units table without its header")
        assert all("STT" in t for t in texts if "Tổng cộng" in t)  # a total row under its table's header
        # the chart (its title and legend are printed text) whole on one page
        chart = "Cơ cấu xếp loại theo đơn vị" if kind == "block" else "Cơ cấu xếp loại theo khối"
        page = _squash(texts[_page_of(texts, chart)])
        assert "KXL" in page.split(_squash(chart), 1)[1], pdf.name


def test_error_workbook(printed: dict[str, list[Path]]) -> None:
    for pdf in printed["errors"]:
        texts = pages(pdf)
        assert len(texts) <= 3, (pdf.name, len(texts))  # the errors, the clerk's rows, the instructions
        assert any("DANH SÁCH LỖI" in t for t in texts), pdf.name  # the Loi sheet has a title


def test_missing_libreoffice_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pdf_mod, "find_soffice", lambda: None)
    book = tmp_path / "a.xlsx"
    book.write_bytes(b"")
    with pytest.raises(DanhgiaError) as exc:
        pdf_mod.convert_to_pdf([book])
    assert "libreoffice-calc-nogui" in str(exc.value) and exc.value.exit_code == 2
