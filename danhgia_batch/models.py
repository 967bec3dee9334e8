"""Typed values that travel between stages: what the reader produces and the rest consume.

Scores are :class:`~decimal.Decimal` with at most two decimals (SPEC §5: the grade is computed
from the exact total). Every row keeps the A1 address of each of its cells (``cells``), so a
rule can point at the exact cell of a problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from .issues import Issue, Severity


@dataclass
class ListHeader:
    """Header of a template 02 list or of a template 01 form (SPEC §8)."""

    period: str = ""  # "YYYY-MM"
    unit_code: str = ""
    unit_name: str = ""
    block: str = ""
    decider_name: str = ""
    decider_position: str = ""
    decision_date: date | None = None
    prepared_by: str = ""
    prepared_date: date | None = None
    cells: dict[str, str] = field(default_factory=dict)  # field key -> A1 address


@dataclass
class EvaluationRow:
    """One person's evaluation for one period (a row of template 02, or a template 01 form).

    ``self_parts`` / ``final_parts`` map a framework part code to its score. ``self_total`` /
    ``final_total`` are recomputed from the parts (never the formula's cached value).
    ``criteria`` (template 01 only) maps a criterion code to (self, final) scores.
    """

    row: int  # Excel row number (1-based) in the sheet, for messages
    person_code: str
    full_name: str
    position_code: str
    category: str
    group: str  # subject group for the quota; defaults to the category
    birth_date: date | None = None
    position_title: str = ""
    self_parts: dict[str, Decimal] = field(default_factory=dict)
    final_parts: dict[str, Decimal] = field(default_factory=dict)
    self_total: Decimal | None = None
    final_total: Decimal | None = None
    self_grade: str = ""
    final_grade: str = ""
    self_date: date | None = None
    evaluator_name: str = ""
    evaluator_position: str = ""
    note: str = ""
    criteria: dict[str, tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)  # field key -> A1 address
    # SPEC §13: a regime's cap flags marked for the person (e.g. "discipline") and the inputs
    # of a computed part (Decree 335: products assigned, completed…), as read
    flags: tuple[str, ...] = ()
    inputs: dict[str, Decimal] = field(default_factory=dict)
    # the list typed a group (else ``group`` is the category, and the registry's group wins)
    group_given: bool = True
    # the "grade by score" cell as typed or cached: (sheet, code, display, holds a formula);
    # the decision checks it against the bands of the regime in force (SPEC §8, §13)
    band_typed: tuple[str, str, str, bool] | None = None


@dataclass(slots=True)  # a city registry holds 170,000 of them in the deciding process (issue 19)
class Person:
    """A registry person (template 00, sheet CanBo)."""

    code: str
    full_name: str
    unit_code: str
    position_code: str
    category: str
    group: str
    birth_date: date | None = None
    position_title: str = ""
    active: bool = True
    row: int = 0
    cells: dict[str, str] = field(default_factory=dict)  # column key (layout.PEOPLE_COLUMNS) -> A1
    email: str = ""  # issue 20: result notices (optional column)


@dataclass
class Unit:
    """A registry unit (template 00, sheet DonVi)."""

    code: str
    name: str
    block: str
    kind: str
    parent_code: str = ""
    # SPEC §3: the organisation is a hierarchy of levels held in the registry. A unit with a
    # ``level`` (THANH_PHO, QUAN, PHUONG, XA…, codes.toml) is an area: a ward, a district, a
    # city, with a roll-up of its own. The rest says how its papers are headed and signed
    # (Decree 30/2020/NĐ-CP, Hướng dẫn 36-HD/VPTW); blank = derived (reports/letterhead.py).
    level: str = ""
    header_top: str = ""  # governing body, first line top left ("UBND PHƯỜNG LONG BIÊN")
    header_issuer: str = ""  # issuing body, second line (default: the unit's name)
    header_form: str = ""  # "party" | "state" ("" = the block's header, codes.toml)
    place: str = ""  # place name of the date line ("Long Biên")
    signer_authority: str = ""  # "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH" (blank: signs in person)
    signer_title: str = ""  # "HIỆU TRƯỞNG", "CHỦ TỊCH" (blank: by unit kind, codes.toml)
    signer_name: str = ""  # printed under the signature (blank: the decider of the unit's lists)
    administers: str = ""  # a block this unit administers in its area (its block roll-up's issuer)
    valid_from: date | None = None  # first day in force (blank: always)
    valid_to: date | None = None  # first day no longer in force: its successors begin that day
    row: int = 0
    cells: dict[str, str] = field(default_factory=dict)  # column key (layout.UNIT_COLUMNS) -> A1
    emails: str = ""  # issue 20: contact addresses as written ("a@x.vn; b@x.vn")

    @property
    def is_area(self) -> bool:
        """A ward, commune, district or city: a level with a roll-up of its own."""
        return bool(self.level)

    def in_force(self, day: date) -> bool:
        """Whether the unit exists on ``day`` (SPEC §3: units end and have successors)."""
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day < self.valid_to)


@dataclass
class FormResult:
    """What :func:`danhgia_batch.read.read_form` returns for one file.

    ``kind`` is ``"00"``, ``"01"``, ``"02"`` or ``""`` when the file could not be recognised.
    For template 00 ``units``/``people`` are filled; for 01 and 02 ``header`` and ``rows``.
    """

    path: Path
    kind: str = ""
    sheet: str = ""  # main data sheet name
    template_version: str = ""
    framework_id: str = ""
    framework_version: str = ""
    header: ListHeader = field(default_factory=ListHeader)
    rows: list[EvaluationRow] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors


# ---- views: what the ledger hands to the reports (reports never import the ledger) ------


@dataclass(frozen=True)
class QuotaVerdict:
    """The A-quota of one subject group as decided (letter §2.5.a); recorded with the list."""

    group: str
    ranked: int
    count_a: int
    limit: int
    ok: bool


@dataclass
class ListView:
    """One accepted decider list (or a group of individual forms) of one unit and period."""

    list_id: int
    file_name: str
    arrival: datetime
    header: ListHeader
    rows: list[EvaluationRow]
    status: str  # "valid" | "invalid-quota"
    issues: list[Issue] = field(default_factory=list)  # warnings and violations kept with it
    quota: list[QuotaVerdict] = field(default_factory=list)  # as recorded by the decision


@dataclass
class UnitView:
    """Everything the unit reports need for one unit and period (SPEC §10)."""

    period: str
    unit_code: str
    unit_name: str
    block: str
    unit_kind: str = ""
    lists: list[ListView] = field(default_factory=list)
    rejected_files: list[str] = field(default_factory=list)
    missing_people: list[Person] | None = None  # None: no registry loaded ("chưa có danh mục")
    registry_size: int | None = None
    # the unit and its ancestors in the registry, the unit first (its letterhead, its area)
    chain: list[Unit] = field(default_factory=list)
    administrator: Unit | None = None  # the unit that administers its block in its area
    # set by ledger.views.summarise for a roll-up of a large period: the final grades counted,
    # the lists kept without their rows (a summary never feeds a unit report)
    grade_counts: dict[str, int] | None = None

    @property
    def rows(self) -> list[EvaluationRow]:
        return [r for lst in self.lists for r in lst.rows]

    @property
    def submitted(self) -> bool:
        return bool(self.lists)

    @property
    def valid(self) -> bool:
        return bool(self.lists) and all(lst.status == "valid" for lst in self.lists)


@dataclass
class PeriodView:
    """A period across units: the input of block, district and city roll-ups.

    ``expected_units`` are the registry's units (empty without a registry); units that
    are expected but have no :class:`UnitView` with lists are "not submitted".
    """

    period: str
    units: list[UnitView] = field(default_factory=list)
    expected_units: list[Unit] = field(default_factory=list)
    has_registry: bool = False
    # every registry unit in force for the period, areas included (levels, letterheads)
    org: dict[str, Unit] = field(default_factory=dict)
    locked: bool = False
    generated_at: datetime | None = None


@dataclass
class YearRow:
    """One person's grades across the months of a year (the year view)."""

    person_code: str
    full_name: str
    unit_code: str
    unit_name: str
    block: str
    position_title: str = ""
    grades: dict[int, str] = field(default_factory=dict)  # month (1..12) -> final grade
    scores: dict[int, Decimal] = field(default_factory=dict)
    # month -> (unit code, unit name) of the list: a person whose unit ended during the year
    # (SPEC §3) is one row, under the last unit, with the earlier ones noted
    units: dict[int, tuple[str, str]] = field(default_factory=dict)
    # quarterly periods (SPEC §13): quarter (1..4) -> final grade / score
    quarter_grades: dict[int, str] = field(default_factory=dict)
    quarter_scores: dict[int, Decimal] = field(default_factory=dict)
    group: str = ""  # subject group of the latest list (the year's A-quota per group, SPEC §13)
    flags: set[str] = field(default_factory=set)  # cap flags marked in any period of the year (Decree 335)

    @property
    def average(self) -> Decimal | None:
        """Mean final score of the periods worked, months and quarters alike (Decree 335's
        year result, SPEC §13), rounded to hundredths; ``None`` without scores."""
        values = [*self.scores.values(), *self.quarter_scores.values()]
        if not values:
            return None
        return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"))


@dataclass
class TrendPoint:
    """One period of a dashboard's trend (issue 20): unit states and final grades, counted the
    way ``danhgia status`` counts them (superseded lists left out)."""

    period: str
    states: dict[str, int] = field(default_factory=dict)  # valid / invalid / rejected / missing
    late: int = 0  # units with a list flagged late (letter §2.3)
    grades: dict[str, int] = field(default_factory=dict)  # A / B / C / D / KXL


@dataclass(frozen=True)
class RejectedFile:
    """A rejected file of a unit and period, with its error workbook (dashboard links, reminders)."""

    file_id: int
    unit_code: str
    block: str
    name: str
    arrival: datetime
    error_report: str  # path as recorded ("" when none was written)
