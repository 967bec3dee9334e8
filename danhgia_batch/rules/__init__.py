"""The rules of letter 528-CV/QU: grades and the A-quota (§2.5), authority (§2.2), deadlines (§2.3),
and which result counts when a person is on a list and on an individual form (§2.6, overlap.py).

Pure functions over typed rows (no I/O). They return issues and findings and never raise on
bad data; a value the reader could not read (``None``) is skipped here, since the reader has
already reported it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from ..issues import Issue
from ..layout import KIND_INDIVIDUAL, KIND_UNIT_LIST
from ..models import FormResult
from .authority import check_authority
from .common import Where, column_labels
from .deadlines import check_deadlines, deadline_for, period_window
from .grading import RANKED_GRADES, check_grades, grade_for, grade_rank
from .overlap import covered_forms
from .quota import UNIT_SCOPE, QuotaFinding, check_quota, group_of, max_allowed, quota_limit, scope_label

__all__ = [
    "RANKED_GRADES",
    "UNIT_SCOPE",
    "QuotaFinding",
    "check_authority",
    "check_deadlines",
    "check_form",
    "check_grades",
    "check_quota",
    "covered_forms",
    "deadline_for",
    "grade_for",
    "grade_rank",
    "group_of",
    "max_allowed",
    "period_window",
    "quota_limit",
    "scope_label",
]


def check_form(
    form: FormResult,
    settings: Any,
    *,
    unit_kind: str | None = None,
    unit_size: int | None = None,
    arrival: datetime | None = None,
    person_blocks: Mapping[str, str] | None = None,
    quota_full_groups: Collection[str] | None = None,
) -> list[Issue]:
    """Every rule of the letter on one read form (template 02 list or template 01 form).

    Args:
        form: what the reader produced; forms of other kinds yield no issues.
        settings: the run's settings.
        unit_kind: the unit's kind from the registry (narrows the authority matrix).
        unit_size: the unit's CBCCVC/LĐHĐ count from the registry (delegation, §2.2.b);
            default the number of rows of the list.
        arrival: when the file arrived (checked against the publication deadline).
        person_blocks: person code → block from the registry.
        quota_full_groups: for template 01 (whose quota the pipeline checks across a
            decider's forms), the groups whose A count reaches the limit; an A-band person
            graded B there needs no reason. Template 02 computes it from its own rows.

    Returns:
        Issues in rule order: grades, quota (template 02 only; one person's form cannot
        exceed the quota — the pipeline runs :func:`check_quota` across a decider's
        forms), authority, deadlines. Quota issues have severity ``violation``.
    """
    if form.kind not in (KIND_UNIT_LIST, KIND_INDIVIDUAL):
        return []
    file = form.path.name
    where = Where(file=file, sheet=form.sheet, labels=column_labels(form.kind))
    quota_issues: list[Issue] = []
    full_groups: set[str] = set(quota_full_groups or ())
    if form.kind == KIND_UNIT_LIST:
        findings, quota_issues = check_quota(form.rows, settings, file=file, sheet=form.sheet)
        # letter §2.5.a: where the A count reaches the limit, an A-band B needs no reason
        full_groups |= {f.group for f in findings if f.count_a >= f.limit}
        if UNIT_SCOPE in full_groups:  # a small unit's one A is taken: every group is full
            full_groups |= {group_of(r) for r in form.rows}
    issues = check_grades(form.rows, settings, where=where, quota_full_groups=full_groups)
    issues += quota_issues
    issues += check_authority(
        form.header,
        form.rows,
        settings,
        unit_kind=unit_kind,
        unit_size=unit_size,
        person_blocks=person_blocks,
        where=where,
    )
    issues += check_deadlines(form.header, form.rows, settings, arrival=arrival, where=where)
    return issues
