"""One person on a decider's list (template 02) and on an individual form (template 01) of the
same unit and period: which result counts (letter §2.3 step 3, §2.6).

Letter §2.6 makes both part of a unit's dossier: each person's self-assessment form ("phiếu tự
đánh giá, chấm điểm xếp loại của từng cá nhân") and the unit's aggregate list of results
("danh sách tổng hợp kết quả"). The result that counts is the competent authority's decision
(§2.3 step 3); the aggregate list is that decision as the decider signed it for the whole
group, and the A-quota is judged on it (§2.5.a). An individual form carries the
self-assessment and may carry the decision. Hence:

- the same person on both is **not an error**: the list's row counts; the form stays recorded
  in the ledger but is counted nowhere (unit report, commendation, roll-ups, status, year view);
- each list that covers forms carries one ``form-covered-by-list`` warning naming them;
- a covered form whose decision differs from the list's (final grade or final total) or that
  names another decider gives ``form-list-conflict``, a warning on the list's row: the list
  still counts, but someone should look (a corrected list replaces it as usual);
- the outcome depends only on the lists and forms active in the ledger, never on which file
  arrived first, nor in which run or watcher: it is applied when the views are built.

A person on lists of two different units is ``registry-person-twice`` (an error, when a
registry is loaded), not handled here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from ..issues import Issue, make_issue
from ..layout import SHEET_UNIT_LIST
from ..models import EvaluationRow, ListView
from .common import column_labels, fmt_score

_LABELS = column_labels("02")


def _code(value: str) -> str:  # as registry.norm_code (rules come before registry)
    return unicodedata.normalize("NFC", value or "").strip().upper()


def _name(value: str) -> str:  # as registry.norm_name
    return " ".join(unicodedata.normalize("NFC", value or "").split()).casefold()


def _result(row: EvaluationRow) -> str:
    score = fmt_score(row.final_total)
    parts = [row.final_grade or "chưa xếp loại", f"{score} điểm" if score else ""]
    return ", ".join(p for p in parts if p)


def _differs(form_row: EvaluationRow, form: ListView, list_row: EvaluationRow, lst: ListView) -> bool:
    """The form carries a decision other than the list's, or names another decider."""
    if form.header.decider_position or form.header.decider_name:
        same_decider = _code(form.header.decider_position) == _code(lst.header.decider_position) and _name(
            form.header.decider_name
        ) == _name(lst.header.decider_name)
        if not same_decider:
            return True
    if form_row.final_grade and _code(form_row.final_grade) != _code(list_row.final_grade):
        return True
    return (
        form_row.final_total is not None
        and list_row.final_total is not None
        and (form_row.final_total != list_row.final_total)
    )


def covered_forms(lists: Sequence[ListView], forms: Iterable[ListView]) -> set[int]:
    """Ids of the individual forms whose person is on one of ``lists``; notes the lists.

    Args:
        lists: the active decider lists (template 02) of one unit and period. Their
            ``issues`` get the ``form-covered-by-list`` / ``form-list-conflict`` warnings.
        forms: the active individual forms (template 01) of the same unit and period, one
            :class:`ListView` per form (``list_id`` = the form's list id).

    Returns:
        ``list_id`` of every form to leave out of the counts (its person's result is the
        list's).
    """
    on_list: dict[str, tuple[ListView, EvaluationRow]] = {}
    for lst in lists:
        for row in lst.rows:
            on_list.setdefault(_code(row.person_code), (lst, row))
    covered: set[int] = set()
    names: dict[int, list[str]] = {}
    for form in forms:
        hits = [(r, on_list[_code(r.person_code)]) for r in form.rows if _code(r.person_code) in on_list]
        if not hits:
            continue
        covered.add(form.list_id)
        for form_row, (lst, list_row) in hits:
            names.setdefault(id(lst), []).append(form.file_name)
            if _differs(form_row, form, list_row, lst):
                lst.issues.append(_conflict(form_row, form, list_row, lst))
    for lst in lists:
        files = names.get(id(lst))
        if files:
            lst.issues.append(
                make_issue(
                    "form-covered-by-list",
                    file=lst.file_name,
                    sheet=SHEET_UNIT_LIST,
                    value=", ".join(sorted(set(files))),
                    count=len(set(files)),
                )
            )
    return covered


def _conflict(form_row: EvaluationRow, form: ListView, list_row: EvaluationRow, lst: ListView) -> Issue:
    decider = form.header.decider_name or form.header.decider_position
    return make_issue(
        "form-list-conflict",
        file=lst.file_name,
        sheet=SHEET_UNIT_LIST,
        cell=list_row.cells.get("final_grade", ""),
        row=list_row.row,
        column=_LABELS.get("final_grade", ""),
        value=f"{list_row.person_code} - {list_row.full_name}",
        detail=form.file_name,
        actual=f"{_result(form_row)}; người quyết định: {decider}" if decider else _result(form_row),
        expected=_result(list_row),
    )
