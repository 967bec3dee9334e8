"""The A-quota (letter §2.5.a, SPEC §6).

"Tổng số trường hợp 'Hoàn thành xuất sắc nhiệm vụ' không vượt quá 20% tổng số CBCCVC được xếp
loại 'Hoàn thành tốt nhiệm vụ' theo từng nhóm đối tượng": in each subject group of one
decider's list, ``#A ≤ rounding(ratio × base)`` with base = #B (``good_only``, the letter's
literal wording, default) or #A+#B (``good_or_better``). "Đơn vị hoặc nhóm đối tượng có dưới 05
người" may have one A: per group, and (``quota.small_unit_total``, default) for the whole list
when it ranks fewer than 5 people, whatever its groups. Only final grades A/B/C/D count; ``KXL``
counts nowhere.

The maximum a finding states (``limit``) is the true one: the largest number of A the group
may hold with the people it has ranked A or B, the others graded B. Under ``good_only`` this is
not ``rounding(ratio × #B)`` of the list as it stands (1 A and 4 B: 20% of 4 is 0, and 0 it is;
2 A and 4 B: keeping one A leaves 5 B, whose 20% is 1, so the maximum is 1).

The suggestion (whom to move to B) is the smallest number of demotions after which the group
complies, taking the lowest final scores first. Demoting A→B changes the base under
``good_only`` (one more B each time), so the limit that must hold is the limit *after* the
demotions: we search the smallest ``k`` with ``#A − k ≤ limit(#B + k, #A − k)``. The limit
never decreases as ``k`` grows (the base only grows, the ranked size is unchanged) while
``#A − k`` decreases, so the first such ``k`` is the minimum and every larger ``k`` complies
too. ``k = #A`` always complies (0 ≤ any limit).

Ties at the cut are never broken silently: when the last A kept and the first A demoted have
the same score, every A with that score goes to ``tie``; ``keep`` holds the A strictly above
it, ``demote`` the A strictly below, and ``tie_slots`` says how many of ``tie`` may keep A. The
user chooses: demoting ``demote`` plus any ``len(tie) − tie_slots`` of ``tie`` complies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from ..issues import Issue, make_issue
from ..models import EvaluationRow
from .common import Where, fmt_score
from .grading import grade_for
from .kpi import capped

RANKED = ("A", "B", "C", "D")
UNIT_SCOPE = "*"  # the group of the whole-list finding (letter §2.5.a: "Đơn vị ... có dưới 05 người")
AGENCY_SCOPE = "**"  # Decree 335: A ≤ 20 % of B "in the same agency" too (quota.scopes has "agency")
_ROUNDING = {"floor": ROUND_FLOOR, "round": ROUND_HALF_UP, "ceil": ROUND_CEILING}
_NO_SCORE = Decimal("-Infinity")  # an A without a total sorts last (its own error elsewhere)


def quota_limit(b_count: int, a_count: int, ranked_size: int, quota: Any) -> int:
    """Largest number of A allowed in a group (letter §2.5.a).

    Args:
        b_count: number of final grade B in the group.
        a_count: number of final grade A in the group.
        ranked_size: number of people graded A/B/C/D (not KXL) in the group.
        quota: ``settings.quota`` (ratio, base, rounding, small_group_size, small_group_max_a).

    ``round`` rounds half up (0.5 → 1), unlike Python's banker's ``round``.
    """
    base = b_count if quota.base == "good_only" else a_count + b_count
    raw = Decimal(str(quota.ratio)) * base  # Decimal: 0.2 × 15 is exactly 3, even with ceil
    limit = int(raw.quantize(Decimal(1), rounding=_ROUNDING.get(quota.rounding, ROUND_FLOOR)))
    if ranked_size < quota.small_group_size:
        # letter §2.5.a: a unit or group of fewer than 5 people may have one A
        limit = max(limit, quota.small_group_max_a)
    return max(limit, 0)


def max_allowed(good_or_better: int, ranked_size: int, quota: Any) -> int:
    """The true maximum of A in a group whose A and B people number ``good_or_better``.

    The largest ``m`` with ``m ≤ quota_limit(#B = good_or_better − m, #A = m)``. The set of
    such ``m`` is closed downwards (fewer A never lowers the limit), so a group complies
    exactly when its A count is at most this, and it is found by bisection (``m = 0`` always
    qualifies): a school's individual forms are regrouped once per new form, and a walk down
    from ``good_or_better`` cost each of them a step per person (issue 19).
    """
    lo, hi = 0, max(good_or_better, 0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if mid <= quota_limit(good_or_better - mid, mid, ranked_size, quota):
            lo = mid
        else:
            hi = mid - 1
    return lo


@dataclass
class QuotaFinding:
    """The quota status of one subject group (or of the whole list, group ``UNIT_SCOPE``),
    with the suggestion when it is exceeded.

    ``limit`` is the true maximum of A (:func:`max_allowed`; for the whole list of a small
    unit, ``small_group_max_a``); ``limit_after`` the rule's limit once the suggestion is
    applied (under ``good_only`` each demotion adds a B). ``moves`` is how many A the
    suggestion moves to B.
    """

    group: str
    count_a: int
    limit: int
    base_kind: str  # "good_only" | "good_or_better"
    base_count: int
    ranked_size: int
    ok: bool
    ranked: list[EvaluationRow] = field(default_factory=list)  # the A rows, final score desc
    keep: list[EvaluationRow] = field(default_factory=list)
    demote: list[EvaluationRow] = field(default_factory=list)
    tie: list[EvaluationRow] = field(default_factory=list)
    tie_slots: int = 0  # how many of ``tie`` may keep A
    limit_after: int = 0
    small_group: bool = False
    moves: int = 0

    @property
    def keep_count(self) -> int:
        """Number of A once the suggestion (and the user's tie choice) is applied."""
        return len(self.keep) + self.tie_slots


def _score(row: EvaluationRow) -> Decimal:
    t = row.final_total
    return _NO_SCORE if t is None or t.is_nan() else t


def group_of(row: EvaluationRow) -> str:
    """The quota scope of a row: its subject group, defaulting to its category (SPEC §3)."""
    return row.group or row.category


def _finding(group: str, rows: list[EvaluationRow], quota: Any, unit_limit: int | None = None) -> QuotaFinding:
    """The finding of ``rows``; ``unit_limit`` set: the whole-list cap of a small unit instead."""
    a_rows = [r for r in rows if r.final_grade == "A"]
    a = len(a_rows)
    b = sum(1 for r in rows if r.final_grade == "B")
    n = sum(1 for r in rows if r.final_grade in RANKED)

    def allowed(k: int) -> int:  # the rule's limit after k demotions
        return unit_limit if unit_limit is not None else quota_limit(b + k, a - k, n, quota)

    ranked = sorted(a_rows, key=_score, reverse=True)  # stable: equal scores keep list order
    # the fewest demotions k with a − k ≤ allowed(k): after k of them a − k A and b + k B,
    # so a − k is at most the true maximum of A (max_allowed, closed downwards)
    limit = unit_limit if unit_limit is not None else max_allowed(a + b, n, quota)
    k = a - min(a, max(limit, 0))
    keep_n = a - k
    keep, demote, tie = ranked[:keep_n], ranked[keep_n:], []
    if 0 < keep_n < a and _score(ranked[keep_n - 1]) == _score(ranked[keep_n]):
        cut = _score(ranked[keep_n])
        keep = [r for r in ranked if _score(r) > cut]
        tie = [r for r in ranked if _score(r) == cut]
        demote = [r for r in ranked if _score(r) < cut]
    base_count = b if quota.base == "good_only" else a + b
    return QuotaFinding(
        group=group,
        count_a=a,
        limit=limit,
        base_kind=quota.base,
        base_count=base_count,
        ranked_size=n,
        ok=k == 0,
        ranked=ranked,
        keep=keep,
        demote=demote,
        tie=tie,
        tie_slots=keep_n - len(keep),
        limit_after=allowed(k),
        small_group=n < quota.small_group_size,
        moves=k,
    )


def _unit_finding(rows: Sequence[EvaluationRow], quota: Any) -> QuotaFinding | None:
    """Letter §2.5.a: a unit of fewer than 5 ranked people has one A in total, whatever its
    groups (``quota.small_unit_total``). Judged on the rows of one decider's list."""
    ranked = [r for r in rows if r.final_grade in RANKED]
    if not quota.small_unit_total or len(ranked) >= quota.small_group_size:
        return None
    return _finding(UNIT_SCOPE, list(rows), quota, unit_limit=quota.small_group_max_a)


def scope_label(codes: Any, group: str) -> str:
    """How reports name a finding's scope: the group's label, or the whole unit."""
    if group == UNIT_SCOPE:
        return "Cả đơn vị (dưới 05 người)"
    if group == AGENCY_SCOPE:
        return "Toàn cơ quan, đơn vị"
    return str(codes.label("groups", group))


def _person(row: EvaluationRow) -> str:
    score = f"{fmt_score(row.final_total)} điểm" if row.final_total is not None else "chưa có điểm"
    return f"{row.full_name or row.person_code} ({score})"


def _detail(f: QuotaFinding, quota: Any) -> str:
    """Why the maximum is what it is, in the clerk's terms."""
    percent = fmt_score(Decimal(str(quota.ratio)) * 100)
    if f.small_group and f.limit <= quota.small_group_max_a and f.limit_after <= quota.small_group_max_a:
        return f"nhóm dưới {quota.small_group_size} người được {quota.small_group_max_a} người loại A"
    if f.base_kind == "good_or_better":
        return f"{percent}% của {f.base_count} người loại A và B"
    # good_only: one A more than the maximum leaves too few B (letter §2.5.a: 20% of the B)
    over = f.limit + 1
    b_left = f.base_count + f.count_a - over
    return (
        f"nếu có {over} người loại A thì còn {b_left} người loại B, "
        f"{percent}% của {b_left} chỉ cho phép {quota_limit(b_left, over, f.ranked_size, quota)} người"
    )


def _suggestion(f: QuotaFinding) -> str:
    parts = []
    if f.demote:
        parts.append(", ".join(_person(r) for r in f.demote))
    if f.tie:
        # a tie at the cut is the user's choice, never broken here (SPEC §6)
        parts.append(
            f"{len(f.tie) - f.tie_slots} trong số {len(f.tie)} người bằng điểm nhau "
            f"({', '.join(_person(r) for r in f.tie)}), đơn vị tự chọn"
        )
    return "; ".join(parts)


def check_quota(
    rows: Sequence[EvaluationRow], settings: Any, *, file: str = "", sheet: str = ""
) -> tuple[list[QuotaFinding], list[Issue]]:
    """Check the A-quota per subject group of one decider's rows (letter §2.5.a).

    Returns one :class:`QuotaFinding` per group (in order of first appearance), then, when
    the list ranks fewer than ``small_group_size`` people and ``quota.small_unit_total`` is
    on, one for the whole list (group :data:`UNIT_SCOPE`). Issues (severity violation): one
    ``quota-exceeded`` per violating group; for a small list, instead, one
    ``quota-unit-exceeded`` when it has too many A in total (that cap implies every group's).
    The issue points at the final-grade cell of the first person suggested for B (or of the
    first tied person).
    """
    quota = settings.quota
    groups: dict[str, list[EvaluationRow]] = {}
    for row in rows:
        groups.setdefault(group_of(row), []).append(row)
    findings = [_finding(g, rs, quota) for g, rs in groups.items()]
    if "agency" in getattr(quota, "scopes", ()) and len(groups) > 1:
        # SPEC §13, Decree 335: the ratio holds in each group and in the agency as a whole
        findings.append(_finding(AGENCY_SCOPE, list(rows), quota))
    where = Where(file=file, sheet=sheet)
    unit = _unit_finding(rows, quota)
    if unit is None:
        return findings, [make_issue("quota-exceeded", **_params(f, quota, where)) for f in findings if not f.ok]
    # Every group of a small list is small too, so its limit is at least small_group_max_a:
    # the whole-list cap implies every group's, and its suggestion is the only one needed.
    issues = [] if unit.ok else [make_issue("quota-unit-exceeded", **_params(unit, quota, where))]
    return [*findings, unit], issues


def _params(f: QuotaFinding, quota: Any, where: Where) -> dict[str, Any]:
    """The issue's place and parameters: at the first person suggested for B (or tied)."""
    first = (f.demote or f.tie or f.ranked)[0]
    return {
        **where.row(first, "final_grade"),
        "value": f.count_a,
        "group": f.group,
        "count": f.count_a,
        "limit": f.limit,
        "moves": f.moves,
        "size": f.ranked_size,
        "small": quota.small_group_size,
        "detail": _detail(f, quota),
        "suggestion": _suggestion(f),
    }


__all__ = [
    "AGENCY_SCOPE",
    "UNIT_SCOPE",
    "QuotaFinding",
    "check_quota",
    "group_of",
    "max_allowed",
    "quota_limit",
    "scope_label",
]


# ---------------------------------------------------------------- the year (Decree 335)


@dataclass
class YearQuotaGroup:
    """The A-quota of one group at year level (SPEC §13, Decree 335): the people whose band of
    the average score is A, best average first, and how many of them the quota holds. A
    proposal only: the year's grades are never changed by the product."""

    unit_code: str
    unit_name: str
    group: str
    count_a: int
    count_b: int
    limit: int
    ranked_size: int
    people: list[tuple[Any, Decimal]]  # (YearRow, average), A by the average, best first

    @property
    def exceeded(self) -> bool:
        return self.count_a > self.limit

    def within(self, index: int) -> bool:
        """Whether the ``index``-th A (best first) is within the quota."""
        return index < self.limit


def year_quota(rows: Sequence[Any], grading: Any, quota: Any, caps: Sequence[Any] = ()) -> list[YearQuotaGroup]:
    """Decree 335's A-quota applied to the year's averages (SPEC §13: A ≤ 20 % of the number
    graded B in each group with similar tasks), per unit and subject group (the product's
    reading of "agency": the unit the year view lists a person under). ``rows``:
    :class:`~danhgia_batch.models.YearRow`; ``quota``: the regime's quota settings (ratio,
    base, rounding and small-group rules, as for a period's list: :func:`max_allowed`). Groups
    without an A are left out. Ties at the limit are kept in the given order (name), the
    decider judges them."""
    by_group: dict[tuple[str, str], list[tuple[Any, Decimal, str]]] = {}
    for r in rows:
        average = r.average
        if average is None:
            continue
        band = capped(grade_for(average, grading), r.flags, caps)  # disciplined in the year: D (Decree 335)
        by_group.setdefault((r.unit_code, r.group or ""), []).append((r, average, band))
    out: list[YearQuotaGroup] = []
    for (unit, group), people in sorted(by_group.items()):
        a = sorted(((r, avg) for r, avg, band in people if band == "A"), key=lambda x: -x[1])
        if not a:
            continue
        count_b = sum(1 for *_, band in people if band == "B")
        limit = max_allowed(len(a) + count_b, len(people), quota)
        out.append(YearQuotaGroup(unit, people[0][0].unit_name, group, len(a), count_b, limit, len(people), a))
    return out
