"""The A-quota (letter §2.5.a, SPEC §6).

"Tổng số trường hợp 'Hoàn thành xuất sắc nhiệm vụ' không vượt quá 20% tổng số CBCCVC được xếp
loại 'Hoàn thành tốt nhiệm vụ' theo từng nhóm đối tượng": in each subject group of one
decider's list, ``#A ≤ rounding(ratio × base)`` with base = #B (``good_only``, the letter's
literal wording, default) or #A+#B (``good_or_better``). "Đơn vị hoặc nhóm đối tượng có dưới 05
người" may have one A. Only final grades A/B/C/D count; ``KXL`` counts nowhere.

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

RANKED = ("A", "B", "C", "D")
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


@dataclass
class QuotaFinding:
    """The quota status of one subject group, with the suggestion when it is exceeded.

    ``limit`` is the limit as the list stands; ``limit_after`` the limit once the suggestion
    is applied (they differ under ``good_only``, where each demotion adds a B).
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


def _finding(group: str, rows: list[EvaluationRow], quota: Any) -> QuotaFinding:
    a_rows = [r for r in rows if r.final_grade == "A"]
    a = len(a_rows)
    b = sum(1 for r in rows if r.final_grade == "B")
    n = sum(1 for r in rows if r.final_grade in RANKED)
    limit = quota_limit(b, a, n, quota)
    ranked = sorted(a_rows, key=_score, reverse=True)  # stable: equal scores keep list order
    k = next(k for k in range(a + 1) if a - k <= quota_limit(b + k, a - k, n, quota))
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
        limit_after=quota_limit(b + k, a - k, n, quota),
        small_group=n < quota.small_group_size,
    )


def _person(row: EvaluationRow) -> str:
    score = f"{fmt_score(row.final_total)} điểm" if row.final_total is not None else "chưa có điểm"
    return f"{row.full_name or row.person_code} ({score})"


def _detail(f: QuotaFinding, quota: Any) -> str:
    percent = fmt_score(Decimal(str(quota.ratio)) * 100)
    who = "loại B" if f.base_kind == "good_only" else "loại A và B"
    text = f"{percent}% của {f.base_count} người {who}"
    if f.small_group:
        text += f"; nhóm dưới {quota.small_group_size} người được {quota.small_group_max_a} người loại A"
    if f.limit_after != f.limit:
        text += f"; sau khi chuyển, mức tối đa là {f.limit_after}"
    return text


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

    Returns one :class:`QuotaFinding` per group (in order of first appearance) and one
    ``quota-exceeded`` issue (severity violation) per violating group. The issue points at
    the final-grade cell of the first person suggested for B (or of the first tied person).
    """
    quota = settings.quota
    groups: dict[str, list[EvaluationRow]] = {}
    for row in rows:
        groups.setdefault(group_of(row), []).append(row)
    findings = [_finding(g, rs, quota) for g, rs in groups.items()]
    where = Where(file=file, sheet=sheet)
    issues = []
    for f in findings:
        if f.ok:
            continue
        first = (f.demote or f.tie or f.ranked)[0]
        issues.append(
            make_issue(
                "quota-exceeded",
                **where.row(first, "final_grade"),
                value=f.count_a,
                group=f.group,
                count=f.count_a,
                limit=f.limit,
                detail=_detail(f, quota),
                suggestion=_suggestion(f),
            )
        )
    return findings, issues


__all__ = ["QuotaFinding", "check_quota", "group_of", "quota_limit"]
