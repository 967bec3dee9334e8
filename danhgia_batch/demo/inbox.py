"""Write the demo's month into ``inbox/<unit code>/`` the way clerks would.

Every decider list becomes a template 02 workbook filled with openpyxl (as Excel would);
the units in ``individual_units`` send one template 01 form per person instead. The faults of
:mod:`.faults` are planted once each, on lists chosen deterministically from the seed.
"""

from __future__ import annotations

import os
import random
import shutil
import time as _time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from .. import layout
from ..domain import Framework
from ..sample import District, template_paths
from ..settings import Settings
from ..templates import fill_individual, fill_unit_list
from . import faults as F
from .lists import DeciderList, decider_lists
from .scores import PeriodDates, Scored, ScorePlan, period_dates, score_members, split
from .zipfill import ZipFiller

# Small Party organisations whose people send individual forms (template 01) this month.
INDIVIDUAL_UNITS = ("HCCB", "UBKTQU")


@dataclass(frozen=True)
class DemoFile:
    """One file the demo put into the inbox and what should become of it."""

    path: Path
    unit_code: str  # the unit whose file it is (its folder, unless the fault is wrong-folder)
    kind: str  # "02", "01" or "" (not a workbook the reader can open)
    expected: str  # "accepted" | "rejected" | "invalid" | "duplicate"
    fault: str = ""
    people: int = 0


def number(value: Decimal) -> int | float:
    """A score as a clerk's Excel stores it."""
    return int(value) if value == value.to_integral_value() else float(value)


def _period_text(period: str) -> str:
    year, month = period.split("-")
    return f"{month}/{year}"


def _clerk(district: District, lst: DeciderList) -> str:
    """Người lập biểu: a staff member of the submitting unit, else the decider."""
    for p in district.people_of(lst.unit.code):
        if p.position_code in ("CONG_CHUC", "VIEN_CHUC"):
            return p.full_name
    return lst.decider.name


def _header(district: District, lst: DeciderList, period: str, decided: date) -> dict[str, Any]:
    return {
        "period": _period_text(period),
        "unit_code": lst.unit.code,
        "unit_name": lst.unit.name,
        "block": lst.unit.block,
        "decider_name": lst.decider.name,
        "decider_position": lst.decider.position,
        "decision_date": decided,
        "prepared_by": _clerk(district, lst),
        "prepared_date": decided,
    }


def _row(s: Scored, lst: DeciderList, framework: Framework) -> dict[str, Any]:
    p = s.person
    row: dict[str, Any] = {
        "person_code": p.code,
        "full_name": p.full_name,
        "birth_date": p.birth_date,
        "position_title": p.position_title,
        "position_code": p.position_code,
        "category": p.category,
        "group": p.group,
        "self_grade": s.self_grade,
        "self_date": s.self_date,
        "final_grade": s.final_grade,
        "note": s.note or None,
    }
    ranked = s.final_grade != "KXL"
    for part, self_score, final_score in zip(framework.parts, s.self_parts, s.final_parts, strict=True):
        row[f"self_{part.code}"] = number(self_score) if ranked else None
        row[f"final_{part.code}"] = number(final_score) if ranked else None
    evaluator = lst.evaluators.get(p.code)
    if evaluator is not None:
        row["evaluator_name"] = evaluator.full_name
        row["evaluator_position"] = evaluator.position_code
    return row


def _arrival(decided: date, rng: random.Random) -> float:
    """A plausible arrival time: the afternoon of the decision day or the next morning."""
    moment = datetime.combine(decided, time(14, 0)) + timedelta(minutes=rng.randint(0, 20 * 60))
    return min(moment.timestamp(), _time.time() - 600)  # never in the future (settle checks)


def _plan_faults(lists: Sequence[DeciderList], rng: random.Random, forms: Sequence[str]) -> dict[str, str]:
    """List slug → fault, each list fault at most once, on distinct lists."""
    usable = [lst for lst in lists if lst.unit.code not in forms and lst.members]
    plan: dict[str, str] = {}
    big = [lst for lst in usable if _largest_group(lst) >= 10]
    if big:
        plan[rng.choice(big).slug] = F.QUOTA
    rest = [lst for lst in usable if lst.slug not in plan]
    for fault, lst in zip(F.LIST_FAULTS[1:], rng.sample(rest, min(len(rest), len(F.LIST_FAULTS) - 1)), strict=False):
        plan[lst.slug] = fault
    return plan


def _largest_group(lst: DeciderList) -> int:
    sizes: dict[str, int] = {}
    for p in lst.members:
        sizes[p.group] = sizes.get(p.group, 0) + 1
    return max(sizes.values(), default=0)


def _specials(
    lists: Sequence[DeciderList], plan: dict[str, str], rng: random.Random, forms: Sequence[str]
) -> dict[str, str]:
    """Two people not ranked (KXL, with a reason) and one D, on lists without faults."""
    clean = [p for lst in lists if lst.slug not in plan and lst.unit.code not in forms for p in lst.members]
    clean = [p for p in clean if p.position_code in ("GIAO_VIEN", "CONG_CHUC", "VIEN_CHUC", "KCT", "LDHD")]
    picked = rng.sample(clean, min(3, len(clean)))
    return {p.code: grade for p, grade in zip(picked, ("KXL", "KXL", "D"), strict=False)}


def _file_name(period: str, lst: DeciderList, several: bool) -> str:
    year, month = period.split("-")
    tail = f"_{lst.decider.position}" if several else ""
    return f"TongHop_T{month}-{year}_{lst.unit.code}{tail}.xlsx"


class ClerkFiller:
    """Fills templates through ``templates.fill_*`` (openpyxl), exactly as a clerk's Excel."""

    def __init__(self, templates: Mapping[str, Path]) -> None:
        self.templates = templates

    def fill_unit_list(self, out: Path, header: Mapping[str, Any], rows: list[dict[str, Any]]) -> Path:
        return fill_unit_list(self.templates[layout.KIND_UNIT_LIST], out, header, rows)

    def fill_individual(
        self, out: Path, header: Mapping[str, Any], criteria: Mapping[str, tuple[Any, ...]], results: Mapping[str, Any]
    ) -> Path:
        return fill_individual(self.templates[layout.KIND_INDIVIDUAL], out, header, criteria, results)


class FastFiller:
    """The same cells written at the zip level (:mod:`.zipfill`): for big districts."""

    def __init__(self, templates: Mapping[str, Path]) -> None:
        self.lists = ZipFiller(templates[layout.KIND_UNIT_LIST])
        self.forms = ZipFiller(templates[layout.KIND_INDIVIDUAL])

    def fill_unit_list(self, out: Path, header: Mapping[str, Any], rows: list[dict[str, Any]]) -> Path:
        return self.lists.fill_unit_list(out, header, rows)

    def fill_individual(
        self, out: Path, header: Mapping[str, Any], criteria: Mapping[str, tuple[Any, ...]], results: Mapping[str, Any]
    ) -> Path:
        return self.forms.fill_individual(out, header, criteria, results)


@dataclass
class _Month:
    """What every file of the month shares."""

    settings: Settings
    district: District
    inbox: Path
    filler: ClerkFiller | FastFiller
    framework: Framework
    period: str
    dates: PeriodDates
    rng: random.Random
    specials: dict[str, str]
    units: list[str]


def write_inbox(
    settings: Settings,
    district: District,
    inbox: Path,
    *,
    period: str = "2022-03",
    seed: int = 2022,
    framework: Framework | None = None,
    fast: bool = False,
    individual_units: Sequence[str] = INDIVIDUAL_UNITS,
) -> list[DemoFile]:
    """Fill every decider list of ``district`` for ``period`` into ``inbox/<unit code>/``.

    Args:
        fast: write the cells at the zip level (:mod:`.zipfill`, ~1 ms a file) instead of
            opening each template with openpyxl as a clerk's Excel does (~1 s a list). The
            faults that edit a filled workbook (a deleted column, a typed-over total) are
            made with openpyxl either way.
        individual_units: units whose people send template 01 forms instead of a list.

    Returns:
        One :class:`DemoFile` per file written, with its expected outcome.
    """
    framework = framework or settings.default_framework
    templates = template_paths(settings)
    rng = random.Random(seed * 1009 + 17)
    dates = period_dates(period, settings, not_after=date.today())
    lists = decider_lists(district, settings, period)
    plan = _plan_faults(lists, rng, individual_units)
    specials = _specials(lists, plan, rng, individual_units)
    per_unit: dict[str, int] = {}
    for lst in lists:
        per_unit[lst.unit.code] = per_unit.get(lst.unit.code, 0) + 1
    filler = FastFiller(templates) if fast else ClerkFiller(templates)
    month = _Month(
        settings, district, inbox, filler, framework, period, dates, rng, specials, [u.code for u in district.units]
    )
    out: list[DemoFile] = []
    for lst in lists:
        if lst.unit.code in individual_units:
            out.extend(_write_forms(month, lst))
        else:
            out.append(_write_list(month, lst, plan.get(lst.slug, ""), several=per_unit[lst.unit.code] > 1))
    out.extend(_drop_extras(out, inbox, rng))
    return out


def _write_list(m: _Month, lst: DeciderList, fault: str, *, several: bool) -> DemoFile:
    framework, dates, rng = m.framework, m.dates, m.rng
    score_plan = ScorePlan(special=m.specials, extra_a=2 if fault == F.QUOTA else 0)
    scored = score_members(lst.members, framework, m.settings, dates, rng, score_plan)
    decided = dates.decision_first + timedelta(days=rng.randint(0, (dates.decision_last - dates.decision_first).days))
    if fault == F.LATE_DECISION:
        decided = dates.late_decision
    rows = [_row(s, lst, framework) for s in scored]
    if fault == F.SCORE_TYPO:
        key, value = F.typo_value(framework)
        target = next((r for r in rows if r.get(key) is not None), rows[0])
        target[key] = value
    folder = lst.unit.code
    if fault == F.WRONG_FOLDER:
        others = [u for u in m.units if u != lst.unit.code]
        folder = others[rng.randrange(len(others))] if others else folder
    path = m.inbox / folder / _file_name(m.period, lst, several)
    m.filler.fill_unit_list(path, _header(m.district, lst, m.period, decided), rows)
    if fault == F.COLUMN_MISSING:
        F.delete_column(path, framework)
    elif fault == F.TOTAL_OVERWRITTEN:
        ranked = [i for i, s in enumerate(scored) if s.final_grade != "KXL"] or [0]
        i = ranked[len(ranked) // 2]
        F.overwrite_total(path, framework, i, number(scored[i].final_total + 5))
    os.utime(path, (_arrival(decided, rng),) * 2)
    expected = F.OUTCOMES[fault] if fault else "accepted"
    return DemoFile(path, lst.unit.code, layout.KIND_UNIT_LIST, expected, fault, len(rows))


def _write_forms(m: _Month, lst: DeciderList) -> list[DemoFile]:
    """Template 01: one form per person; all ranked B (individual forms are not a list, so
    the demo keeps them clear of the quota)."""
    plan = ScorePlan(special={p.code: "B" for p in lst.members})
    framework, dates, rng = m.framework, m.dates, m.rng
    scored = score_members(lst.members, framework, m.settings, dates, rng, plan)
    out: list[DemoFile] = []
    year, month = m.period.split("-")
    for s in scored:
        p = s.person
        decided = dates.decision_first
        header = {
            **_header(m.district, lst, m.period, decided),
            "person_code": p.code,
            "full_name": p.full_name,
            "birth_date": p.birth_date,
            "position_title": p.position_title,
            "position_code": p.position_code,
            "category": p.category,
            "group": p.group,
            "self_date": s.self_date,
        }
        evaluator = lst.evaluators.get(p.code)
        if evaluator is not None:
            header["evaluator_name"] = evaluator.full_name
            header["evaluator_position"] = evaluator.position_code
        criteria: dict[str, tuple[Any, ...]] = {}
        for part, self_score, final_score in zip(framework.parts, s.self_parts, s.final_parts, strict=True):
            if not part.criteria:
                criteria[part.code] = (number(self_score), number(final_score))
                continue
            bounds = [(c.min, c.max) for c in part.criteria]
            for c, a, b in zip(
                part.criteria, split(self_score, bounds, rng), split(final_score, bounds, rng), strict=True
            ):
                criteria[c.code] = (number(a), number(b))
        results = {
            "self_grade": s.self_grade,
            "final_grade": s.final_grade,
            "comments": "Hoàn thành tốt nhiệm vụ được giao",
        }
        path = m.inbox / lst.unit.code / f"Phieu_T{month}-{year}_{p.code}.xlsx"
        m.filler.fill_individual(path, header, criteria, results)
        os.utime(path, (_arrival(decided, rng),) * 2)
        out.append(DemoFile(path, lst.unit.code, layout.KIND_INDIVIDUAL, "accepted", "", 1))
    return out


def _drop_extras(written: list[DemoFile], inbox: Path, rng: random.Random) -> list[DemoFile]:
    """The duplicate drop (a byte copy of an accepted list) and the encrypted workbook."""
    out: list[DemoFile] = []
    lists = [f for f in written if f.kind == layout.KIND_UNIT_LIST]
    sources = [f for f in lists if not f.fault] or [f for f in lists if f.expected == "accepted"]
    if sources:
        src = sources[rng.randrange(len(sources))]
        copy = src.path.with_name(f"{src.path.stem} - Copy{src.path.suffix}")
        shutil.copy2(src.path, copy)
        out.append(DemoFile(copy, src.unit_code, src.kind, F.OUTCOMES[F.DUPLICATE], F.DUPLICATE, src.people))
    homes = [f for f in lists if f.fault != F.WRONG_FOLDER]
    if homes:
        victim = homes[rng.randrange(len(homes))]
        path = victim.path.parent / f"{victim.path.stem}_matkhau.xlsx"
        path.write_bytes(F.encrypted_workbook_bytes(rng.randrange(1 << 16)))
        stat = victim.path.stat()
        os.utime(path, (stat.st_mtime - 3600,) * 2)
        out.append(DemoFile(path, victim.unit_code, "", F.OUTCOMES[F.ENCRYPTED], F.ENCRYPTED))
    return out


def write_list_variants(
    settings: Settings, district: District, unit_code: str, out_dir: Path, count: int, *, period: str, seed: int = 1
) -> list[Path]:
    """``count`` versions of one unit's own decider list, each with different bytes (a
    corrected file sent again): the watcher benchmark drops them one by one."""
    lists = decider_lists(district, settings, period)
    lst = next(x for x in lists if x.unit.code == unit_code and x.decider.code)
    filler = FastFiller(template_paths(settings))
    framework = settings.default_framework
    dates = period_dates(period, settings, not_after=date.today())
    rng = random.Random(seed)
    out = []
    for i in range(count):
        scored = score_members(lst.members, framework, settings, dates, rng)
        rows = [_row(s, lst, framework) for s in scored]
        rows[0]["note"] = f"Bản sửa lần {i + 1}"
        path = Path(out_dir) / f"{_file_name(period, lst, False)[:-5]}_v{i + 1:03d}.xlsx"
        out.append(filler.fill_unit_list(path, _header(district, lst, period, dates.decision_last), rows))
    return out
