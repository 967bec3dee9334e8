"""The error-workbook floor of issue 19: ``python benchmarks/copyfloor.py LIST [WORKERS]``.

``LIST`` is a text file naming one ``.xlsx`` per line: the inputs the product rejected. A plain
pool of 2 processes (``multiprocessing``, the platform's default start method, no preloads)
in which openpyxl loads each file and saves it again, to memory. That round trip is the least
any annotated copy made with openpyxl costs (SPEC §1, §10: the clerk's own workbook, marked):
no pre-flight, no isolation, no marks, no ``Loi`` sheet. It imports nothing of the product. A
file openpyxl cannot open (the demo's encrypted one) counts as done: the product writes a
small fresh workbook for it.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import sys
from pathlib import Path


def copy_one(path: str) -> int:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path)
        wb.save(io.BytesIO())
    except Exception:  # encrypted or broken: the product writes a fresh one-sheet workbook
        return 0
    return 1


def main(argv: list[str]) -> int:
    files = [line for line in Path(argv[0]).read_text("utf-8").splitlines() if line]
    workers = int(argv[1]) if len(argv) > 1 else 2
    with mp.Pool(workers) as pool:
        copied = sum(pool.imap_unordered(copy_one, files, chunksize=1))
    print(f"{len(files)} {copied}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
