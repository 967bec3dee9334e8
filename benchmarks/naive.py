"""The naive baseline of issue 19: ``python benchmarks/naive.py INBOX OUTBOX``.

What a capable analyst would write in an afternoon, one file after the other in one process:
``pandas.read_excel`` with openpyxl (the main sheet and ``_meta``), a pandera schema over the
rows, the grading bands (letter §2.4: A ≥ 90, B ≥ 70, C ≥ 50, D below; a grade may not be
above its band), a simple A-quota (letter §2.5.a: at most 20 % of the A and B people are A)
and one ``DataFrame.to_excel`` (xlsxwriter) output per file. It imports nothing of the
product. Encrypted or broken files are counted as rejected.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa

GRADES = ["A", "B", "C", "D", "KXL"]
ORDER = {"A": 0, "B": 1, "C": 2, "D": 3}
# letter §2.4: the bands of the total score
BANDS = ((90, "A"), (70, "B"), (50, "C"))
QUOTA = 0.2  # letter §2.5.a

SCHEMA = pa.DataFrameSchema(
    {
        "person_code": pa.Column(str, nullable=False, unique=True),
        "full_name": pa.Column(str, nullable=False),
        "category": pa.Column(str, pa.Check.isin(["CBCC", "VC", "KCT", "LDHD"]), nullable=False),
        "final_grade": pa.Column(str, pa.Check.isin(GRADES), nullable=False),
        "p1": pa.Column(float, pa.Check.in_range(0, 20), nullable=True),
        "p2": pa.Column(float, pa.Check.in_range(0, 70), nullable=True),
        "p3": pa.Column(float, pa.Check.in_range(0, 10), nullable=True),
    },
    coerce=True,
)


def band(total: float) -> str:
    for floor, grade in BANDS:
        if total >= floor:
            return grade
    return "D"


def _list_rows(sheet: pd.DataFrame) -> pd.DataFrame:
    """Template 02: the rows under the header row (STT, Mã cán bộ, …)."""
    first = sheet.iloc[:, 0].fillna("").astype(str)
    head = int(first[first == "STT"].index[0])
    body = sheet.iloc[head + 1 :]
    body = body[body.iloc[:, 1].notna()]
    return pd.DataFrame(
        {
            "person_code": body.iloc[:, 1],
            "full_name": body.iloc[:, 2],
            "category": body.iloc[:, 6],
            "final_grade": body.iloc[:, 19],
            "p1": pd.to_numeric(body.iloc[:, 14], errors="coerce"),
            "p2": pd.to_numeric(body.iloc[:, 15], errors="coerce"),
            "p3": pd.to_numeric(body.iloc[:, 16], errors="coerce"),
        }
    ).reset_index(drop=True)


def _form_rows(sheet: pd.DataFrame) -> pd.DataFrame:
    """Template 01: one person; the parts are the sums of their criteria's final scores."""
    label = dict(zip(sheet.iloc[:, 0].fillna("").astype(str), sheet.iloc[:, 2], strict=False))
    parts = {"I": 0.0, "II": 0.0, "III": 0.0}
    for code, score in zip(sheet.iloc[:, 0].fillna("").astype(str), sheet.iloc[:, 4], strict=False):
        if "." in code and code.split(".")[0] in parts:
            parts[code.split(".")[0]] += float(score) if pd.notna(score) else 0.0
    return pd.DataFrame(
        [
            {
                "person_code": label.get("Mã cán bộ *"),
                "full_name": label.get("Họ và tên *"),
                "category": label.get("Đối tượng *"),
                "final_grade": label.get("Xếp loại của cấp có thẩm quyền *"),
                "p1": parts["I"],
                "p2": parts["II"],
                "p3": parts["III"],
            }
        ]
    )


def one_file(path: Path, outbox: Path) -> str:
    try:
        sheets: dict[Any, pd.DataFrame] = pd.read_excel(path, sheet_name=[0, "_meta"], header=None, engine="openpyxl")
    except Exception:
        return "rejected"
    meta = dict(zip(sheets["_meta"].iloc[:, 0], sheets["_meta"].iloc[:, 1], strict=False))
    try:
        rows = _list_rows(sheets[0]) if str(meta.get("template_kind")) == "02" else _form_rows(sheets[0])
        rows = SCHEMA.validate(rows, lazy=True)
        errors = 0
    except pa.errors.SchemaErrors as exc:
        errors = len(exc.failure_cases)
    except Exception:
        return "rejected"
    rows["total"] = rows[["p1", "p2", "p3"]].fillna(0).sum(axis=1)
    rows["band"] = rows["total"].map(band)
    ranked = rows["final_grade"].isin(list(ORDER))
    above = ranked & (rows["final_grade"].map(ORDER).fillna(9) < rows["band"].map(ORDER))
    rows["note"] = above.map({True: "Xếp loại cao hơn khung điểm", False: ""})
    a = int((rows["final_grade"] == "A").sum())
    ab = int(rows["final_grade"].isin(["A", "B"]).sum())
    quota_ok = a <= math.floor(QUOTA * ab + 1e-9) or ab == 0
    rows.to_excel(outbox / f"{path.stem}_ketqua.xlsx", index=False, engine="xlsxwriter")
    return "invalid" if errors or above.any() or not quota_ok else "accepted"


def main(argv: list[str]) -> int:
    inbox, outbox = Path(argv[0]), Path(argv[1])
    outbox.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for path in sorted(inbox.rglob("*.xlsx")):
        outcome = one_file(path, outbox)
        counts[outcome] = counts.get(outcome, 0) + 1
    print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
