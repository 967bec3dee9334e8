"""Batch validation with pandera: the rows of many files in one DataFrame (SPEC §9).

pandera costs ~11 ms per small DataFrame and ~0.5 s to import (pandas with it), so it never
runs per file, and never in the reader workers (they stay small and start fast, issue 19): the
process that called the reader validates the rows of all the files of one call at once
(``lazy=True``: all failures together) and maps each failure back to (file, sheet, cell). The
rows of a call with one file (``danhgia check FILE``, a watcher event) are checked in plain
Python instead: :data:`PEOPLE_RULES` builds both checks, which find the same failures
(``tests/test_validate_plain.py``). What it checks:
required row values, known codes (positions, categories, grades), score ranges per part or
criterion from the framework, and duplicate person codes within one file. Type problems
(not a number, ambiguous number, bad date, too many decimals) were reported while reading.

This module lives under ``read`` because the reader's pool calls it (and imports go one way);
:mod:`danhgia_batch.validate` is its public face.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .. import layout
from ..domain import Framework
from ..issues import Severity, make_issue
from ..layout import criterion_label
from ..models import FormResult
from ..settings import Settings

log = logging.getLogger(__name__)

# letter §2.5: a person not ranked this month (KXL) may not have self-assessed at all.
UNRANKED_OPTIONAL = ("self_grade", "self_date")
PEOPLE_REQUIRED = ("person_code", "full_name", "position_code", "category", "self_grade", "final_grade", "self_date")
PEOPLE_CODES = {
    "position_code": "positions",
    "category": "categories",
    "group": "groups",
    "self_grade": "grades",
    "final_grade": "grades",
    "evaluator_position": "positions",
}


_OPTIONAL_CODES = ("evaluator_position", "group")
_Ref = tuple[int, int, str]  # (form index, row index, cell key)


def _labels(form: FormResult, fw: Framework) -> dict[str, str]:
    if form.kind == layout.KIND_UNIT_LIST:
        return {f.key: f.label for f in layout.unit_list_columns(fw)}
    out = {f.key: f.label for f in (*layout.INDIVIDUAL_HEADER, *layout.INDIVIDUAL_RESULTS)}
    for p in fw.parts:
        for c in p.criteria or (p,):
            out[f"self_{c.code}"] = criterion_label("self", c.code)
            out[f"final_{c.code}"] = criterion_label("final", c.code)
    return out


def _score_cells(form: FormResult, fw: Framework) -> list[tuple[int, str, Decimal | None, Decimal, Decimal]]:
    """(row index, key, value, min, max) of every score cell present in the file."""
    out = []
    for i, row in enumerate(form.rows):
        # letter §2.5: a person not ranked this month (KXL: long leave, newly recruited) may
        # have no scores at all; scores that are given are still range-checked.
        unranked = row.final_grade == "KXL"
        if form.kind == layout.KIND_UNIT_LIST:
            for p in fw.parts:
                for side, parts in (("self", row.self_parts), ("final", row.final_parts)):
                    key = f"{side}_{p.code}"
                    if key in row.cells and not (unranked and parts.get(p.code) is None):
                        out.append((i, key, parts.get(p.code), p.min, p.max))
        else:
            for p in fw.parts:
                for c in p.criteria or (p,):
                    scores = row.criteria.get(c.code, (None, None))
                    for side, value in zip(("self", "final"), scores, strict=True):
                        key = f"{side}_{c.code}"
                        if key in row.cells and not (unranked and value is None):
                            out.append((i, key, value, c.min, c.max))
    return out


@dataclass(frozen=True)
class Rule:
    """One column of the people frame: the one definition both validators are built from."""

    key: str
    required: bool  # a blank value is ``value-required``
    codes: str = ""  # code list (``settings.codes``) a given value must belong to (``code-unknown``)


PEOPLE_RULES = tuple(
    Rule(k, k in PEOPLE_REQUIRED, PEOPLE_CODES.get(k, "")) for k in (*PEOPLE_REQUIRED, *_OPTIONAL_CODES)
)
UNIQUE = ("_f", "person_code")  # a person code once per file (``person-duplicate``)
SCORE_REQUIRED = "value"  # a score cell present must hold a score, within ``lo``..``hi``

# What a validator found, as (kind, column, row of the frame): kind is REQUIRED, CODE,
# DUPLICATE (column person_code) or RANGE (column "").
REQUIRED, CODE, DUPLICATE, RANGE = "required", "code", "duplicate", "range"
Failure = tuple[str, str, int]


def _columns(
    forms: Sequence[FormResult], settings: Settings
) -> tuple[dict[str, list[Any]], list[_Ref], dict[str, list[Any]], list[_Ref], dict[int, Framework]]:
    """The people and score columns of every form (plain lists), each row's reference and the
    framework of every form that has one."""
    people: dict[str, list[Any]] = {r.key: [] for r in PEOPLE_RULES} | {"_f": []}
    people_refs: list[_Ref] = []
    scores: dict[str, list[Any]] = {"value": [], "lo": [], "hi": []}
    score_refs: list[_Ref] = []
    fws: dict[int, Framework] = {}
    for fi, form in enumerate(forms):
        fw = settings.framework(form.framework_id, form.framework_version)
        if fw is None or form.kind not in (layout.KIND_UNIT_LIST, layout.KIND_INDIVIDUAL):
            continue
        fws[fi] = fw
        for ri, row in enumerate(form.rows):
            for r in PEOPLE_RULES:
                # a blank group is the category's (SPEC §3), checked in its own column
                given = r.key != "group" or row.group_given
                people[r.key].append((getattr(row, r.key) or None) if given else None)
            people["_f"].append(fi)
            people_refs.append((fi, ri, ""))
        for ri, key, value, lo, hi in _score_cells(form, fw):
            scores["value"].append(value)
            scores["lo"].append(lo)
            scores["hi"].append(hi)
            score_refs.append((fi, ri, key))
    return people, people_refs, scores, score_refs, fws


def warm() -> None:
    """Import pandas and pandera (about 0.5 s) before the first batch needs them."""
    import pandas  # noqa: F401
    import pandera.pandas  # noqa: F401


# ---- pandera: a batch of files, one DataFrame ------------------------------------------


def _people_schema(settings: Settings) -> Any:
    import pandera.pandas as pa

    columns = {}
    for r in PEOPLE_RULES:
        checks = [pa.Check.isin(settings.codes.codes(r.codes), ignore_na=True)] if r.codes else []
        columns[r.key] = pa.Column(None, checks=checks, nullable=not r.required)
    return pa.DataFrameSchema(columns, unique=list(UNIQUE), report_duplicates="exclude_first")


def _score_schema() -> Any:
    import pandera.pandas as pa

    # (the function must not be called ``in_range``: pandera dispatches on that name)
    def score_within_bounds(df: Any) -> Any:
        v = df["value"]
        return v.isna() | ((v >= df["lo"]) & (v <= df["hi"]))

    check = pa.Check(score_within_bounds, name="score-range")
    return pa.DataFrameSchema({SCORE_REQUIRED: pa.Column(None, nullable=False)}, checks=[check])


def _frame(columns: dict[str, list[Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})


def _pandera_failures(schema: Any, df: Any) -> list[tuple[str, str, int]]:
    """(check, column, index) of every failure of ``schema`` on ``df`` (lazy)."""
    import pandera.pandas as pa

    if df.empty:
        return []
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases
        broken = fc[fc["index"].isna() & (fc["check"].astype(str) != "multiple_fields_uniqueness")]
        if not broken.empty:
            log.error("batch schema check failed to run: %s", broken.to_dict("records"))
        return [
            (str(c), str(col), int(i))
            for c, col, i in zip(fc["check"], fc["column"], fc["index"], strict=True)
            if i is not None and i == i
        ]
    return []


def pandera_people(people: dict[str, list[Any]], settings: Settings) -> set[Failure]:
    """The failures of the people rows, found by pandera (one DataFrame)."""
    out = set()
    for check, column, idx in _pandera_failures(_people_schema(settings), _frame(people)):
        if check == "multiple_fields_uniqueness" or "unique" in check:
            if column == "person_code":  # (its ``_f`` half, and blank codes, say nothing more)
                out.add((DUPLICATE, column, idx))
        else:
            out.add((REQUIRED if check == "not_nullable" else CODE, column, idx))
    return out


def pandera_scores(scores: dict[str, list[Any]]) -> set[Failure]:
    """The failures of the score cells, found by pandera (one DataFrame)."""
    return {
        (REQUIRED, SCORE_REQUIRED, idx) if check == "not_nullable" else (RANGE, "", idx)
        for check, _column, idx in _pandera_failures(_score_schema(), _frame(scores))
    }


# ---- plain Python: one file (no pandas, no pandera: ``danhgia check FILE``, issue 19) -----


def _na(v: Any) -> bool:
    """What pandas' ``isna`` calls missing, for the values the reader gives (None, str, date,
    Decimal)."""
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    return isinstance(v, Decimal) and v.is_nan()


def plain_people(people: dict[str, list[Any]], settings: Settings) -> set[Failure]:
    """The failures :func:`pandera_people` finds, found in plain Python from the same rules."""
    out: set[Failure] = set()
    for r in PEOPLE_RULES:
        allowed = set(settings.codes.codes(r.codes)) if r.codes else None
        for i, v in enumerate(people[r.key]):
            if _na(v):
                if r.required:
                    out.add((REQUIRED, r.key, i))
            elif allowed is not None and v not in allowed:
                out.add((CODE, r.key, i))
    seen: set[tuple[Any, ...]] = set()
    for i, key in enumerate(zip(*(people[k] for k in UNIQUE), strict=True)):
        if key in seen and not any(_na(x) for x in key):
            out.add((DUPLICATE, "person_code", i))
        seen.add(key)
    return out


def plain_scores(scores: dict[str, list[Any]]) -> set[Failure]:
    """The failures :func:`pandera_scores` finds, found in plain Python (a bound or a value
    that is missing compares false, as in pandas; values that cannot be compared fail the
    whole range check, as pandera's check that failed to run)."""
    values, lows, highs = scores["value"], scores["lo"], scores["hi"]
    required = {(REQUIRED, SCORE_REQUIRED, i) for i, v in enumerate(values) if _na(v)}
    try:  # ``&``, not ``and``: both bounds are compared, as pandas compares whole columns
        outside = {
            (RANGE, "", i)
            for i, (v, lo, hi) in enumerate(zip(values, lows, highs, strict=True))
            if not _na(v) and (_na(lo) or _na(hi) or not ((v >= lo) & (v <= hi)))
        }
    except TypeError as exc:
        log.error("batch schema check failed to run: %s", exc)
        return required
    return required | outside


class _Sink:
    def __init__(self, forms: Sequence[FormResult]) -> None:
        self.forms = forms
        self.taken = [{(i.sheet, i.cell) for i in f.issues if i.severity is Severity.ERROR and i.cell} for f in forms]

    def add(self, fi: int, code: str, cell: str, **params: Any) -> None:
        form = self.forms[fi]
        sheet = form.sheet
        if not cell or (sheet, cell) in self.taken[fi]:
            return
        self.taken[fi].add((sheet, cell))
        digits = "".join(ch for ch in cell if ch.isdigit())
        form.issues.append(make_issue(code, file=form.path.name, sheet=sheet, cell=cell, row=int(digits), **params))


def validate_batch(forms: Sequence[FormResult], settings: Settings, *, plain: bool | None = None) -> None:
    """Validate the rows of ``forms`` together; append the issues found to each form (in place).

    The rows of several files are validated by pandera, in one DataFrame; those of one file
    (``danhgia check FILE``, a watcher event) in plain Python, without importing pandas (~0.5 s):
    both are built from :data:`PEOPLE_RULES` and find the same failures
    (``tests/test_validate_plain.py``). ``plain`` forces one or the other (tests).
    """
    people, people_refs, scores, score_refs, fws = _columns(forms, settings)
    if not fws:
        return
    if plain is None:
        plain = len(fws) == 1
    people_failures = plain_people(people, settings) if plain else pandera_people(people, settings)
    score_failures = plain_scores(scores) if plain else pandera_scores(scores)
    sink = _Sink(forms)
    labels = {fi: _labels(forms[fi], fw) for fi, fw in fws.items()}
    dup_rows: dict[tuple[int, str], list[int]] = defaultdict(list)
    for fi, ri, _key in people_refs:
        row = forms[fi].rows[ri]
        if row.person_code:
            dup_rows[(fi, row.person_code)].append(row.row)
    for kind, column, idx in sorted(people_failures, key=lambda x: (x[2], x[1], x[0])):
        fi, ri, _key = people_refs[idx]
        row = forms[fi].rows[ri]
        if kind == DUPLICATE:
            rows = ", ".join(str(r) for r in dup_rows[(fi, row.person_code)])
            key, code, extra = "person_code", "person-duplicate", {"value": row.person_code, "detail": rows}
        elif kind == REQUIRED:
            if row.final_grade == "KXL" and column in UNRANKED_OPTIONAL:
                continue
            key, code, extra = column, "value-required", {}
        else:
            key, code, extra = column, "code-unknown", {"value": getattr(row, column)}
        sink.add(fi, code, row.cells.get(key, ""), column=labels[fi].get(key, key), **extra)
    for kind, _column, idx in sorted(score_failures, key=lambda x: (x[2], x[0])):
        fi, ri, key = score_refs[idx]
        cell = forms[fi].rows[ri].cells.get(key, "")
        label = labels[fi].get(key, key)
        if kind == REQUIRED:
            sink.add(fi, "value-required", cell, column=label)
        else:
            bounds = {"minimum": _fmt(scores["lo"][idx]), "maximum": _fmt(scores["hi"][idx])}
            sink.add(fi, "score-range", cell, column=label, value=_fmt(scores["value"][idx]), **bounds)


def _fmt(d: Any) -> str:
    d = Decimal(str(d))
    return format(d.normalize(), "f") if d != d.to_integral_value() else str(int(d))
