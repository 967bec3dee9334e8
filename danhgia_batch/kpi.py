"""Decree 335/2025/NĐ-CP's computed task part (SPEC §13). Pure; a base module (the reader
recomputes the points, the rules and the template generator use the same numbers).

Task results of a period, from products (converted units) of a civil servant (Decree 335,
staff formula):

- quantity % = completed ÷ assigned;
- quality % = completed to the required quality ÷ assigned, each failed check for a major
  error taking 25 % of that product's quality points, i.e. (quality − 0.25 × failed) ÷ assigned;
- progress % = completed on time ÷ assigned, each delay taking 25 % of that product's
  progress points, i.e. (on time − 0.25 × delays) ÷ assigned;
- task % = the mean of the three; points = task % × the part's maximum (70), rounded to
  hundredths (half up).

A percentage is kept within [0 %, 100 %] (the product's reading: deductions never make a
percentage negative). Percentages are computed exactly and rounded only for display; the
points are rounded once, at the end. Nothing assigned (0) gives no points: the period is then
ranked or not by the decider (KXL), as the letter's rule for people on leave.

Leaders and deputies (SPEC §13; position codes marked ``leader`` in codes.toml): Decree 335
adds components for them and public implementations score the task part as the mean of six:
the three above from their own products plus three percentages typed by the evaluator
(:data:`LEADER_INPUTS`): the result of the units they run (100 % if everyone under them is at
least C, 50 % if anyone is D), their leadership and management, and their ability to gather and
unite. Which three and their wording are the product's reading (the regime marks it so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
DEDUCTION = Decimal("0.25")  # Decree 335: 25 % of a product's points per failed check / delay
CENT = Decimal("0.01")

# the keys of :class:`TaskInputs`, in the order of template 02's input columns (layout.KPI_INPUTS)
INPUTS: tuple[str, ...] = ("assigned", "completed", "quality", "on_time", "failed_checks", "delays")
# the leader components (percentages 0–100), in the order of their columns (layout.KPI_LEADER_INPUTS)
LEADER_INPUTS: tuple[str, ...] = ("led_units", "leadership", "cohesion")
# the result of the units a leader runs (Decree 335 as publicly implemented; product's reading)
LED_UNITS_ALL_C = Decimal(100)  # everyone under them at least C
LED_UNITS_ANY_D = Decimal(50)  # anyone under them graded D


@dataclass(frozen=True)
class TaskInputs:
    """Products of the period (converted units) and the failed checks and delays."""

    assigned: Decimal
    completed: Decimal
    quality: Decimal
    on_time: Decimal
    failed_checks: Decimal = Decimal(0)
    delays: Decimal = Decimal(0)

    @classmethod
    def of(cls, values: Mapping[str, object]) -> TaskInputs:
        return cls(*(Decimal(str(values.get(k) or 0)) for k in INPUTS))


@dataclass(frozen=True)
class TaskResult:
    """Percentages (exact) and the points (rounded to hundredths)."""

    quantity: Decimal
    quality: Decimal
    progress: Decimal
    task: Decimal
    points: Decimal

    def shown(self, name: str) -> Decimal:
        """A percentage rounded to hundredths for display (e.g. ``quality`` → 85.42)."""
        return (getattr(self, name) * HUNDRED).quantize(CENT, ROUND_HALF_UP)


def _ratio(numerator: Decimal, assigned: Decimal) -> Decimal:
    return min(Decimal(1), max(Decimal(0), numerator / assigned))


def task_points(inputs: TaskInputs, part_max: Decimal = Decimal(70)) -> TaskResult:
    """Decree 335's staff task result for ``inputs`` (see the module doc)."""
    if inputs.assigned <= 0:
        zero = Decimal(0)
        return TaskResult(zero, zero, zero, zero, zero)
    quantity = _ratio(inputs.completed, inputs.assigned)
    quality = _ratio(inputs.quality - DEDUCTION * inputs.failed_checks, inputs.assigned)
    progress = _ratio(inputs.on_time - DEDUCTION * inputs.delays, inputs.assigned)
    task = (quantity + quality + progress) / 3
    points = (task * part_max).quantize(CENT, ROUND_HALF_UP)
    return TaskResult(quantity, quality, progress, task, points)


def leader_points(inputs: TaskInputs, components: Mapping[str, object], part_max: Decimal = Decimal(70)) -> TaskResult:
    """A leader's or deputy's task result: the mean of the three staff percentages and the
    three :data:`LEADER_INPUTS` percentages (typed 0–100; blank counts 0, kept within
    [0 %, 100 %]), × ``part_max``, rounded once to hundredths (half up)."""
    if inputs.assigned <= 0:
        zero = Decimal(0)
        return TaskResult(zero, zero, zero, zero, zero)
    staff = task_points(inputs, part_max)
    extra = [min(Decimal(1), max(Decimal(0), Decimal(str(components.get(k) or 0)) / HUNDRED)) for k in LEADER_INPUTS]
    task = (staff.quantity + staff.quality + staff.progress + sum(extra, Decimal(0))) / 6
    points = (task * part_max).quantize(CENT, ROUND_HALF_UP)
    return TaskResult(staff.quantity, staff.quality, staff.progress, task, points)


def leader_problems(components: Mapping[str, object]) -> list[tuple[str, str]]:
    """(component key, expected) for each leader component that is blank or outside 0–100."""
    out: list[tuple[str, str]] = []
    for key in LEADER_INPUTS:
        value = components.get(key)
        if value is None or value == "":
            out.append((key, "tỷ lệ 0–100 (bắt buộc với cấp trưởng, cấp phó)"))
        elif not Decimal(0) <= Decimal(str(value)) <= HUNDRED:
            out.append((key, "tỷ lệ 0–100"))
    return out


def input_problems(inputs: TaskInputs) -> list[tuple[str, str]]:
    """(input key, expected) for each impossible input: negative counts, more completed than
    assigned, more to quality or on time than completed."""
    out: list[tuple[str, str]] = []
    for key in INPUTS:
        if getattr(inputs, key) < 0:
            out.append((key, "≥ 0"))
    if inputs.completed > inputs.assigned:
        out.append(("completed", f"≤ số được giao ({inputs.assigned.normalize()})"))
    for key in ("quality", "on_time"):
        if getattr(inputs, key) > inputs.completed:
            out.append((key, f"≤ số hoàn thành ({inputs.completed.normalize()})"))
    return out
