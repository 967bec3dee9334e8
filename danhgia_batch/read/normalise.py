"""Turn raw cell values (as python-calamine returns them) into typed values, or an issue code.

Plain Python, no pandas: this runs once per cell in the per-file hot path. Each function
returns ``(value, code)`` where ``code`` is ``""`` or an issue code of the catalogue; the
caller attaches sheet, cell and column. Rules (SPEC §5, §8):

- text: Unicode NFC, trimmed, control characters removed (a warning), at most 32,767
  characters (Excel's own cell limit; a longer text can only come from a crafted file);
- numbers: real numbers, or text with a decimal comma ("9,5") or point ("9.5"); a value
  that could be a thousands separator ("1.234", "1,234", "1.234,5") is ambiguous for a score
  and never guessed; at most two decimals;
- dates: real dates, Excel serials (1900 or 1904 system) or ``dd/mm/yyyy`` text;
- codes: case-insensitive (upper-cased), NFC, trimmed.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from ..periods import parse_period
from ..textsafe import INVISIBLE_RE

Result = TypeVar("Result")
MAX_TEXT = 32767
_CONTROL_RE = INVISIBLE_RE  # controls, zero-width and bidi characters (textsafe)
_NAME_ERROR_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES_RE = re.compile(r"[ \t\r\n\u00a0]+")
_NUMBER_RE = re.compile(r"^[+-]?(\d+)(?:[.,](\d+))?$")
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?$")
_DATE_DMY_RE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_DATE_YMD_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_PERIOD_MY_RE = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_PERIOD_YM_RE = re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})$")
EPOCH_1900 = date(1899, 12, 30)
EPOCH_1904 = date(1904, 1, 1)
TWO_PLACES = -2


def is_blank(value: Any) -> bool:
    """True for an empty cell: ``None``, ``""`` or whitespace only."""
    return value is None or (isinstance(value, str) and not value.strip())


def _cached(func: Callable[[Any], Result], types: tuple[type, ...]) -> Callable[[Any], Result]:
    """``func``, its results for short texts (and numbers of ``types``) kept: the same labels,
    codes, grades and scores come back in every row and every file of a worker (issue 19).
    A kept result is immutable (strings, :class:`Decimal`); keys are typed (``1.0`` is not
    ``1``), and a NaN, never equal to itself, is simply computed again."""
    kept = functools.lru_cache(maxsize=CACHED, typed=True)(func)

    def cached(value: Any) -> Result:
        kind = type(value)
        if (kind is str and len(value) <= CACHED_LEN) or kind in types:
            return kept(value)
        return func(value)

    functools.update_wrapper(cached, func)
    return cached


CACHED = 8192  # results kept per function
CACHED_LEN = 200  # longest text kept


def _text(value: Any) -> tuple[str, str]:
    """NFC, trimmed, spacing kept; returns ``(text, code)`` with code text-too-long /
    text-control-chars or ``""``."""
    if value is None:
        return "", ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.strftime("%d/%m/%Y")
    s = unicodedata.normalize("NFC", str(value))
    if len(s) > MAX_TEXT:
        return s[:MAX_TEXT].strip(), "text-too-long"
    code = ""
    if _CONTROL_RE.search(s):
        s = _CONTROL_RE.sub("", s)
        code = "text-control-chars"
    return s.strip(), code


text = _cached(_text, ())


def _name(value: Any) -> tuple[str, str]:
    """Text with inner whitespace collapsed to single spaces (names, titles).

    A C0 control character (NUL…) or a bidi override in a name is an error
    (``name-control-chars``), not a warning like a stray zero-width space: a name is printed on official lists, and U+202E makes it read backwards
    (issue 17 ¶4).
    """
    s, code = text(value)
    if code == "text-control-chars" and _NAME_ERROR_RE.search(str(value)):
        code = "name-control-chars"
    return _SPACES_RE.sub(" ", s), code


name = _cached(_name, ())


def _code(value: Any) -> tuple[str, str]:
    """A code: NFC, trimmed, upper-cased (codes are case-insensitive)."""
    s, issue = text(value)
    return _SPACES_RE.sub("", s).upper(), issue


code = _cached(_code, ())


def _number(value: Any) -> tuple[Decimal | None, str]:
    """A number as :class:`Decimal`; ``(None, "")`` for a blank cell.

    Codes: value-not-number, value-ambiguous (thousands separator or decimal?),
    score-decimals (more than two decimals).
    """
    if is_blank(value):
        return None, ""
    if isinstance(value, bool):
        return None, "value-not-number"
    if isinstance(value, float):
        if value.is_integer():
            return Decimal(int(value)), ""
        if value != value or value in (float("inf"), float("-inf")):
            return None, "value-not-number"
        d = Decimal(repr(value))
    elif isinstance(value, int):
        return Decimal(value), ""
    elif isinstance(value, str):
        s = unicodedata.normalize("NFKC", value).strip().replace(" ", "").replace("\u00a0", "")
        if _THOUSANDS_RE.match(s) and not _NUMBER_RE.match(s):
            return None, "value-ambiguous"
        m = _NUMBER_RE.match(s)
        if not m:
            return None, "value-not-number"
        if m.group(2) is not None and len(m.group(2)) == 3 and m.group(1) != "0" and len(m.group(1)) <= 3:
            return None, "value-ambiguous"  # "1.234" or "1,234": a thousands separator?
        try:
            d = Decimal(s.replace(",", "."))
        except InvalidOperation:
            return None, "value-not-number"
    else:
        return None, "value-not-number"
    d = d.normalize() if d != d.to_integral_value() else d.quantize(Decimal(1))
    if d.as_tuple().exponent < TWO_PLACES:  # type: ignore[operator]
        return d, "score-decimals"
    return d, ""


number = _cached(_number, (float, int))


def from_serial(serial: float, date1904: bool = False) -> date | None:
    """An Excel date serial in the workbook's date system; ``None`` when out of range."""
    if not 0 < serial < 2958466:
        return None
    if not date1904 and serial < 61:
        serial += 1  # Excel's phantom 29/02/1900
    epoch = EPOCH_1904 if date1904 else EPOCH_1900
    return epoch + timedelta(days=int(serial))


def to_date(value: Any, date1904: bool = False) -> tuple[date | None, str]:
    """A date from a real date, a serial or ``dd/mm/yyyy`` text; ``date-invalid`` otherwise."""
    if is_blank(value):
        return None, ""
    if isinstance(value, datetime):
        return value.date(), ""
    if isinstance(value, date):
        return value, ""
    if isinstance(value, time | timedelta | bool):
        return None, "date-invalid"
    if isinstance(value, int | float):
        d = from_serial(float(value), date1904)
        return (d, "") if d else (None, "date-invalid")
    s = unicodedata.normalize("NFKC", str(value)).strip()
    for regex, order in ((_DATE_DMY_RE, (3, 2, 1)), (_DATE_YMD_RE, (1, 2, 3))):
        m = regex.match(s)
        if m:
            try:
                return date(int(m.group(order[0])), int(m.group(order[1])), int(m.group(order[2]))), ""
            except ValueError:
                return None, "date-invalid"
    return None, "date-invalid"


def period(value: Any, date1904: bool = False) -> str | None:
    """``"MM/YYYY"`` (as templates show it), ``"YYYY-MM"`` or a date → ``"YYYY-MM"``; a quarter
    as clerks type it (``"Q1/2026"``, ``"Quý I/2026"``, ``"I/2026"``) → ``"YYYY-Qn"``."""
    if is_blank(value):
        return None
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        d = from_serial(float(value), date1904)
        return f"{d.year:04d}-{d.month:02d}" if d and d.year > 1950 else None
    s = unicodedata.normalize("NFKC", str(value)).strip()
    if _PERIOD_MY_RE.match(s) or _PERIOD_YM_RE.match(s):
        return parse_period(s)  # a month out of range is not a date either
    found = parse_period(s)  # quarters: "Q1/2026", "Quý I/2026", "I/2026", "2026-Q1" (SPEC §13)
    if found is not None:
        return found
    d, err = to_date(s)
    return f"{d.year:04d}-{d.month:02d}" if d and not err else None


def display(value: Any) -> str:
    """A raw value as text for messages (never a formula: the caller writes it as a string)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    s = str(value)
    return s if len(s) <= 80 else s[:77] + "…"
