"""Figures the reports show, computed from the views only (never from the ledger)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from ..issues import Issue, Severity
from ..models import EvaluationRow, ListView, PeriodView, Person, UnitView
from ..settings import Settings
from .common import GRADES, RANKED, grade_counts


@dataclass(frozen=True)
class QuotaLine:
    """The A-quota of one subject group of one decider's list (letter §2.5.a)."""

    group: str
    ranked: int
    count_a: int
    limit: int
    ok: bool


@dataclass(frozen=True)
class Tally:
    """Grade counts of a set of rows; percentages are of the ranked people (KXL excluded)."""

    counts: dict[str, int]

    @classmethod
    def of(cls, rows: Sequence[EvaluationRow]) -> Tally:
        return cls(grade_counts([r.final_grade for r in rows]))

    @classmethod
    def total(cls, tallies: Sequence[Tally]) -> Tally:
        return cls({g: sum(t.counts[g] for t in tallies) for g in GRADES})

    @property
    def ranked(self) -> int:
        return sum(self.counts[g] for g in RANKED)

    @property
    def people(self) -> int:
        return self.ranked + self.counts["KXL"]

    def share(self, grade: str) -> float | None:
        return self.counts[grade] / self.ranked if self.ranked else None


def quota_lines(lst: ListView, settings: Settings) -> list[QuotaLine]:
    """Quota status of each subject group of ``lst`` as the decision recorded it (letter §2.5.a;
    the reports count what was decided, they never judge again)."""
    return [QuotaLine(q.group, q.ranked, q.count_a, q.limit, q.ok) for q in lst.quota]


def quota_violations(lst: ListView) -> list[Issue]:
    """The list-level violations kept with ``lst`` (quota exceeded)."""
    return [i for i in lst.issues if i.severity is Severity.VIOLATION]


def late_issues(lst: ListView) -> list[Issue]:
    """Deadline warnings kept with ``lst`` (letter §2.3: late is a warning, never a rejection)."""
    return [i for i in lst.issues if i.code.startswith("late-")]


# Other warnings kept with a list that the unit report's notes name (owner: rules): dates
# written after the file arrived (letter §2.3), individual forms whose person is on a decider's
# list, and forms whose result differs from it (letter §2.6).
NOTED_CODES = frozenset({"date-after-arrival", "form-covered-by-list", "form-list-conflict"})


def noted_issues(lst: ListView) -> list[Issue]:
    """Warnings kept with ``lst`` that its notes name, in recording order: those of
    :data:`NOTED_CODES` and every other warning (a grade below its band without a reason…),
    except the deadline warnings, which have their own line (SPEC §9: warnings are reported)."""
    return [
        i
        for i in lst.issues
        if i.code in NOTED_CODES or (i.severity is Severity.WARNING and not i.code.startswith("late-"))
    ]


def unit_is_late(unit: UnitView) -> bool:
    return any(late_issues(lst) for lst in unit.lists)


def unit_is_valid(unit: UnitView) -> bool:
    return unit.valid


def vn_key(text: str) -> str:
    """Approximate Vietnamese collation: tone marks ignored, "đ" sorted after every "d"."""
    base = unicodedata.normalize("NFD", text.casefold().replace("đ", "d\x7f"))
    return "".join(ch for ch in base if not unicodedata.combining(ch))


def given_name_key(full_name: str) -> tuple[str, str, str]:
    """Vietnamese lists sort by the given name (last word), then the whole name."""
    words = full_name.split()
    return (vn_key(words[-1]) if words else "", vn_key(full_name), full_name)


def position_rank(settings: Settings, position_code: str) -> int:
    """Rank of a position code in the code list (leaders come first there)."""
    codes = settings.codes.codes("positions")
    return codes.index(position_code) if position_code in codes else len(codes)


def position_text(settings: Settings, row: EvaluationRow | Person) -> str:
    """The position as written by the clerk, else the label of its code."""
    if row.position_title:
        return row.position_title
    return settings.codes.label("positions", row.position_code) if row.position_code else ""


def decider_text(settings: Settings, lst: ListView, *, short: bool = False) -> str:
    """The decider of a list: "Nguyễn Văn A (Trưởng phòng …)", or the name only (``short``)."""
    h = lst.header
    if short and h.decider_name:
        return h.decider_name
    pos = settings.codes.label("positions", h.decider_position) if h.decider_position else ""
    return f"{h.decider_name} ({pos})" if h.decider_name and pos else (h.decider_name or pos)


def rejected_note(line: UnitLine) -> str:
    """ " — đã gửi N tệp, bị trả lại" for a unit with no accepted list but rejected files (the
    roll-up and ``danhgia status`` agree: submitted, rejected, not yet sent again)."""
    count = len(line.view.rejected_files) if line.view and not line.submitted else 0
    return f" — đã gửi {count} tệp, bị trả lại, chưa nộp lại" if count else ""


def missing_text(unit: UnitView) -> str:
    """One line on who is missing from the unit's lists compared with the registry."""
    if unit.missing_people is None:
        return "Chưa có danh mục cán bộ: chưa kiểm tra được người còn thiếu trong danh sách."
    if not unit.missing_people:
        size = f" ({unit.registry_size} người)" if unit.registry_size else ""
        return f"Danh sách đủ so với danh mục cán bộ{size}."
    # A unit's head decides its lists and is decided on a higher authority's list (letter
    # §2.2): missing here is expected, not a gap of this unit.
    deciders = {lst.header.decider_name.strip().casefold() for lst in unit.lists if lst.header.decider_name}
    heads = [p for p in unit.missing_people if p.full_name.strip().casefold() in deciders]
    others = [p for p in unit.missing_people if p not in heads]
    lines = []
    if others:
        names = "; ".join(f"{p.full_name} ({p.code})" for p in others)
        lines.append(f"Còn thiếu {len(others)} người so với danh mục cán bộ: {names}.")
    if heads:
        names = "; ".join(f"{p.full_name} ({p.code})" for p in heads)
        lines.append(
            f"{names}: người quyết định xếp loại của đơn vị, do cấp có thẩm quyền cấp trên đánh giá, "
            "xếp loại trong danh sách của cấp trên."
        )
    if not others:
        size = f" ({unit.registry_size} người)" if unit.registry_size else ""
        lines.insert(0, f"Danh sách đủ so với danh mục cán bộ{size}, trừ người do cấp trên quyết định.")
    return " ".join(lines)


@dataclass(frozen=True)
class UnitLine:
    """One unit of a roll-up: what it sent (or not) this month."""

    code: str
    name: str
    block: str
    view: UnitView | None

    @property
    def submitted(self) -> bool:
        return self.view is not None and self.view.submitted

    @property
    def late(self) -> bool:
        return self.view is not None and unit_is_late(self.view)

    @property
    def valid(self) -> bool:
        return self.view is not None and self.view.valid

    @cached_property
    def tally(self) -> Tally:  # computed once: a roll-up sums it on every sheet
        if self.view is not None and self.view.grade_counts is not None:  # a summarised view
            return Tally({g: self.view.grade_counts.get(g, 0) for g in GRADES})
        return Tally.of(self.view.rows if self.view else [])

    @property
    def missing(self) -> int | None:
        if self.view is None or self.view.missing_people is None:
            return None
        return len(self.view.missing_people)


def unit_lines(view: PeriodView, settings: Settings, block: str | None = None) -> list[UnitLine]:
    """Registry units (in registry order) then units with data only, by block order."""
    by_code = {u.unit_code: u for u in view.units if block is None or u.block == block}
    lines = [
        UnitLine(u.code, u.name, u.block, by_code.pop(u.code, None))
        for u in view.expected_units
        if block is None or u.block == block
    ]
    lines += [
        UnitLine(u.unit_code, u.unit_name, u.block, u) for u in sorted(by_code.values(), key=lambda u: u.unit_code)
    ]
    order = {b: i for i, b in enumerate(settings.codes.codes("blocks"))}
    return sorted(lines, key=lambda ln: order.get(ln.block, len(order)))  # stable: keeps registry order
