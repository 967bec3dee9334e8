"""Who decides whom, and who writes the comments (letter §2.2, SPEC §7).

The matrix is data (``settings.authority``, shipped ``data/authority.toml``). For each row the
header's decider position must be one of the deciders of the rules covering the row's
position in its block (the person's registry block if known, else the list's block),
narrowed by the unit kind when known.

Issue placement: one issue per row, on the row's "Mã chức danh" cell, naming the person and
the expected decider. The header cell is the same for every row, so pointing at it would pile
every comment on one cell; the row cell tells the clerk *whose* decider is wrong, and the
message names the header's decider position.

Delegation (letter §2.2.b, ý 3): in a department or public service unit of 20 or more
CBCCVC/LĐHĐ, the head delegates the comments to the deputy in charge: rows of people other
than deputies must name an evaluator of position ``CAP_PHO``. Only rules whose deciders include
the header's decider take part in the evaluator checks (the rule actually applied to this
list): without a known unit kind, a ward's list must not inherit a department's delegation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..domain import AuthorityRule
from ..issues import Issue, make_issue
from ..models import EvaluationRow, ListHeader
from .common import Where, position_label, position_labels


def _unique(codes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(codes))


def check_authority(
    header: ListHeader,
    rows: Sequence[EvaluationRow],
    settings: Any,
    *,
    unit_kind: str | None = None,
    unit_size: int | None = None,
    person_blocks: Mapping[str, str] | None = None,
    where: Where | None = None,
) -> list[Issue]:
    """Authority rules of letter §2.2 on each row of one decider's list.

    Args:
        header: the list header (decider position, block).
        rows: the rows decided by that decider.
        settings: the run's settings (``settings.authority``, ``settings.codes``).
        unit_kind: the unit's kind from the registry, when known.
        unit_size: CBCCVC/LĐHĐ of the unit from the registry; default the number of rows.
        person_blocks: person code → block from the registry (default the header's block).
        where: file, sheet and column labels for the issues.
    """
    where = where or Where()
    blocks = person_blocks or {}
    size = unit_size if unit_size is not None else len(rows)
    decider = header.decider_position
    out: list[Issue] = []
    for row in rows:
        if not row.position_code:
            continue  # a missing position code is the reader's issue
        block = blocks.get(row.person_code) or header.block
        # SPEC §7: the matrix in force for the list's period (3251-QĐ/TU from 08/2022; wards from 07/2025)
        rules = settings.authority.rules_for(row.position_code, block, unit_kind, header.period or None)
        if not rules:
            out.append(
                make_issue("authority-unknown-position", **where.row(row, "position_code"), value=row.position_code)
            )
            continue
        deciders = _unique([d for r in rules for d in r.deciders])
        if decider and decider not in deciders:
            # letter §2.2: the decider named in the header is not competent for this person
            out.append(
                make_issue(
                    "authority-decider",
                    **where.row(row, "position_code"),
                    value=position_label(settings, row.position_code),
                    person=row.full_name or row.person_code,
                    expected=position_labels(settings, deciders),
                    actual=position_label(settings, decider),
                )
            )
            continue
        applied = [r for r in rules if decider in r.deciders] if decider else rules
        out.extend(_check_evaluator(row, applied, size, settings, where))
    return out


def _check_evaluator(
    row: EvaluationRow, rules: list[AuthorityRule], size: int, settings: Any, where: Where
) -> list[Issue]:
    evaluator = row.evaluator_position
    delegated = [
        r.delegate
        for r in rules
        if r.delegate is not None
        and size >= r.delegate.min_unit_size
        and row.position_code not in r.delegate.exempt_positions
    ]
    if delegated:
        # letter §2.2.b, ý 3: 20+ CBCCVC/LĐHĐ → the deputy in charge writes the comments
        allowed = _unique([p for d in delegated for p in d.evaluator_positions])
        if not evaluator:
            return [
                make_issue(
                    "authority-evaluator-required",
                    **where.row(row, "evaluator_position"),
                    value="",
                    detail=size,
                    expected=position_labels(settings, allowed),
                )
            ]
    else:
        allowed = _unique([p for r in rules for p in r.evaluator_positions])
    if evaluator and allowed and evaluator not in allowed:
        # letter §2.2: the evaluator must hold one of the positions the rule names
        # (schools §2.2.c: Ban Giám hiệu — PHO_HIEU_TRUONG or HIEU_TRUONG)
        return [
            make_issue(
                "authority-evaluator",
                **where.row(row, "evaluator_position"),
                value=position_label(settings, evaluator),
                expected=position_labels(settings, allowed),
            )
        ]
    return []
