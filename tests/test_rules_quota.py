"""The A-quota (letter §2.5.a): limits, findings, suggestions; property tests of the suggestion."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from danhgia_batch.issues import Severity
from danhgia_batch.models import EvaluationRow
from danhgia_batch.rules import UNIT_SCOPE, check_quota, quota_limit
from danhgia_batch.settings import QuotaSettings, Settings

D = Decimal
GOOD_ONLY = QuotaSettings()
GOOD_OR_BETTER = QuotaSettings(base="good_or_better")


def make_row(n: int, grade: str, total: str | None, group: str = "CBCC") -> EvaluationRow:
    r = 10 + n
    return EvaluationRow(
        row=r,
        person_code=f"CB{n:03d}",
        full_name=f"Người {n}",
        position_code="CONG_CHUC",
        category="CBCC",
        group=group,
        final_total=None if total is None else D(total),
        final_grade=grade,
        cells={"final_grade": f"U{r}"},
    )


def with_quota(settings: Settings, **kw: Any) -> Settings:
    return dataclasses.replace(settings, quota=dataclasses.replace(settings.quota, **kw))


def names(rows: list[EvaluationRow]) -> list[str]:
    return [r.person_code for r in rows]


# ---- quota_limit ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("b", "a", "n", "quota", "limit"),
    [
        (10, 3, 13, GOOD_ONLY, 2),  # floor(0.2 × 10)
        (14, 0, 14, GOOD_ONLY, 2),  # floor(2.8)
        (15, 0, 15, GOOD_ONLY, 3),
        (4, 2, 6, GOOD_ONLY, 0),  # floor(0.8): five or more people, no small-group allowance
        (0, 3, 4, GOOD_ONLY, 1),  # fewer than 5 ranked people: one A
        (0, 0, 0, GOOD_ONLY, 1),
        (10, 5, 15, GOOD_OR_BETTER, 3),  # floor(0.2 × 15)
        (4, 1, 5, GOOD_OR_BETTER, 1),
        (15, 0, 15, QuotaSettings(rounding="ceil"), 3),  # exact decimal: 0.2 × 15 is 3, not 3.0000000000000004
        (11, 0, 11, QuotaSettings(rounding="ceil"), 3),
        (12, 0, 12, QuotaSettings(rounding="round"), 2),  # 2.4
        (13, 0, 13, QuotaSettings(rounding="round"), 3),  # 2.6
        (10, 0, 10, QuotaSettings(ratio=0.25, rounding="round"), 3),  # 2.5 rounds half up
        (10, 0, 10, QuotaSettings(ratio=0.25, rounding="floor"), 2),
        (0, 2, 3, QuotaSettings(small_group_max_a=2), 2),
        (4, 0, 7, QuotaSettings(small_group_size=8, small_group_max_a=1), 1),
    ],
)
def test_quota_limit(b: int, a: int, n: int, quota: QuotaSettings, limit: int) -> None:
    assert quota_limit(b, a, n, quota) == limit


# Group of n people, all ranked A or B: the largest compliant number of A.
# good_only: a ≤ floor(0.2 × (n − a)) ⇔ 6a ≤ n; good_or_better: a ≤ floor(0.2 × n); n < 5: 1.
ALLOWED_A = {
    "good_only": [1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4],
    "good_or_better": [1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 5],
}


@pytest.mark.parametrize("base", ["good_only", "good_or_better"])
@pytest.mark.parametrize("size", range(1, 26))
def test_allowed_a_by_group_size(settings: Settings, base: str, size: int) -> None:
    allowed = ALLOWED_A[base][size - 1]
    s = with_quota(settings, base=base)
    compliant = [make_row(i, "A", "95") for i in range(allowed)] + [
        make_row(i, "B", "80") for i in range(allowed, size)
    ]
    findings, issues = check_quota(compliant, s)
    assert findings[0].ok and issues == []
    if allowed < size:
        over = [make_row(i, "A", "95") for i in range(allowed + 1)] + [
            make_row(i, "B", "80") for i in range(allowed + 1, size)
        ]
        findings, issues = check_quota(over, s)
        assert not findings[0].ok
        # letter §2.5.a: a list of fewer than 5 ranked people has one A in total
        assert [i.code for i in issues] == ["quota-unit-exceeded" if size < 5 else "quota-exceeded"]


# ---- findings and suggestions ---------------------------------------------------------------


def test_compliant_list_is_a_no_op(settings: Settings) -> None:
    rows = [make_row(1, "A", "95"), make_row(2, "A", "92")] + [make_row(i, "B", "80") for i in range(3, 13)]
    (f,), issues = check_quota(rows, settings)
    assert issues == []
    assert (f.group, f.count_a, f.limit, f.base_kind, f.base_count, f.ranked_size) == (
        "CBCC",
        2,
        2,
        "good_only",
        10,
        12,
    )
    assert f.ok and names(f.keep) == ["CB001", "CB002"] and f.demote == [] and f.tie == []


def test_exceeded_suggests_lowest_scores(settings: Settings) -> None:
    rows = [make_row(1, "A", "91"), make_row(2, "A", "97.5"), make_row(3, "A", "93")]
    rows += [make_row(i, "B", "80") for i in range(4, 14)]  # 10 B → limit 2
    (f,), (issue,) = check_quota(rows, settings, file="ds.xlsx", sheet="DanhSach")
    assert not f.ok and f.count_a == 3 and f.limit == 2
    assert names(f.ranked) == ["CB002", "CB003", "CB001"]
    assert names(f.keep) == ["CB002", "CB003"] and names(f.demote) == ["CB001"] and f.tie == []
    assert issue.code == "quota-exceeded" and issue.severity is Severity.VIOLATION
    assert (issue.file, issue.sheet, issue.cell, issue.row) == ("ds.xlsx", "DanhSach", "U11", 11)
    assert "Người 1" in issue.message and "Người 2" not in issue.message


def test_good_only_limit_after_demotion(settings: Settings) -> None:
    # 2 A, 4 B: floor(0.8) = 0 as the list stands, but demoting one A makes 5 B → limit 1:
    # the true maximum is 1, and one A moves, not two
    rows = [make_row(1, "A", "95"), make_row(2, "A", "92")] + [make_row(i, "B", "80") for i in range(3, 7)]
    (f,), _ = check_quota(rows, settings)
    assert (f.limit, f.limit_after, f.moves) == (1, 1, 1)
    assert names(f.keep) == ["CB001"] and names(f.demote) == ["CB002"]


def test_one_a_four_b_states_a_maximum_of_zero(settings: Settings) -> None:
    # issue 14: "vượt mức tối đa 0 … sau khi chuyển, mức tối đa là 1" — the maximum is 0:
    # keeping the A leaves 4 B, whose 20% is 0
    rows = [make_row(1, "A", "95")] + [make_row(i, "B", "80") for i in range(2, 6)]
    (f,), (issue,) = check_quota(rows, settings)
    assert (f.count_a, f.limit, f.moves, f.keep_count) == (1, 0, 1, 0)
    assert names(f.demote) == ["CB001"]
    assert (issue.code, issue.cell, issue.value) == ("quota-exceeded", "U11", "1")


def test_tie_states_the_maximum_it_suggests(settings: Settings) -> None:
    # issue 14: two tied A and 9 B — "mức tối đa là 2" while suggesting to keep 1 A
    rows = [make_row(1, "A", "92"), make_row(2, "A", "92")] + [make_row(i, "B", "80") for i in range(3, 12)]
    (f,), (issue,) = check_quota(rows, settings)
    assert (f.limit, f.moves, f.keep_count, f.tie_slots) == (1, 1, 1, 1)
    assert names(f.tie) == ["CB001", "CB002"] and f.keep == [] and f.demote == []
    assert (issue.code, issue.cell) == ("quota-exceeded", "U11")


@pytest.mark.parametrize(
    ("grades", "total", "codes"),
    [
        # issue 14: 2 CBCC + 2 LĐHĐ with one A each: each group is "under 5", the unit too
        ({"CBCC": "AB", "LDHD": "AB"}, True, ["quota-unit-exceeded"]),
        ({"CBCC": "AB", "LDHD": "AB"}, False, []),
        ({"CBCC": "AB", "LDHD": "BB"}, True, []),
        ({"CBCC": "AA", "LDHD": "BB"}, False, ["quota-exceeded"]),
        ({"CBCC": "AA", "LDHD": "BB"}, True, ["quota-unit-exceeded"]),
        ({f"NHOM{i}": "A" for i in range(1, 5)}, True, ["quota-unit-exceeded"]),
        ({"CBCC": "ABB", "LDHD": "AB"}, True, []),  # 5 ranked: not a small unit, groups alone
    ],
)
def test_small_unit_has_one_a_in_total(settings: Settings, grades: dict, total: bool, codes: list) -> None:
    rows, n = [], 0
    for group, letters in grades.items():
        for letter in letters:
            n += 1
            rows.append(make_row(n, letter, "95" if letter == "A" else "80", group=group))
    findings, issues = check_quota(rows, with_quota(settings, small_unit_total=total))
    assert [i.code for i in issues] == codes
    unit = [f for f in findings if f.group == UNIT_SCOPE]
    assert len(unit) == (1 if total and n < 5 else 0)
    if unit and codes:
        assert (unit[0].limit, unit[0].count_a, unit[0].moves) == (
            1,
            sum(g.count("A") for g in grades.values()),
            unit[0].count_a - 1,
        )


def test_all_demoted_when_no_b_at_all(settings: Settings) -> None:
    rows = [make_row(i, "A", str(90 + i)) for i in range(1, 6)]  # five A, no B
    (f,), _ = check_quota(rows, settings)
    assert f.keep == [] and len(f.demote) == 5 and f.limit_after == 1  # 5 B → floor(1.0)


def test_tie_at_the_cut_is_reported_not_broken(settings: Settings) -> None:
    rows = [make_row(1, "A", "95"), make_row(2, "A", "91"), make_row(3, "A", "91"), make_row(4, "A", "90")]
    rows += [make_row(i, "B", "80") for i in range(5, 15)]  # 10 B → limit 2
    (f,), (issue,) = check_quota(rows, settings)
    assert names(f.keep) == ["CB001"]
    assert names(f.tie) == ["CB002", "CB003"] and f.tie_slots == 1
    assert names(f.demote) == ["CB004"]
    assert "Người 2" in issue.message and "Người 3" in issue.message


def test_groups_are_separate_and_kxl_counts_nowhere(settings: Settings) -> None:
    cbcc = [make_row(1, "A", "95")] + [make_row(i, "B", "80") for i in range(2, 7)]  # 5 B → 1
    vc = [make_row(i, "A", "95", group="VC") for i in range(7, 9)] + [
        make_row(i, "KXL", None, group="VC") for i in range(9, 19)
    ]
    findings, issues = check_quota(cbcc + vc, settings)
    by_group = {f.group: f for f in findings}
    assert by_group["CBCC"].ok
    assert by_group["VC"].ranked_size == 2 and by_group["VC"].limit == 1 and not by_group["VC"].ok
    assert [i.cell for i in issues] == ["U17"]  # the first of the tied people
    assert names(by_group["VC"].tie) == ["CB007", "CB008"]


def test_empty_group_defaults_to_category(settings: Settings) -> None:
    rows = [dataclasses.replace(make_row(i, "B", "80"), group="") for i in range(1, 4)]
    (f, unit), _ = check_quota(rows, settings)
    assert (f.group, unit.group) == ("CBCC", UNIT_SCOPE)


def test_good_or_better_base(settings: Settings) -> None:
    s = with_quota(settings, base="good_or_better")
    rows = [make_row(i, "A", str(90 + i)) for i in range(1, 4)] + [make_row(i, "B", "80") for i in range(4, 11)]
    (f,), _ = check_quota(rows, s)
    assert (f.base_kind, f.base_count, f.limit) == ("good_or_better", 10, 2)
    assert names(f.demote) == ["CB001"]


# ---- properties ---------------------------------------------------------------------------

SCORES = [D("90"), D("91.5"), D("93"), D("95"), D("99.99"), D("100")]
GRADES = ["A", "A", "B", "B", "B", "C", "D", "KXL"]


@st.composite
def lists(draw: st.DrawFn) -> list[EvaluationRow]:
    size = draw(st.integers(min_value=0, max_value=40))
    rows = []
    for i in range(size):
        grade = draw(st.sampled_from(GRADES))
        score = draw(st.sampled_from(SCORES)) if grade == "A" else D("80")
        rows.append(make_row(i, grade, str(score), group=draw(st.sampled_from(["CBCC", "VC"]))))
    return rows


quotas = st.builds(
    QuotaSettings,
    ratio=st.sampled_from([0.1, 0.2, 0.25, 0.3]),
    base=st.sampled_from(["good_only", "good_or_better"]),
    rounding=st.sampled_from(["floor", "round", "ceil"]),
    small_unit_total=st.booleans(),
)

PROPS = hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _apply(rows: list[EvaluationRow], demoted: set[str]) -> list[EvaluationRow]:
    return [dataclasses.replace(r, final_grade="B") if r.person_code in demoted else r for r in rows]


def _score(r: EvaluationRow) -> Decimal:
    assert r.final_total is not None
    return r.final_total


@PROPS
@given(rows=lists(), quota=quotas, data=st.data())
def test_suggestion_always_complies(settings: Settings, rows: list, quota: QuotaSettings, data: st.DataObject) -> None:
    """demote ∪ (any len(tie) − tie_slots of tie) → B gives a compliant list."""
    s = dataclasses.replace(settings, quota=quota)
    findings, issues = check_quota(rows, s)
    unit = [f for f in findings if f.group == UNIT_SCOPE]
    if unit:  # a small list: the whole-list cap implies every group's; one suggestion
        assert len(issues) == (not unit[0].ok) and all(f.ok for f in findings) == unit[0].ok
        findings = unit
    assert len(issues) == sum(not f.ok for f in findings)
    demoted: set[str] = set()
    for f in findings:
        kept_tie = {r.person_code for r in data.draw(st.permutations(f.tie))[: f.tie_slots]}
        demoted |= {r.person_code for r in f.demote}
        demoted |= {r.person_code for r in f.tie if r.person_code not in kept_tie}
        assert f.count_a - len(f.demote) - (len(f.tie) - f.tie_slots) == f.keep_count
        assert f.keep_count <= f.limit_after
    after, after_issues = check_quota(_apply(rows, demoted), s)
    assert after_issues == [] and all(f.ok for f in after)


@PROPS
@given(rows=lists(), quota=quotas)
def test_suggestion_never_demotes_a_higher_score(settings: Settings, rows: list, quota: QuotaSettings) -> None:
    s = dataclasses.replace(settings, quota=quota)
    for f in check_quota(rows, s)[0]:
        assert sorted(names(f.keep + f.tie + f.demote)) == sorted(names(f.ranked))
        if f.keep and f.tie:
            assert min(map(_score, f.keep)) > max(map(_score, f.tie))
        if f.tie:
            assert len({_score(r) for r in f.tie}) == 1 and 0 < f.tie_slots < len(f.tie)
        if f.demote and (f.keep or f.tie):
            assert min(map(_score, f.keep + f.tie)) > max(map(_score, f.demote))


@PROPS
@given(rows=lists(), quota=quotas)
def test_suggestion_is_minimal_and_a_no_op_when_compliant(settings: Settings, rows: list, quota: QuotaSettings) -> None:
    s = dataclasses.replace(settings, quota=quota)
    for f in check_quota(rows, s)[0]:
        assert f.ok == (f.count_a <= f.limit)
        if f.ok:
            assert f.demote == [] and f.tie == [] and f.keep == f.ranked
            continue
        if f.group == UNIT_SCOPE:
            assert f.keep_count == quota.small_group_max_a
            continue
        # one demotion fewer (keeping one more A) would not comply, with the base it gives
        b = sum(1 for r in rows if (r.group or r.category) == f.group and r.final_grade == "B")
        k = f.count_a - f.keep_count
        assert f.count_a - (k - 1) > quota_limit(b + k - 1, f.count_a - (k - 1), f.ranked_size, quota)


@PROPS
@given(rows=lists(), base=st.sampled_from(["good_only", "good_or_better"]), total=st.booleans())
def test_allowed_a_never_exceeds_the_letter(settings: Settings, rows: list, base: str, total: bool) -> None:
    """Letter §2.5.a, default ratio and rounding: the maximum a finding states is at most
    max(1 if fewer than 5 ranked, floor(0.2 × base)), the base being the B (or A+B) once the
    group holds that maximum; a small list keeps one A in total once its suggestion applies."""
    quota = QuotaSettings(base=base, small_unit_total=total)
    findings, issues = check_quota(rows, dataclasses.replace(settings, quota=quota))
    for f in findings:
        small = f.ranked_size < 5
        if f.group == UNIT_SCOPE:
            assert small and total and f.limit == 1
            continue
        a_or_b = f.base_count + (f.count_a if base == "good_only" else 0)
        base_at_max = a_or_b - f.limit if base == "good_only" else a_or_b
        assert f.limit <= max(1 if small else 0, (2 * base_at_max) // 10)
        assert f.ok == (f.count_a <= f.limit)
    ranked = [r for r in rows if r.final_grade in ("A", "B", "C", "D")]
    if total and len(ranked) < 5:
        kept = next(f for f in findings if f.group == UNIT_SCOPE).keep_count
        assert kept <= 1 and (issues == []) == (sum(r.final_grade == "A" for r in rows) <= 1)


def _walked_max(good: int, n: int, quota: QuotaSettings) -> int:
    """The true maximum of A by the rule's own definition, walked down from ``good``."""
    m = good
    while m > 0 and m > quota_limit(good - m, m, n, quota):
        m -= 1
    return m


def _walked_moves(a: int, b: int, n: int, quota: QuotaSettings) -> int:
    """The fewest demotions after which a group complies, walked up from none."""
    return next(k for k in range(a + 1) if a - k <= quota_limit(b + k, a - k, n, quota))


QUOTAS = [
    QuotaSettings(ratio=ratio, base=base, rounding=rounding, small_group_size=size, small_group_max_a=one)
    for ratio in (0.1, 0.2, 1 / 3, 1.0)
    for base in ("good_only", "good_or_better")
    for rounding in ("floor", "round", "ceil")
    for size, one in ((5, 1), (0, 0), (8, 2))
]


@pytest.mark.parametrize("quota", QUOTAS, ids=lambda q: f"{q.ratio:.2f}-{q.base}-{q.rounding}-{q.small_group_size}")
def test_the_maximum_and_the_moves_are_those_of_the_rule_walked_step_by_step(
    settings: Settings, quota: QuotaSettings
) -> None:
    """Issue 19: the maximum of A is found by bisection and the suggestion's moves from it; both
    are the rule's own (letter §2.5.a), walked one step at a time, for every group up to 25."""
    from danhgia_batch.rules import max_allowed

    settings = dataclasses.replace(settings, quota=dataclasses.replace(quota, small_unit_total=False))
    for good in range(26):
        for n in {good, good + 3, 4}:
            assert max_allowed(good, n, quota) == _walked_max(good, n, quota), (good, n)
        for a in range(good + 1):
            b, n = good - a, good + 2
            rows = [make_row(i, "A", str(99 - i)) for i in range(a)]
            rows += [make_row(a + i, "B", "75") for i in range(b)]
            rows += [make_row(good + i, "C", "60") for i in range(2)]
            finding = check_quota(rows, settings)[0][0]
            assert (finding.moves, finding.limit) == (_walked_moves(a, b, n, quota), _walked_max(good, n, quota))
