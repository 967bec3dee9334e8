"""Regimes (bộ quy định) as data (SPEC §13, issue 15).

A regime is one TOML file saying, for the people (categories, blocks) and periods it covers
(``valid_from`` / ``valid_to``): the period kinds (month, quarter), the deadlines, the bands
and their caps, the A-quota, the frameworks and how a year is aggregated. The product ships
``data/regimes/*.toml``; an administrator adds files in ``<workdir>/regimes/`` (a file with the
id of a shipped regime replaces it: the administrator's edited copy).

Which regimes are in force in a work folder: those named in ``[regimes] use`` of
``danhgia.toml`` (default: ``hn-1841``, the letter's rules, so a work folder behaves as before).
A file of ``<workdir>/regimes/`` is available at once (``danhgia regime list`` shows it) but
judges nothing until its id is in ``use``: copying a regime never changes a verdict by
itself. (The work folder's edited copy of a shipped regime, same id, replaces it at once.)
:meth:`RegimeCatalogue.regime_for` picks, among those in force,
the one covering the period, the category and the block; the most specific wins (a regime
naming categories or blocks over one that covers all), then the latest ``valid_from``.

The regime's ``[bands]``, ``[quota]`` and ``[deadlines]`` replace the settings' sections of the
same name (:func:`apply_regime`), except keys that ``danhgia.toml`` sets to something other than
the shipped default: those are local decisions and win over every regime. The shipped
``hn-1841`` holds exactly the shipped defaults, so applying it changes nothing.

:func:`check_regime_file` never raises on a bad file: it returns every mistake with its key and
line (``tomllib`` gives the line of a syntax error), in Vietnamese. A base module: importable
by every stage.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .domain import DATA_DIR, Criterion, Framework, Part
from .errors import ConfigError
from .periods import KINDS, MONTH, PERIOD_RE, QUARTER, Period, within

log = logging.getLogger(__name__)

REGIMES_DIR = DATA_DIR / "regimes"
WORKDIR_REGIMES = "regimes"  # <workdir>/regimes/*.toml
DEFAULT_USE = ("hn-1841",)
BASES = ("good_only", "good_or_better")
ROUNDINGS = ("floor", "round", "ceil")
SCOPES = ("group", "agency")
AGGREGATES = ("grade_counts", "average_score")
CAP_FLAGS = ("discipline", "degradation")
COMPUTED = ("nd335-task",)  # the computed parts the product knows (rules/kpi.py)
KIND_WORDS = {MONTH: "tháng", QUARTER: "quý"}


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Cap:
    """A band cap: a person whose ``flag`` column is marked gets at most ``grade``."""

    flag: str
    grade: str
    label: str
    source: str = ""


@dataclass(frozen=True)
class Condition:
    """A band condition besides the score (366-QĐ/TW: A needs every task on time): a final
    grade of ``grade`` or better needs ``min_on_time`` % of the products assigned done on time
    (judged where the list carries the product columns)."""

    grade: str
    min_on_time: float
    label: str = ""
    source: str = ""


@dataclass(frozen=True)
class RegimeDeadlines:
    """Deadline days (SPEC §4): days of the period's last month, publication a day of the
    month after it; ``december_day`` the year-end rule."""

    self_assessment_day: int = 25
    decision_day: int = 28
    publication_day: int = 5
    december_day: int = 15
    inclusive: bool = False
    reading: bool = False
    # a step due N days after the period ends (0: the day of the month above)
    self_assessment_after_days: int = 0
    decision_after_days: int = 0
    publication_after_days: int = 0


@dataclass(frozen=True)
class RegimeBands:
    a: float = 90
    b: float = 70
    c: float = 50
    caps: tuple[Cap, ...] = ()
    reading: bool = False
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class RegimeQuota:
    ratio: float = 0.20
    base: str = "good_only"
    rounding: str = "floor"
    scopes: tuple[str, ...] = ("group",)
    small_group_size: int = 5
    small_group_max_a: int = 1
    small_unit_total: bool = True
    reading: bool = False


@dataclass(frozen=True)
class Regime:
    """One regime file, loaded and validated (see the module doc)."""

    id: str
    version: str
    name: str
    source: str
    period_kinds: tuple[str, ...]
    valid_from: str
    valid_to: str
    categories: tuple[str, ...]
    blocks: tuple[str, ...]
    deadlines: RegimeDeadlines
    bands: RegimeBands
    quota: RegimeQuota
    framework_ids: tuple[str, ...] = ()
    frameworks: tuple[Framework, ...] = ()  # defined inside the regime file
    aggregate: str = "grade_counts"
    year_day: str = "15/12"
    path: Path | None = None
    digest: str = ""  # sha256 of the file's bytes
    shipped: bool = True

    @property
    def short_hash(self) -> str:
        return self.digest[:12]

    def covers(self, period: str, category: str | None = None, block: str | None = None) -> bool:
        """Whether the regime holds for ``period`` (its kind and validity), ``category`` and ``block``."""
        p = Period.parse(period, any_year=True)
        if p is None or p.kind not in self.period_kinds or not within(p.code, self.valid_from, self.valid_to):
            return False
        if category is not None and self.categories and category not in self.categories:
            return False
        return not (block is not None and self.blocks and block not in self.blocks)

    @property
    def specificity(self) -> tuple[int, int, int]:
        return (1 if self.categories else 0, 1 if self.blocks else 0, Period.of(self.valid_from).start)

    def all_framework_ids(self) -> tuple[str, ...]:
        return (*self.framework_ids, *(f.id for f in self.frameworks))


@dataclass(frozen=True)
class RegimeMistake:
    """One mistake of a regime file: the dotted ``key`` (or "" for the whole file), its ``line``
    (0: unknown) and a Vietnamese message."""

    key: str
    line: int
    message: str

    def text(self) -> str:
        where = []
        if self.line:
            where.append(f"dòng {self.line}")
        if self.key:
            where.append(f"khóa '{self.key}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class RegimeCheck:
    """The result of ``danhgia regime check FILE``."""

    path: str
    ok: bool
    id: str = ""
    version: str = ""
    digest: str = ""
    mistakes: list[RegimeMistake] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for m, mistake in zip(out["mistakes"], self.mistakes, strict=True):
            m["text"] = mistake.text()
        return out


# --------------------------------------------------------------------------- lines of keys


_ARRAY_RE = re.compile(r"^\[\[\s*([^\]]+?)\s*\]\]")
_TABLE_RE = re.compile(r"^\[\s*([^\]]+?)\s*\]")
_KEY_RE = re.compile(r'^([A-Za-z0-9_\-"]+(?:\s*\.\s*[A-Za-z0-9_\-"]+)*)\s*=')


def key_lines(text: str) -> dict[str, int]:
    """The line of each table header and key of a TOML text, by dotted key with array indices
    (``framework[0].part[1].max``). A light scan, enough to point a mistake at its line."""
    lines: dict[str, int] = {}
    counters: dict[str, int] = {}
    indexed: dict[str, str] = {}
    current = ""
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if m := _ARRAY_RE.match(line):
            name = m.group(1).replace(" ", "")
            parent, _, last = name.rpartition(".")
            base = f"{indexed.get(parent, parent)}.{last}" if parent else last
            i = counters.get(base, 0)
            counters[base] = i + 1
            current = f"{base}[{i}]"
            indexed[name] = current
            lines[current] = n
        elif m := _TABLE_RE.match(line):
            name = m.group(1).replace(" ", "")
            parent, _, last = name.rpartition(".")
            current = f"{indexed.get(parent, parent)}.{last}" if parent else name
            indexed[name] = current
            lines[current] = n
        elif m := _KEY_RE.match(line):
            key = re.sub(r'\s|"', "", m.group(1))
            lines[f"{current}.{key}" if current else key] = n
    return lines


def line_of(lines: Mapping[str, int], key: str) -> int:
    """The line of ``key`` or of its nearest enclosing table (0: not found)."""
    while key:
        if key in lines:
            return lines[key]
        key = key.rpartition(".")[0] if "." in key else re.sub(r"\[\d+\]$", "", key) if key.endswith("]") else ""
    return 0


# --------------------------------------------------------------------------- loading


class _Reader:
    """Reads values from a parsed regime, collecting mistakes instead of raising."""

    def __init__(self, lines: Mapping[str, int]) -> None:
        self.lines = lines
        self.mistakes: list[RegimeMistake] = []

    def fail(self, key: str, message: str) -> None:
        self.mistakes.append(RegimeMistake(key, line_of(self.lines, key), message))

    def text(self, table: Mapping[str, Any], key: str, name: str, default: str | None = None) -> str:
        value = table.get(name, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(_join(key, name), "thiếu hoặc không phải chuỗi ký tự")
            return ""
        return value.strip()

    def number(self, table: Mapping[str, Any], key: str, name: str, default: float, low: float, high: float) -> float:
        value = table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(_join(key, name), f"phải là số, nhận được {value!r}")
            return default
        if not low <= value <= high:
            self.fail(_join(key, name), f"phải từ {_num(low)} đến {_num(high)}, nhận được {_num(value)}")
        return float(value)

    def integer(self, table: Mapping[str, Any], key: str, name: str, default: int, low: int, high: int) -> int:
        value = table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(_join(key, name), f"phải là số nguyên, nhận được {value!r}")
            return default
        if not low <= value <= high:
            self.fail(_join(key, name), f"phải từ {low} đến {high}, nhận được {value}")
        return value

    def tables(self, table: Mapping[str, Any], key: str, name: str) -> list[Any]:
        """The array of tables ``[[key.name]]`` (empty when absent; a mistake when not an array)."""
        value = table.get(name, [])
        if not isinstance(value, list):
            self.fail(_join(key, name), f"phải là các bảng [[{_join(key, name)}]]")
            return []
        return value

    def flag(self, table: Mapping[str, Any], key: str, name: str, default: bool) -> bool:
        value = table.get(name, default)
        if not isinstance(value, bool):
            self.fail(_join(key, name), f"phải là true hoặc false, nhận được {value!r}")
            return default
        return value

    def choice(self, table: Mapping[str, Any], key: str, name: str, default: str, allowed: Sequence[str]) -> str:
        value = table.get(name, default)
        if value not in allowed:
            self.fail(_join(key, name), f"chỉ nhận {', '.join(allowed)}; nhận được {value!r}")
            return default
        return str(value)

    def strings(
        self, table: Mapping[str, Any], key: str, name: str, allowed: Sequence[str] | None = None
    ) -> tuple[str, ...]:
        value = table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(_join(key, name), 'phải là danh sách chuỗi ký tự, ví dụ ["CBCC"]')
            return ()
        if allowed is not None:
            bad = [v for v in value if v not in allowed]
            if bad:
                self.fail(_join(key, name), f"giá trị không hợp lệ {bad}; chỉ nhận {', '.join(allowed)}")
        return tuple(value)

    def period(self, table: Mapping[str, Any], key: str, name: str, default: str) -> str:
        value = table.get(name, default)
        if not isinstance(value, str) or not PERIOD_RE.match(value):
            self.fail(
                _join(key, name), f"kỳ phải có dạng YYYY-MM hoặc YYYY-Qn (ví dụ 2026-01, 2026-Q1), nhận được {value!r}"
            )
            return default
        return value

    def table(self, data: Mapping[str, Any], key: str, name: str) -> Mapping[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, Mapping):
            self.fail(_join(key, name), f"phải là một bảng [{name}]")
            return {}
        return value

    def unknown(self, table: Mapping[str, Any], key: str, known: Iterable[str]) -> None:
        for name in table:
            if name not in known:
                self.fail(_join(key, name), "khóa không tồn tại (viết sai tên khóa?)")


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


TOP_KEYS = (
    "id", "version", "name", "source", "period_kinds", "valid_from", "valid_to", "categories", "blocks",
    "frameworks", "deadlines", "bands", "quota", "year", "framework", "reading",
)  # fmt: skip


def parse_regime(
    data: Mapping[str, Any],
    lines: Mapping[str, int],
    *,
    codes: Any | None = None,
    known_frameworks: Iterable[str] = (),
) -> tuple[Regime | None, list[RegimeMistake]]:
    """Validate a parsed regime file (``codes``: the code lists to check categories and blocks
    against; ``known_frameworks``: the framework ids loaded from the settings)."""
    r = _Reader(lines)
    r.unknown(data, "", TOP_KEYS)
    rid = r.text(data, "", "id")
    if rid and not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", rid):
        r.fail("id", 'chỉ gồm chữ thường không dấu, số, dấu chấm, gạch ngang, ví dụ "nd-335-cong-chuc"')
    version = str(data.get("version", "")).strip()
    if not version:
        r.fail("version", "thiếu phiên bản bộ quy định")
    name = r.text(data, "", "name")
    source = str(data.get("source", "")).strip()
    kinds = r.strings(data, "", "period_kinds", KINDS) or (MONTH,)
    if "period_kinds" not in data:
        r.fail("period_kinds", 'thiếu loại kỳ: ["month"] (tháng), ["quarter"] (quý) hoặc cả hai')
    valid_from = r.period(data, "", "valid_from", "2000-01")
    valid_to = r.period(data, "", "valid_to", "9999-12")
    if Period.of(valid_from).start > Period.of(valid_to).end:
        r.fail("valid_to", f"kỳ kết thúc {valid_to} trước kỳ bắt đầu {valid_from}")
    categories = r.strings(data, "", "categories", codes.codes("categories") if codes else None)
    blocks = r.strings(data, "", "blocks", codes.codes("blocks") if codes else None)

    d = r.table(data, "", "deadlines")
    r.unknown(d, "deadlines", [f.name for f in dataclasses.fields(RegimeDeadlines)])
    days = {
        k: r.integer(d, "deadlines", k, getattr(RegimeDeadlines, k), 1, 31)
        for k in ("self_assessment_day", "decision_day", "publication_day", "december_day")
    }
    days.update(
        {
            k: r.integer(d, "deadlines", k, 0, 0, 120)
            for k in ("self_assessment_after_days", "decision_after_days", "publication_after_days")
        }
    )
    deadlines = RegimeDeadlines(
        **days,
        inclusive=r.flag(d, "deadlines", "inclusive", False),
        reading=r.flag(d, "deadlines", "reading", False),
    )

    b = r.table(data, "", "bands")
    r.unknown(b, "bands", ("a", "b", "c", "cap", "condition", "reading", "source"))
    conditions: list[Condition] = []
    for i, c in enumerate(r.tables(b, "bands", "condition")):
        ckey = f"bands.condition[{i}]"
        r.unknown(c, ckey, ("grade", "min_on_time", "label", "source", "reading"))
        conditions.append(
            Condition(
                r.choice(c, ckey, "grade", "A", ("A", "B", "C")),
                r.number(c, ckey, "min_on_time", 100, 0, 100),
                str(c.get("label", "")),
                str(c.get("source", "")),
            )
        )
    caps: list[Cap] = []
    for i, c in enumerate(r.tables(b, "bands", "cap")):
        ckey = f"bands.cap[{i}]"
        r.unknown(c, ckey, ("flag", "grade", "label", "source", "reading"))
        caps.append(
            Cap(
                r.choice(c, ckey, "flag", "discipline", CAP_FLAGS),
                r.choice(c, ckey, "grade", "D", ("B", "C", "D")),
                r.text(c, ckey, "label"),
                str(c.get("source", "")),
            )
        )
    bands = RegimeBands(
        r.number(b, "bands", "a", 90, 0, 100),
        r.number(b, "bands", "b", 70, 0, 100),
        r.number(b, "bands", "c", 50, 0, 100),
        tuple(caps),
        r.flag(b, "bands", "reading", False),
        tuple(conditions),
    )
    if not 0 < bands.c < bands.b < bands.a <= 100:
        r.fail("bands", "cần 0 < c < b < a ≤ 100")

    q = r.table(data, "", "quota")
    r.unknown(q, "quota", [*(f.name for f in dataclasses.fields(RegimeQuota)), "source"])
    quota = RegimeQuota(
        r.number(q, "quota", "ratio", 0.20, 0.01, 1),
        r.choice(q, "quota", "base", "good_only", BASES),
        r.choice(q, "quota", "rounding", "floor", ROUNDINGS),
        r.strings(q, "quota", "scopes", SCOPES) or ("group",) if "scopes" in q else ("group",),
        r.integer(q, "quota", "small_group_size", 5, 0, 1000),
        r.integer(q, "quota", "small_group_max_a", 1, 0, 1000),
        r.flag(q, "quota", "small_unit_total", True),
        r.flag(q, "quota", "reading", False),
    )

    y = r.table(data, "", "year")
    r.unknown(y, "year", ("aggregate", "deadline", "reading", "source"))
    aggregate = r.choice(y, "year", "aggregate", "grade_counts", AGGREGATES)
    year_day = str(y.get("deadline", "15/12"))
    if not re.fullmatch(r"\d{1,2}/\d{1,2}", year_day):
        r.fail("year.deadline", f"ngày dạng DD/MM, ví dụ 15/12; nhận được {year_day!r}")

    frameworks = tuple(_frameworks(r, data))
    framework_ids = r.strings(data, "", "frameworks")
    known = set(known_frameworks) | {f.id for f in frameworks}
    if known_frameworks and framework_ids:
        missing = [f for f in framework_ids if f not in known]
        if missing:
            r.fail("frameworks", f"khung tiêu chí không có trong cấu hình: {missing}")
    if not framework_ids and not frameworks:
        r.fail("frameworks", "cần ít nhất một khung tiêu chí (frameworks = [...] hoặc [[framework]])")
    if r.mistakes:
        return None, r.mistakes
    regime = Regime(
        id=rid,
        version=version,
        name=name,
        source=source,
        period_kinds=kinds,
        valid_from=valid_from,
        valid_to=valid_to,
        categories=categories,
        blocks=blocks,
        deadlines=deadlines,
        bands=bands,
        quota=quota,
        framework_ids=framework_ids,
        frameworks=frameworks,
        aggregate=aggregate,
        year_day=year_day,
    )
    return regime, []


def _frameworks(r: _Reader, data: Mapping[str, Any]) -> Iterable[Framework]:
    """Frameworks written inside the regime (``[[framework]]``, the framework file's format,
    plus ``bonus`` and ``computed`` on parts); the non-bonus parts total 100."""
    for i, f in enumerate(r.tables(data, "", "framework")):
        key = f"framework[{i}]"
        r.unknown(f, key, ("id", "version", "name", "valid_from", "valid_to", "part", "source"))
        parts: list[Part] = []
        for j, p in enumerate(f.get("part", [])):
            pkey = f"{key}.part[{j}]"
            r.unknown(
                p,
                pkey,
                ("code", "name", "max", "min", "criterion", "bonus", "computed", "leaders", "source", "reading"),
            )
            pmax, pmin = _dec(r, p, pkey, "max"), _dec(r, p, pkey, "min")
            if p.get("computed") is not None and p.get("computed") not in COMPUTED:
                r.fail(f"{pkey}.computed", f"chỉ nhận {', '.join(COMPUTED)}; nhận được {p.get('computed')!r}")
            leaders = r.flag(p, pkey, "leaders", False)
            if leaders and not p.get("computed"):
                r.fail(f"{pkey}.leaders", "chỉ dùng cho phần tính từ sản phẩm (computed)")
            crits = []
            for k, c in enumerate(p.get("criterion", [])):
                ckey = f"{pkey}.criterion[{k}]"
                r.unknown(c, ckey, ("code", "name", "max", "min", "source"))
                crits.append(
                    Criterion(
                        r.text(c, ckey, "code"),
                        r.text(c, ckey, "name"),
                        _dec(r, c, ckey, "max"),
                        _dec(r, c, ckey, "min"),
                    )
                )
            if crits and sum(c.max for c in crits) != pmax:
                r.fail(
                    f"{pkey}.max", f"tổng điểm các tiêu chí ({sum(c.max for c in crits)}) khác điểm của phần ({pmax})"
                )
            parts.append(
                Part(
                    r.text(p, pkey, "code"),
                    r.text(p, pkey, "name"),
                    pmax,
                    pmin,
                    tuple(crits),
                    computed=str(p.get("computed") or ""),
                    bonus=bool(p.get("bonus", False)),
                    leaders=leaders,
                )
            )
        if not parts:
            r.fail(f"{key}.part", "khung tiêu chí phải có ít nhất một phần")
            continue
        bonus = {str(p.get("code")) for p in f.get("part", []) if p.get("bonus")}
        total = sum((p.max for p in parts if p.code not in bonus), Decimal(0))
        if total != 100:
            r.fail(f"{key}.part", f"tổng điểm tối đa (không kể phần thưởng) phải là 100, hiện là {total}")
        yield Framework(
            r.text(f, key, "id"),
            str(f.get("version", "")).strip() or "1",
            r.text(f, key, "name"),
            tuple(parts),
            r.period(f, key, "valid_from", "2000-01"),
            r.period(f, key, "valid_to", "9999-12"),
        )


def _dec(r: _Reader, table: Mapping[str, Any], key: str, name: str) -> Decimal:
    value = table.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        r.fail(_join(key, name), f"phải là số, nhận được {value!r}")
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        r.fail(_join(key, name), f"phải là số, nhận được {value!r}")
        return Decimal(0)


def check_regime_file(
    path: Path, *, codes: Any | None = None, known_frameworks: Iterable[str] = ()
) -> tuple[Regime | None, RegimeCheck]:
    """Read and validate one regime file; never raises on a bad file."""
    result = RegimeCheck(str(path), ok=False)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        result.mistakes.append(RegimeMistake("", 0, f"không đọc được tệp: {exc.strerror or exc}"))
        return None, result
    result.digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        result.mistakes.append(RegimeMistake("", 0, f"tệp không phải UTF-8 (byte thứ {exc.start})"))
        return None, result
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", 0) or _line_from_message(str(exc))
        result.mistakes.append(RegimeMistake("", line, f"sai cú pháp TOML ({_syntax_message(str(exc))})"))
        return None, result
    regime, mistakes = parse_regime(data, key_lines(text), codes=codes, known_frameworks=known_frameworks)
    result.mistakes = mistakes
    if regime is None:
        return None, result
    regime = dataclasses.replace(regime, path=path, digest=result.digest)
    result.ok, result.id, result.version = True, regime.id, regime.version
    return regime, result


def _line_from_message(message: str) -> int:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else 0


_SYNTAX = (
    ("Expected ']'", "thiếu dấu ']' ở cuối tên bảng"),
    ("Expected '=' after a key", "thiếu dấu '=' sau tên khóa"),
    ("Cannot overwrite", "khóa hoặc bảng được khai báo hai lần"),
    ("Cannot declare", "khóa hoặc bảng được khai báo hai lần"),
    ("Unterminated string", "chuỗi chưa đóng dấu nháy"),
    ("Illegal character", "ký tự không hợp lệ"),
    ("Invalid value", "giá trị không hợp lệ (chuỗi phải đặt trong dấu nháy kép)"),
    ("Invalid date", "ngày không hợp lệ"),
    ("Expected newline", "thừa nội dung sau giá trị, cần xuống dòng"),
    ("Invalid statement", "dòng không phải 'khóa = giá trị' hoặc [bảng]"),
)


def _syntax_message(message: str) -> str:
    """tomllib's English message in Vietnamese (the line is given apart)."""
    for english, vietnamese in _SYNTAX:
        if english in message:
            return vietnamese
    return "không đọc được dòng này"


def load_regime(path: Path, *, codes: Any | None = None, known_frameworks: Iterable[str] = ()) -> Regime:
    """Load one regime file; a mistake is a :class:`ConfigError` naming the file, keys and lines."""
    regime, result = check_regime_file(path, codes=codes, known_frameworks=known_frameworks)
    if regime is None:
        details = "; ".join(m.text() for m in result.mistakes)
        raise ConfigError(f"Bộ quy định {path} có lỗi: {details}")
    return regime


# --------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class RegimeCatalogue:
    """Every loaded regime (shipped and the work folder's) and the ids in force."""

    regimes: Mapping[str, Regime] = field(default_factory=dict)
    in_force: tuple[str, ...] = DEFAULT_USE
    # work-folder files with mistakes that judge nothing (not named in regimes.use): (file, mistakes)
    broken: tuple[tuple[str, str], ...] = ()
    # regime_for's answers: every form of a month asks the same few questions (issue 19)
    _chosen: dict[tuple[str, str | None, str | None], Regime | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def get(self, rid: str) -> Regime | None:
        return self.regimes.get(rid)

    def active(self) -> list[Regime]:
        return [self.regimes[i] for i in self.in_force if i in self.regimes]

    def regime_for(self, period: str, category: str | None = None, block: str | None = None) -> Regime | None:
        """The regime in force for ``period``, ``category`` and ``block`` (most specific, then
        latest ``valid_from``); ``None`` when none covers them."""
        key = (period, category, block)
        if key not in self._chosen:
            found = [g for g in self.active() if g.covers(period, category, block)]
            self._chosen[key] = max(found, key=lambda g: (g.specificity, g.id)) if found else None
        return self._chosen[key]

    def framework(self, fid: str, version: str) -> Framework | None:
        """A framework defined inside a regime file."""
        for g in self.regimes.values():
            for f in g.frameworks:
                if (f.id, f.version) == (fid, version):
                    return f
        return None

    def caps_for(self, fid: str) -> tuple[tuple[str, str], ...]:
        """(flag, label) of the caps of the regimes whose own frameworks include ``fid``: the
        flag columns of that framework's template 02."""
        out: dict[str, str] = {}
        for g in self.regimes.values():
            if any(f.id == fid for f in g.frameworks):
                out.update({c.flag: c.label for c in g.bands.caps})
        return tuple(out.items())

    def frameworks_by_id(self, fid: str) -> list[Framework]:
        return [f for g in self.regimes.values() for f in g.frameworks if f.id == fid]


def _declared_id(path: Path) -> str:
    """The ``id`` a regime file declares, if it can be read, else its file name's stem."""
    try:
        declared = tomllib.loads(path.read_text(encoding="utf-8")).get("id")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        declared = None
    return declared if isinstance(declared, str) and declared else path.stem


def load_catalogue(
    workdir: Path | None,
    use: Sequence[str] = DEFAULT_USE,
    *,
    codes: Any | None = None,
    known_frameworks: Iterable[str] = (),
) -> RegimeCatalogue:
    """Shipped regimes, then ``<workdir>/regimes/*.toml`` (same id: the work folder's wins).

    Raises:
        ConfigError: a regime file has mistakes, or ``use`` names an unknown regime.
    """
    known = list(known_frameworks)
    regimes: dict[str, Regime] = {}
    for path in sorted(REGIMES_DIR.glob("*.toml")):
        g = load_regime(path, codes=codes, known_frameworks=known)
        regimes[g.id] = g
    local: list[str] = []
    folder = workdir / WORKDIR_REGIMES if workdir is not None else None
    broken: list[tuple[str, str]] = []
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            found, result = check_regime_file(path, codes=codes, known_frameworks=known)
            if found is None:
                details = "; ".join(m.text() for m in result.mistakes)
                if _declared_id(path) in use:  # it was meant to judge: the run cannot go on without it
                    raise ConfigError(f"Bộ quy định {path} có lỗi: {details}")
                # a draft being edited (not in regimes.use) never stops the office's runs
                log.warning("regime file %s has mistakes and is left out: %s", path.name, details)
                broken.append((path.name, details))
                continue
            g = dataclasses.replace(found, shipped=False)
            if g.id in local:
                raise ConfigError(f"Bộ quy định '{g.id}' được khai báo hai lần trong thư mục {folder}")
            regimes[g.id] = g
            local.append(g.id)
    unknown = [u for u in use if u not in regimes]
    if unknown:
        drafts = "".join(f"; tệp {name} có lỗi: {details}" for name, details in broken)
        raise ConfigError(
            f"Lỗi cấu hình, khóa 'regimes.use': không có bộ quy định {unknown} "
            f"(các bộ hiện có: {', '.join(sorted(regimes))}){drafts}"
        )
    return RegimeCatalogue(regimes, tuple(dict.fromkeys(use)), tuple(broken))


def apply_regime(settings: Any, regime: Regime | None) -> Any:
    """``settings`` with the regime's bands, quota and deadlines (see the module doc: a key
    that danhgia.toml sets away from the shipped default wins)."""
    if regime is None:
        return settings
    from .settings import DeadlineSettings, GradingSettings, QuotaSettings

    def merged(current: Any, cls: type, values: Mapping[str, Any]) -> Any:
        default = cls()
        out = {}
        for f in dataclasses.fields(cls):
            mine = getattr(current, f.name)
            out[f.name] = mine if mine != getattr(default, f.name) or f.name not in values else values[f.name]
        return cls(**out)

    b, q, d = regime.bands, regime.quota, regime.deadlines
    grading = merged(settings.grading, GradingSettings, {"a": b.a, "b": b.b, "c": b.c})
    quota = merged(
        settings.quota,
        QuotaSettings,
        {
            k: getattr(q, k)
            for k in (
                "ratio",
                "base",
                "rounding",
                "small_group_size",
                "small_group_max_a",
                "small_unit_total",
                "scopes",
            )
        },
    )
    deadlines = merged(
        settings.deadlines,
        DeadlineSettings,
        {
            k: getattr(d, k)
            for k in (
                "self_assessment_day",
                "decision_day",
                "publication_day",
                "december_day",
                "inclusive",
                "self_assessment_after_days",
                "decision_after_days",
                "publication_after_days",
            )
        },
    )
    if (grading, quota, deadlines) == (settings.grading, settings.quota, settings.deadlines):
        return settings
    return dataclasses.replace(settings, grading=grading, quota=quota, deadlines=deadlines)


# --------------------------------------------------------------------------- the list


@dataclass
class RegimeRow:
    """One line of ``danhgia regime list``."""

    id: str
    version: str
    name: str
    period_kinds: list[str]
    valid_from: str
    valid_to: str
    categories: list[str]
    blocks: list[str]
    in_force: bool
    shipped: bool
    hash: str
    path: str
    # with --period: the categories this regime judges in that period
    judges: list[str] = field(default_factory=list)


def regime_rows(catalogue: RegimeCatalogue, categories: Sequence[str], period: str | None = None) -> list[RegimeRow]:
    """The rows of ``danhgia regime list`` (``period``: which regime judges each category)."""
    judged: dict[str, list[str]] = {}
    if period is not None:
        for cat in categories:
            g = catalogue.regime_for(period, cat)
            if g is not None:
                judged.setdefault(g.id, []).append(cat)
    rows = []
    for g in sorted(
        catalogue.regimes.values(), key=lambda g: (g.id not in catalogue.in_force, Period.of(g.valid_from), g.id)
    ):
        rows.append(
            RegimeRow(
                g.id, g.version, g.name, list(g.period_kinds), g.valid_from, g.valid_to, list(g.categories),
                list(g.blocks), g.id in catalogue.in_force, g.shipped, g.short_hash, str(g.path or ""),
                judged.get(g.id, []),
            )
        )  # fmt: skip
    return rows
