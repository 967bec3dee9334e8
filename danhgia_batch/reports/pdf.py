"""PDF copies of the output workbooks, printed by LibreOffice headless (SPEC §10).

Each workbook's print setup (A4, orientation, fit to width, repeated header rows, print area)
decides the pages; LibreOffice only prints them. ``soffice`` runs with a private profile
(``-env:UserInstallation``: two instances cannot share one, and the user's own LibreOffice
may be open), a timeout, and at most :data:`WORKERS` instances at once (the machine has few
cores). One instance converts many workbooks in one start (starting it costs
more than a page): up to :data:`BATCH` workbooks of any folders go to one private output
folder, then each PDF is put beside its workbook with a rename, so a crash never leaves a
half-written PDF.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import DanhgiaError
from ..progress import Progress, Steps

log = logging.getLogger(__name__)

WORKERS = 2
BATCH = 40  # workbooks per soffice start
TIMEOUT_BASE_S = 120
TIMEOUT_PER_FILE_S = 20
PACKAGE = "libreoffice-calc-nogui"
WINDOWS_PATHS = (
    Path(r"C:\Program Files\LibreOffice\program\soffice.exe"),
    Path(r"C:\Program Files (x86)\LibreOffice\program\soffice.exe"),
)


class PdfUnavailableError(DanhgiaError):
    """LibreOffice is not installed, so no PDF can be made (exit code 2)."""

    exit_code = 2


class PdfFailedError(DanhgiaError):
    """LibreOffice ran but did not produce every PDF (exit code 1)."""


def find_soffice() -> Path | None:
    """The ``soffice`` program of LibreOffice, or ``None`` when it is not installed."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return next((p for p in WINDOWS_PATHS if p.is_file()), None)


def require_soffice() -> Path:
    """``soffice``, or a Vietnamese message naming the package to install.

    Raises:
        PdfUnavailableError: LibreOffice is not installed.
    """
    found = find_soffice()
    if found is None:
        raise PdfUnavailableError(
            "Không tạo được bản PDF: máy chưa cài LibreOffice. Trên Debian/Ubuntu hãy cài gói "
            f"{PACKAGE} (sudo apt-get install -y {PACKAGE}); trên Windows hãy cài LibreOffice "
            "từ https://www.libreoffice.org. Các tệp Excel vẫn được ghi bình thường."
        )
    return found


def _move(made: Path, dest: Path) -> None:
    """Put ``made`` at ``dest`` atomically (copied beside it first: the temp folder may be on
    another file system)."""
    tmp = dest.with_name(f".{dest.name}.part")
    shutil.copyfile(made, tmp)
    os.replace(tmp, dest)


def pdf_path(workbook: Path) -> Path:
    """Where the PDF of ``workbook`` goes: beside it, same name."""
    return workbook.with_suffix(".pdf")


def convert_to_pdf(workbooks: Iterable[Path], *, progress: Progress | None = None) -> list[Path]:
    """PDF copies of ``workbooks`` (.xlsx), beside them; returns the PDFs' paths.

    Raises:
        PdfUnavailableError: LibreOffice is not installed.
        PdfFailedError: some workbook could not be converted (the others are kept).
    """
    books = [Path(p) for p in workbooks if str(p).endswith(".xlsx")]
    if not books:
        return []
    soffice = require_soffice()
    batches = _batches(books)
    steps = Steps(progress, "In PDF", len(books))
    written: list[Path] = []
    failed: list[str] = []
    with ThreadPoolExecutor(min(WORKERS, len(batches))) as pool:
        for done, missing in pool.map(lambda b: _convert(soffice, b), batches):
            written += done
            failed += missing
            steps.advance(len(done) + len(missing))
    if failed:
        raise PdfFailedError(f"LibreOffice không in được {len(failed)} tệp ra PDF: {', '.join(failed[:5])}.")
    return written


def _batches(books: Sequence[Path]) -> list[list[Path]]:
    """At most :data:`BATCH` workbooks a start, no two with the same name in one (they share
    one output folder), spread over :data:`WORKERS` starts when there are few."""
    size = max(1, min(BATCH, -(-len(books) // WORKERS)))
    out: list[list[Path]] = []
    names: list[set[str]] = []
    for p in books:
        for batch, seen in zip(out, names, strict=True):
            if len(batch) < size and p.stem not in seen:
                batch.append(p)
                seen.add(p.stem)
                break
        else:
            out.append([p])
            names.append({p.stem})
    return out


def _convert(soffice: Path, books: list[Path]) -> tuple[list[Path], list[str]]:
    """One LibreOffice start converting ``books`` (distinct names); (PDFs written, names failed)."""
    with (
        tempfile.TemporaryDirectory(prefix="danhgia-lo-") as profile,
        tempfile.TemporaryDirectory(prefix="danhgia-pdf-") as out,
    ):
        cmd = [
            str(soffice),
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "pdf:calc_pdf_Export",
            "--outdir",
            out,
            *(str(b) for b in books),
        ]
        timeout = TIMEOUT_BASE_S + TIMEOUT_PER_FILE_S * len(books)
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            log.error("LibreOffice did not finish converting %d workbooks in %d s", len(books), timeout)
        done: list[Path] = []
        missing: list[str] = []
        for book in books:
            made = Path(out) / f"{book.stem}.pdf"
            if made.is_file() and made.stat().st_size > 0:
                _move(made, pdf_path(book))
                done.append(pdf_path(book))
            else:
                missing.append(book.name)
        return done, missing
