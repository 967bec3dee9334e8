"""Domain data: scoring frameworks, the authority matrix and code lists.

All three are shipped TOML files (``danhgia_batch/data``) that an administrator can replace
through ``[domain]`` in ``danhgia.toml``; this module loads and validates them. Nothing here
is hard-coded policy: org structure and rules are data (SPEC §3, §5, §7).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .periods import PERIOD_RE, Period, within

__all__ = ["PERIOD_RE"]  # re-exported: the canonical period forms live in periods.py

DATA_DIR = Path(__file__).parent / "data"


def _fail(path: Path, key: str, message: str) -> ConfigError:
    return ConfigError(f"Lỗi cấu hình trong tệp {path}, khóa '{key}': {message}")


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning any failure into a :class:`ConfigError` naming the file."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"Không tìm thấy tệp cấu hình {path}") from exc
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Không đọc được tệp cấu hình {path}: {exc}") from exc


def _decimal(path: Path, key: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _fail(path, key, f"phải là số, nhận được {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise _fail(path, key, f"phải là số, nhận được {value!r}") from exc


def _text(path: Path, key: str, table: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = table.get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"{key}.{name}", "thiếu hoặc không phải chuỗi ký tự")
    return value.strip()


# --------------------------------------------------------------------------- frameworks


@dataclass(frozen=True)
class Criterion:
    """One scoring criterion: ``code`` (e.g. ``I.1``), label and allowed range."""

    code: str
    name: str
    max: Decimal
    min: Decimal = Decimal(0)


@dataclass(frozen=True)
class Part:
    """A framework part (I, II, III…); a deduction part has ``min`` below zero."""

    code: str
    name: str
    max: Decimal
    min: Decimal
    criteria: tuple[Criterion, ...]
    computed: str = ""  # SPEC §13: computed from inputs (e.g. "nd335-task", rules/kpi.py)
    bonus: bool = False  # a bonus part: not counted in the 100 points of the framework
    # SPEC §13: leaders and deputies (codes.toml positions with ``leader``) get the mean of six
    # components (kpi.leader_points) instead of the staff formula
    leaders: bool = False


@dataclass(frozen=True)
class Framework:
    """A scoring framework (khung tiêu chí) of SPEC §5, identified by ``id`` and ``version``."""

    id: str
    version: str
    name: str
    parts: tuple[Part, ...]
    valid_from: str = "2000-01"
    valid_to: str = "9999-12"
    source: Path | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)

    @property
    def max_total(self) -> Decimal:
        return sum((p.max for p in self.parts), Decimal(0))

    @property
    def has_bonus(self) -> bool:
        return any(p.bonus for p in self.parts)

    def bounded(self, total: Decimal) -> Decimal:
        """SPEC §5, §13: the total is kept within [0, 100]; only a framework with bonus parts
        (whose maxima go beyond 100) can leave that range, so only its totals are clamped."""
        if not self.has_bonus:
            return total
        return min(Decimal(100), max(Decimal(0), total))

    def part(self, code: str) -> Part:
        for p in self.parts:
            if p.code == code:
                return p
        raise KeyError(code)

    def applies_to(self, period: str) -> bool:
        """True when ``period`` (``YYYY-MM`` or ``YYYY-Qn``) lies within this version's validity."""
        return within(period, self.valid_from, self.valid_to)


def load_framework(path: Path) -> Framework:
    """Load and validate one framework TOML file."""
    data = read_toml(path)
    fid = _text(path, "", data, "id")
    version = str(data.get("version", "")).strip()
    if not version:
        raise _fail(path, "version", "thiếu phiên bản khung tiêu chí")
    valid_from = str(data.get("valid_from", "2000-01"))
    valid_to = str(data.get("valid_to", "9999-12"))
    for key, val in (("valid_from", valid_from), ("valid_to", valid_to)):
        if not PERIOD_RE.match(val):  # data files use the canonical forms
            raise _fail(path, key, f"kỳ phải có dạng YYYY-MM hoặc YYYY-Qn (ví dụ 2026-03, 2026-Q1), nhận được {val!r}")
    valid_from, valid_to = Period.of(valid_from).code, Period.of(valid_to).code
    raw_parts = data.get("part")
    if not isinstance(raw_parts, list) or not raw_parts:
        raise _fail(path, "part", "khung tiêu chí phải có ít nhất một phần")
    parts: list[Part] = []
    seen: set[str] = set()
    for i, rp in enumerate(raw_parts):
        pkey = f"part[{i}]"
        pcode = _text(path, pkey, rp, "code")
        pmax = _decimal(path, f"{pkey}.max", rp.get("max", 0))
        pmin = _decimal(path, f"{pkey}.min", rp.get("min", 0))
        if pmin > pmax:
            raise _fail(path, f"{pkey}.min", "điểm tối thiểu lớn hơn điểm tối đa")
        crits: list[Criterion] = []
        for j, rc in enumerate(rp.get("criterion", [])):
            ckey = f"{pkey}.criterion[{j}]"
            ccode = _text(path, ckey, rc, "code")
            cmax = _decimal(path, f"{ckey}.max", rc.get("max", 0))
            cmin = _decimal(path, f"{ckey}.min", rc.get("min", 0))
            if cmin > cmax:
                raise _fail(path, f"{ckey}.min", "điểm tối thiểu lớn hơn điểm tối đa")
            crits.append(Criterion(ccode, _text(path, ckey, rc, "name"), cmax, cmin))
        for code in [pcode, *(c.code for c in crits)]:
            if code in seen:
                raise _fail(path, pkey, f"mã '{code}' bị trùng")
            seen.add(code)
        if crits and (sum(c.max for c in crits) != pmax or sum(c.min for c in crits) != pmin):
            raise _fail(path, pkey, f"tổng điểm các tiêu chí không bằng điểm của phần {pcode}")
        bonus = rp.get("bonus", False)
        if not isinstance(bonus, bool):
            raise _fail(path, f"{pkey}.bonus", "phải là true hoặc false")
        parts.append(Part(pcode, _text(path, pkey, rp, "name"), pmax, pmin, tuple(crits), bonus=bonus))
    fw = Framework(fid, version, _text(path, "", data, "name"), tuple(parts), valid_from, valid_to, path)
    base = sum((p.max for p in parts if not p.bonus), Decimal(0))
    if base != 100:  # SPEC §13: bonus parts (bonus = true) come on top of the 100 points
        what = "tổng điểm tối đa (không kể phần điểm thưởng)" if fw.has_bonus else "tổng điểm tối đa"
        raise _fail(path, "part", f"{what} phải là 100, hiện là {base}")
    return fw


# --------------------------------------------------------------------------- code lists


@dataclass(frozen=True)
class Code:
    """An entry of a code list: code, Vietnamese label and optional extra attributes."""

    code: str
    label: str
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CodeLists:
    """Blocks, categories, grades, unit kinds, position codes and subject groups (``codes.toml``).

    ``groups`` (nhóm đối tượng, the scope of the A-quota, letter §2.5.a) default to the
    categories; an administrator's codes file may add its own with ``[[group]]`` entries.
    """

    blocks: tuple[Code, ...]
    categories: tuple[Code, ...]
    grades: tuple[Code, ...]
    unit_kinds: tuple[Code, ...]
    positions: tuple[Code, ...]
    groups: tuple[Code, ...] = ()
    # SPEC §3: levels of the organisation (optional in a replaced file: the shipped ones)
    levels: tuple[Code, ...] = ()

    def codes(self, name: str) -> list[str]:
        """The codes of list ``name`` (``blocks``, ``categories``, ``grades``…), in order."""
        return [c.code for c in getattr(self, name)]

    def resolve(self, name: str, value: str) -> str:
        """The code of list ``name`` that ``value`` (a code or one of its ``aliases``) names,
        or ``value`` unchanged when it names none (e.g. "LĐHĐ" → "LDHD")."""
        for c in getattr(self, name):
            if value == c.code or value in c.extra.get("aliases", ()):
                return c.code
        return value

    def leaders(self) -> frozenset[str]:
        """Position codes of leaders and deputies (``leader = true`` in codes.toml, letter §2.2)."""
        return frozenset(c.code for c in self.positions if c.extra.get("leader"))

    def label(self, name: str, code: str) -> str:
        for c in getattr(self, name):
            if c.code == code:
                return str(c.label)
        return code


# The levels of a code lists file written before levels existed (SPEC §3).
DEFAULT_LEVELS = tuple(
    Code(code, label, {})
    for code, label in (
        ("THANH_PHO", "Thành phố trực thuộc trung ương"),
        ("TINH", "Tỉnh"),
        ("QUAN", "Quận"),
        ("HUYEN", "Huyện"),
        ("THI_XA", "Thị xã"),
        ("PHUONG", "Phường"),
        ("XA", "Xã"),
        ("DAC_KHU", "Đặc khu"),
    )
)


def load_codes(path: Path) -> CodeLists:
    """Load and validate the code lists file."""
    data = read_toml(path)

    def entries(key: str) -> tuple[Code, ...]:
        raw = data.get(key)
        if not isinstance(raw, list) or not raw:
            raise _fail(path, key, "danh mục trống")
        out: list[Code] = []
        for i, item in enumerate(raw):
            code = _text(path, f"{key}[{i}]", item, "code")
            if code in {c.code for c in out}:
                raise _fail(path, f"{key}[{i}]", f"mã '{code}' bị trùng")
            extra = {k: v for k, v in item.items() if k not in ("code", "label")}
            out.append(Code(code, _text(path, f"{key}[{i}]", item, "label"), extra))
        return tuple(out)

    categories = entries("category")
    lists = CodeLists(
        entries("block"),
        categories,
        entries("grade"),
        entries("unit_kind"),
        entries("position"),
        entries("group") if "group" in data else categories,
        entries("level") if "level" in data else DEFAULT_LEVELS,
    )
    for i, group in enumerate(lists.groups):
        aliases = group.extra.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise _fail(path, f"group[{i}].aliases", "phải là danh sách chuỗi ký tự")
    missing = [c for c in lists.codes("categories") if c not in lists.codes("groups")]
    if missing:  # a blank "Nhóm đối tượng" means the person's category (SPEC §3)
        raise _fail(path, "group", f"danh mục nhóm đối tượng phải gồm mọi đối tượng, thiếu {missing}")
    if set(lists.codes("grades")) != {"A", "B", "C", "D", "KXL"}:
        raise _fail(path, "grade", "danh mục xếp loại phải gồm đúng A, B, C, D, KXL")
    blocks = set(lists.codes("blocks"))
    for kind in lists.unit_kinds:
        if kind.extra.get("block") not in blocks:
            raise _fail(path, f"unit_kind {kind.code}.block", "khối không có trong danh mục")
    return lists


# --------------------------------------------------------------------------- authority


@dataclass(frozen=True)
class Delegation:
    """Letter §2.2.b: in units of ``min_unit_size`` or more, comments go to a deputy."""

    min_unit_size: int
    evaluator_positions: tuple[str, ...]
    exempt_positions: tuple[str, ...]


@dataclass(frozen=True)
class AuthorityRule:
    """One row of the authority matrix (SPEC §7)."""

    id: str
    letter: str
    block: str  # a block code, or "*" for any block
    positions: tuple[str, ...]
    deciders: tuple[str, ...]
    unit_kinds: tuple[str, ...] = ()
    evaluator_positions: tuple[str, ...] = ()
    delegate: Delegation | None = None
    proposal: str = ""
    # SPEC §7: an amendment is a rule with a start date; each period uses the rules in force
    # on its first day (valid_from ≤ day < valid_to).
    valid_from: date | None = None
    valid_to: date | None = None
    reading: bool = False  # no public text found: the product's reading, for administrators to check

    def in_force(self, period: str | None) -> bool:
        """Whether the rule holds for ``period`` (``YYYY-MM``; ``None`` or unreadable: always)."""
        day = period_start(period)
        if day is None:
            return True
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day < self.valid_to)


@lru_cache(maxsize=512)  # pure, asked for every rule of every file (a date is immutable)
def period_start(period: str | None) -> date | None:
    """First day of a ``YYYY-MM`` or ``YYYY-Qn`` period, ``None`` when it is not one."""
    p = Period.parse(period) if PERIOD_RE.match(str(period or "")) else None
    return p.first_day() if p else None


@dataclass(frozen=True)
class AuthorityMatrix:
    """Who decides whom: the list of :class:`AuthorityRule` in file order."""

    rules: tuple[AuthorityRule, ...]
    source: Path | None = None

    def rules_for(
        self, position: str, block: str | None, unit_kind: str | None = None, period: str | None = None
    ) -> list[AuthorityRule]:
        """Rules covering ``position`` in ``block`` (narrowed by ``unit_kind`` when known), in
        force for ``period`` when given (SPEC §7: amendments with a start date).

        Without a known unit kind every kind-specific rule of the block matches, so the
        allowed deciders are their union. When the block has no rule for the position (a
        list submitted by a unit of another block, e.g. principals listed by the Education
        Office), the rules for that position in any block apply.
        """
        matching = [r for r in self.rules if position in r.positions and r.in_force(period)]
        in_block = [r for r in matching if r.block in ("*", block)]
        if unit_kind and in_block:
            # A known kind narrows the block's rules; a position the block only covers in
            # other kinds of unit (a civil servant on a ward Party committee's list) has no
            # rule here rather than inheriting another kind's decider.
            return [r for r in in_block if not r.unit_kinds or unit_kind in r.unit_kinds]
        return in_block or matching


def load_authority(path: Path, codes: CodeLists) -> AuthorityMatrix:
    """Load the authority matrix, checking every code against ``codes``."""
    data = read_toml(path)
    raw = data.get("rule")
    if not isinstance(raw, list) or not raw:
        raise _fail(path, "rule", "ma trận thẩm quyền trống")
    positions = set(codes.codes("positions"))
    blocks = set(codes.codes("blocks")) | {"*"}
    kinds = set(codes.codes("unit_kinds"))
    rules: list[AuthorityRule] = []

    def code_list(key: str, item: Mapping[str, Any], name: str, allowed: set[str]) -> tuple[str, ...]:
        value = item.get(name, [])
        if not isinstance(value, list) or any(v not in allowed for v in value):
            bad = [v for v in value if v not in allowed] if isinstance(value, list) else value
            raise _fail(path, f"{key}.{name}", f"mã không có trong danh mục: {bad}")
        return tuple(value)

    for i, item in enumerate(raw):
        key = f"rule[{i}]"
        block = _text(path, key, item, "block")
        if block not in blocks:
            raise _fail(path, f"{key}.block", f"khối '{block}' không có trong danh mục")
        delegate = None
        if "delegate" in item:
            d = item["delegate"]
            size = d.get("min_unit_size")
            if not isinstance(size, int) or size < 1:
                raise _fail(path, f"{key}.delegate.min_unit_size", "phải là số nguyên dương")
            delegate = Delegation(
                size,
                code_list(f"{key}.delegate", d, "evaluator_positions", positions),
                code_list(f"{key}.delegate", d, "exempt_positions", positions),
            )
        rule = AuthorityRule(
            id=str(item.get("id", key)),
            letter=str(item.get("letter", "")),
            block=block,
            positions=code_list(key, item, "positions", positions),
            deciders=code_list(key, item, "deciders", positions),
            unit_kinds=code_list(key, item, "unit_kinds", kinds),
            evaluator_positions=code_list(key, item, "evaluator_positions", positions),
            delegate=delegate,
            proposal=str(item.get("proposal", "")),
            valid_from=_rule_date(path, f"{key}.valid_from", item.get("valid_from")),
            valid_to=_rule_date(path, f"{key}.valid_to", item.get("valid_to")),
            reading=bool(item.get("reading", False)),
        )
        if not rule.positions or not rule.deciders:
            raise _fail(path, key, "mỗi quy tắc cần 'positions' và 'deciders'")
        rules.append(rule)
    return AuthorityMatrix(tuple(rules), path)


def _rule_date(path: Path, key: str, value: Any) -> date | None:
    """A TOML date (``2022-08-01``) or nothing."""
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise _fail(path, key, "phải là một ngày (YYYY-MM-DD)")


def index_frameworks(frameworks: Iterable[Framework]) -> dict[tuple[str, str], Framework]:
    """Frameworks keyed by (id, version); duplicates are a configuration error."""
    out: dict[tuple[str, str], Framework] = {}
    for fw in frameworks:
        if fw.key in out:
            raise ConfigError(
                f"Khung tiêu chí {fw.id} phiên bản {fw.version} được khai báo hai lần "
                f"({out[fw.key].source} và {fw.source})"
            )
        out[fw.key] = fw
    return out
