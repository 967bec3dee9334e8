"""The read floor of issue 19: ``python benchmarks/floor.py FOLDER [WORKERS]``.

A plain pool of 2 processes (``multiprocessing``, the platform's default start method, no
preloads) in which python-calamine reads every sheet of every ``.xlsx`` under ``FOLDER``.
It imports nothing of the product, so it shares none of the product's start-up costs; run
as its own interpreter, it is timed from outside like the product's CLI. A file calamine
cannot open (the demo's encrypted one) counts as read.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from pathlib import Path


def read_all(path: str) -> int:
    from python_calamine import CalamineWorkbook

    cells = 0
    try:
        wb = CalamineWorkbook.from_path(path)
        for name in wb.sheet_names:
            cells += sum(len(r) for r in wb.get_sheet_by_name(name).to_python())
    except Exception:  # an encrypted or broken file: the product rejects it too
        pass
    return cells


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    workers = int(argv[1]) if len(argv) > 1 else 2
    files = sorted(str(p) for p in folder.rglob("*.xlsx"))
    with mp.Pool(workers) as pool:
        cells = sum(pool.imap_unordered(read_all, files, chunksize=4))
    print(f"{len(files)} {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
