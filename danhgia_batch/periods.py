"""Evaluation periods: months (``YYYY-MM``) and quarters (``YYYY-Qn``) (SPEC §13).

Internally a period is the canonical string ``"2026-03"`` or ``"2026-Q1"``; :class:`Period`
parses what clerks type (``03/2026``, ``3/2026``, ``2026-03``, ``Q1/2026``, ``2026-Q1``,
``Quý I/2026``, ``I/2026``; NFC/NFKC-normalised, case-insensitive) and gives the dates and
titles ("tháng 03/2026", "quý I/2026") the rules and reports need. A base module: importable
by every stage.

Ordering: quarters and months are compared by their first month (``Period.start``), never
as strings ("2026-Q1" sorts after "2026-12" as text).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import total_ordering
from typing import Literal

MONTH, QUARTER = "month", "quarter"
PeriodKind = Literal["month", "quarter"]
KINDS: tuple[str, ...] = (MONTH, QUARTER)

# The canonical forms only (what the ledger stores).
PERIOD_RE = re.compile(r"^(\d{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$")

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
ROMAN_OF = {v: k for k, v in ROMAN.items()}

_SEP = r"\s*[/.\-]\s*"
_MY_RE = re.compile(rf"^(\d{{1,2}}){_SEP}(\d{{4}})$")  # 03/2026, 3-2026
_YM_RE = re.compile(rf"^(\d{{4}}){_SEP}(\d{{1,2}})$")  # 2026-03, 2026/3
_QY_RE = re.compile(rf"^(?:QUÝ|QUY|Q)\s*([1-4]|IV|III|II|I){_SEP}(\d{{4}})$")  # Q1/2026, QUÝ I/2026
_RY_RE = re.compile(rf"^(IV|III|II|I){_SEP}(\d{{4}})$")  # I/2026
_YQ_RE = re.compile(rf"^(\d{{4}}){_SEP}(?:QUÝ|QUY|Q)\s*([1-4]|IV|III|II|I)$")  # 2026-Q1
_MONTH_WORD_RE = re.compile(r"^(?:THÁNG|THANG)\s+")
MIN_YEAR, MAX_YEAR = 1990, 2200


def _quarter_number(text: str) -> int:
    return int(text) if text.isdigit() else ROMAN[text]


@total_ordering
@dataclass(frozen=True)
class Period:
    """A month (``quarter == 0``) or a quarter (``month == 0``) of ``year``."""

    year: int
    month: int = 0
    quarter: int = 0

    # ---------------------------------------------------------------- construction

    @classmethod
    def parse(cls, value: object, *, any_year: bool = False) -> Period | None:
        """The period ``value`` names (canonical or as a clerk types it), ``None`` if none.

        Years outside 1990..2200 are refused unless ``any_year`` (validity bounds such as
        ``9999-12`` in data files)."""
        if isinstance(value, Period):
            return value
        if value is None:
            return None
        s = unicodedata.normalize("NFKC", str(value)).strip().upper()
        s = unicodedata.normalize("NFC", s)
        s = _MONTH_WORD_RE.sub("", s)
        year = month = quarter = 0
        if m := _MY_RE.match(s):
            month, year = int(m.group(1)), int(m.group(2))
        elif m := _YM_RE.match(s):
            year, month = int(m.group(1)), int(m.group(2))
        elif m := _QY_RE.match(s) or _RY_RE.match(s):
            quarter, year = _quarter_number(m.group(1)), int(m.group(2))
        elif m := _YQ_RE.match(s):
            year, quarter = int(m.group(1)), _quarter_number(m.group(2))
        else:
            return None
        if not any_year and not MIN_YEAR <= year <= MAX_YEAR:
            return None
        if quarter:
            return cls(year, quarter=quarter)
        return cls(year, month=month) if 1 <= month <= 12 else None

    @classmethod
    def of(cls, value: object) -> Period:
        """Like :meth:`parse` (any year) but raising ``ValueError`` (for periods already validated)."""
        p = cls.parse(value, any_year=True)
        if p is None:
            raise ValueError(f"not a period: {value!r}")
        return p

    @classmethod
    def containing(cls, day: date, kind: str = MONTH) -> Period:
        """The month or quarter that holds ``day``."""
        if kind == QUARTER:
            return cls(day.year, quarter=(day.month - 1) // 3 + 1)
        return cls(day.year, month=day.month)

    # ---------------------------------------------------------------- facts

    @property
    def kind(self) -> str:
        return QUARTER if self.quarter else MONTH

    @property
    def code(self) -> str:
        """Canonical text: ``2026-03`` or ``2026-Q1``."""
        return f"{self.year:04d}-Q{self.quarter}" if self.quarter else f"{self.year:04d}-{self.month:02d}"

    def __str__(self) -> str:
        return self.code

    @property
    def first_month(self) -> int:
        return (self.quarter - 1) * 3 + 1 if self.quarter else self.month

    @property
    def last_month(self) -> int:
        """The period's last month: deadlines of a quarter count from it (SPEC §13)."""
        return self.quarter * 3 if self.quarter else self.month

    @property
    def months(self) -> tuple[int, ...]:
        return tuple(range(self.first_month, self.last_month + 1))

    @property
    def start(self) -> int:
        """Month index of the first month (year × 12 + month − 1): the sort key."""
        return self.year * 12 + self.first_month - 1

    @property
    def end(self) -> int:
        """Month index of the last month."""
        return self.year * 12 + self.last_month - 1

    def first_day(self) -> date:
        return date(self.year, self.first_month, 1)

    def last_day(self) -> date:
        return date(self.year, self.last_month, calendar.monthrange(self.year, self.last_month)[1])

    def last_month_period(self) -> Period:
        """The last month as a monthly period (``2026-Q1`` → ``2026-03``)."""
        return Period(self.year, month=self.last_month)

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    # ---------------------------------------------------------------- words

    @property
    def label(self) -> str:
        """As templates show it: ``03/2026`` or ``I/2026``."""
        return f"{ROMAN_OF[self.quarter]}/{self.year}" if self.quarter else f"{self.month:02d}/{self.year}"

    @property
    def title(self) -> str:
        """``tháng 03/2026`` or ``quý I/2026``."""
        return f"{'quý' if self.quarter else 'tháng'} {self.label}"

    @property
    def title_upper(self) -> str:
        """``THÁNG 03/2026`` or ``QUÝ I/2026`` (report titles)."""
        return f"{'QUÝ' if self.quarter else 'THÁNG'} {self.label}"

    @property
    def short(self) -> str:
        """Year-view column head: ``T3`` or ``Q1``."""
        return f"Q{self.quarter}" if self.quarter else f"T{self.month}"

    # ---------------------------------------------------------------- order

    def _key(self) -> tuple[int, int]:
        return (self.start, 0 if self.quarter else 1)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() < other._key()


def parse_period(value: object) -> str | None:
    """Canonical text of the period ``value`` names, ``None`` when it names none."""
    p = Period.parse(value)
    return p.code if p else None


def is_period(value: object) -> bool:
    """Whether ``value`` is a canonical period (``YYYY-MM`` or ``YYYY-Qn``)."""
    return isinstance(value, str) and PERIOD_RE.match(value) is not None


def periods_of_year(year: int, kind: str = MONTH) -> list[Period]:
    """The 12 months or the 4 quarters of ``year``."""
    if kind == QUARTER:
        return [Period(year, quarter=q) for q in range(1, 5)]
    return [Period(year, month=m) for m in range(1, 13)]


def period_label(period: str) -> str:
    """``2026-03`` → ``03/2026``, ``2026-Q1`` → ``I/2026``; anything else unchanged."""
    p = Period.parse(period) if is_period(period) else None
    return p.label if p else period


def period_title(period: str, *, upper: bool = False) -> str:
    """``tháng 03/2026`` / ``quý I/2026`` (``upper``: ``THÁNG 03/2026`` / ``QUÝ I/2026``)."""
    p = Period.parse(period) if is_period(period) else None
    if p is None:
        return period
    return p.title_upper if upper else p.title


def within(period: str, valid_from: str, valid_to: str) -> bool:
    """Whether ``period`` lies within ``valid_from``..``valid_to`` (months or quarters, by month)."""
    p, lo, hi = (Period.parse(x, any_year=True) for x in (period, valid_from, valid_to))
    if p is None or lo is None or hi is None:
        return False
    return lo.start <= p.start and p.end <= hi.end
