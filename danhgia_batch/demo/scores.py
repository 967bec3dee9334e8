"""Realistic scores and dates for the demo's lists (letter §2.3, §2.5).

Most people are ranked B, about one in six A (never above the quota of letter §2.5 unless a
fault asks for it), a few C, a rare D and a couple not ranked (KXL, with a reason). Self
scores are mostly at or a little above the final score. Dates fall within the deadlines of
letter §2.3 (self-assessment before the 25th, decision before the 28th; December before the
15th), as configured in ``[deadlines]``.
"""

from __future__ import annotations

import calendar
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from ..domain import Framework
from ..models import Person
from ..settings import GradingSettings, QuotaSettings, Settings

HALF = Decimal("0.5")
KXL_REASONS = ("Nghỉ thai sản", "Mới tuyển dụng, chưa đủ thời gian đánh giá", "Nghỉ ốm dài ngày")
LOWERED_NOTE = "Hạ một bậc do chậm tiến độ công việc được giao"


@dataclass(frozen=True)
class PeriodDates:
    """The demo's dates for a period: self-assessment window and decision window."""

    self_first: date
    self_last: date
    decision_first: date
    decision_last: date
    late_decision: date  # a decision past the deadline (still inside the month): the demo's fault


def period_dates(period: str, settings: Settings, *, not_after: date | None = None) -> PeriodDates:
    """Windows within the deadlines of letter §2.3 for ``period`` (``YYYY-MM``).

    ``not_after`` (today, for the current month): no date of a valid list lies after it, since
    a date written after the file arrived is a warning (letter §2.3; rules ``date-after-arrival``).
    The late decision stays past the deadline, wherever today is.
    """
    year, month = (int(x) for x in period.split("-"))
    d = settings.deadlines
    slack = 0 if d.inclusive else 1
    if month == 12:
        self_day = decision_day = d.december_day
    else:
        self_day, decision_day = d.self_assessment_day, d.decision_day
    last_day = calendar.monthrange(year, month)[1]
    self_last = date(year, month, min(self_day - slack, last_day))
    decision_last = date(year, month, min(decision_day - slack, last_day - 3))
    decision_first = max(self_last + timedelta(days=1), decision_last - timedelta(days=2))
    if decision_first > decision_last:
        decision_first = decision_last
        self_last = min(self_last, decision_last)
    late = decision_last + timedelta(days=3)  # two days past the deadline
    self_first = self_last - timedelta(days=7)
    if not_after is not None and not_after >= date(
        year, month, 1
    ):  # min() keeps self_first <= self_last <= decision_first <= decision_last
        self_first, self_last = min(self_first, not_after), min(self_last, not_after)
        decision_first, decision_last = min(decision_first, not_after), min(decision_last, not_after)
    return PeriodDates(self_first, self_last, decision_first, decision_last, late)


def band(total: Decimal, grading: GradingSettings) -> str:
    """Letter §2.5: A ≥ 90, B ≥ 70, C ≥ 50, D below (thresholds from settings)."""
    if total >= Decimal(str(grading.a)):
        return "A"
    if total >= Decimal(str(grading.b)):
        return "B"
    if total >= Decimal(str(grading.c)):
        return "C"
    return "D"


def _limit(quota: QuotaSettings, ranked: int, count_a: int, count_b: int) -> int:
    if ranked < quota.small_group_size:
        return quota.small_group_max_a
    base = count_b if quota.base == "good_only" else count_a + count_b
    raw = quota.ratio * base
    if quota.rounding == "ceil":
        return math.ceil(raw - 1e-9)
    if quota.rounding == "round":
        return round(raw)
    return math.floor(raw + 1e-9)


def max_a(quota: QuotaSettings, ranked: int, below_b: int) -> int:
    """The largest number of A a group of ``ranked`` people (``below_b`` of them C or D) may
    have under the quota of letter §2.5; the stricter reading of "fewer than 5 people"."""
    best = 0
    for k in range(ranked - below_b + 1):
        if k <= _limit(quota, ranked, k, ranked - below_b - k):
            best = k
    return best


def split(total: Decimal, bounds: Sequence[tuple[Decimal, Decimal]], rng: random.Random) -> list[Decimal]:
    """Split ``total`` into parts within ``bounds`` (min, max), in half points, roughly in
    proportion to the maxima."""
    span = sum((hi for _, hi in bounds), Decimal(0)) or Decimal(1)
    parts: list[Decimal] = []
    for lo, hi in bounds:
        share = total * hi / span + Decimal(rng.choice((-1, -0.5, 0, 0, 0.5, 1)))
        share = (share / HALF).to_integral_value() * HALF
        parts.append(min(hi, max(lo, share)))
    diff = total - sum(parts, Decimal(0))
    order = list(range(len(parts)))
    rng.shuffle(order)
    while diff != 0:
        moved = False
        for i in order:
            lo, hi = bounds[i]
            step = min(diff, hi - parts[i]) if diff > 0 else max(diff, lo - parts[i])
            if step:
                parts[i] += step
                diff -= step
                moved = True
            if diff == 0:
                break
        if not moved:
            break
    return parts


@dataclass
class Scored:
    """One person's generated evaluation (before it becomes a template row)."""

    person: Person
    self_parts: list[Decimal]
    final_parts: list[Decimal]
    self_grade: str
    final_grade: str
    self_date: date
    note: str = ""

    @property
    def self_total(self) -> Decimal:
        return sum(self.self_parts, Decimal(0))

    @property
    def final_total(self) -> Decimal:
        return sum(self.final_parts, Decimal(0))


@dataclass
class ScorePlan:
    """What to force on a list: special grades by person code, extra A beyond the quota."""

    special: Mapping[str, str] = field(default_factory=dict)  # person code -> "KXL" | "D" | "C"
    extra_a: int = 0  # quota fault: this many A beyond the limit in the largest group


def _total_for(grade: str, rng: random.Random, grading: GradingSettings) -> Decimal:
    a, b, c = (Decimal(str(x)) for x in (grading.a, grading.b, grading.c))
    low, high = {
        "A": (a, min(a + 7, Decimal(99))),
        "B": (b + 2, a - HALF),
        "C": (c + 4, b - HALF),
        "D": (c - 10, c - HALF),
    }[grade]
    steps = int((high - low) / HALF)
    # B scores cluster in the upper half of the band
    pick = max(rng.randint(0, steps), rng.randint(0, steps)) if grade == "B" else rng.randint(0, steps)
    return low + HALF * pick


def _grades_of_group(
    members: Sequence[Person], plan: ScorePlan, quota: QuotaSettings, rng: random.Random, extra_a: int
) -> dict[str, str]:
    grades = {p.code: plan.special[p.code] for p in members if p.code in plan.special}
    open_ = [p for p in members if p.code not in grades]
    for p in open_:
        if rng.random() < 0.03:
            grades[p.code] = "C"
    ranked = [p for p in members if grades.get(p.code) != "KXL"]
    below = sum(1 for p in ranked if grades.get(p.code) in ("C", "D"))
    limit = max_a(quota, len(ranked), below)
    n_a = limit if rng.random() < 0.7 else max(0, limit - 1)
    if len(ranked) < quota.small_group_size:
        n_a = limit if rng.random() < 0.3 else 0
    candidates = [p for p in open_ if p.code not in grades]
    n_a = min(len(candidates), n_a + extra_a)
    for p in rng.sample(candidates, n_a):
        grades[p.code] = "A"
    for p in members:
        grades.setdefault(p.code, "B")
    return grades


def score_members(
    members: Sequence[Person],
    framework: Framework,
    settings: Settings,
    dates: PeriodDates,
    rng: random.Random,
    plan: ScorePlan | None = None,
) -> list[Scored]:
    """Scores, grades, dates and notes for the members of one decider list, in member order.

    The A-quota (letter §2.5) is applied per subject group; ``plan.extra_a`` breaks it in the
    largest group on purpose (the demo's quota fault).
    """
    plan = plan or ScorePlan()
    groups: dict[str, list[Person]] = {}
    for p in members:
        groups.setdefault(p.group or p.category, []).append(p)
    largest = max(groups, key=lambda g: len(groups[g])) if groups else ""
    grades: dict[str, str] = {}
    for name, people in groups.items():
        grades.update(_grades_of_group(people, plan, settings.quota, rng, plan.extra_a if name == largest else 0))
    ranked = [p for p in members if grades[p.code] != "KXL"]
    if settings.quota.small_unit_total and len(ranked) < settings.quota.small_group_size and not plan.extra_a:
        # letter §2.5.a: a list of fewer than 5 ranked people has one A in total, whatever its groups
        for p in [p for p in members if grades[p.code] == "A"][1:]:
            grades[p.code] = "B"
    bounds = [(p.min, p.max) for p in framework.parts]
    span = (dates.self_last - dates.self_first).days
    out: list[Scored] = []
    for p in members:
        grade = grades[p.code]
        self_date = dates.self_first + timedelta(days=rng.randint(0, span))
        if grade == "KXL":
            zero = [Decimal(0)] * len(bounds)
            out.append(Scored(p, zero, zero, "KXL", "KXL", self_date, rng.choice(KXL_REASONS)))
            continue
        final = _total_for(grade, rng, settings.grading)
        roll = rng.random()
        delta = Decimal(0) if roll < 0.45 else HALF * rng.randint(1, 6) if roll < 0.95 else -HALF * rng.randint(1, 2)
        self_total = min(Decimal(100), max(Decimal(0), final + delta))
        final_parts = split(final, bounds, rng)
        self_parts = split(self_total, bounds, rng)
        self_grade = band(sum(self_parts, Decimal(0)), settings.grading)
        out.append(Scored(p, self_parts, final_parts, self_grade, grade, self_date))
    return out
