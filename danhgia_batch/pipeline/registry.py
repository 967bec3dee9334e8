"""Loading and showing the registry (SPEC §3, issue 5): ``danhgia registry load|show``.

A registry file (template 00) is read like any input, validated, and either rejected with an
error workbook or saved as a new version in the ledger. Versions are kept: a file is checked
against the current registry when it arrives (a locked period takes no files), and the views
and reports of a period use the version in force for it (``Ledger.registry_for(period)``: the
one the period was published with once it is locked, else the current one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..issues import Issue, Severity, has_errors, make_issue
from ..layout import KIND_REGISTRY
from ..models import FormResult
from ..progress import Progress, Steps
from ..registry import Registry, registry_from_form, unit_size, validate_registry
from ..settings import Settings

log = logging.getLogger(__name__)

REGISTRY_REPORT_DIR = "danh_muc"  # outbox/danh_muc/: error workbooks of rejected registry files


@dataclass
class RegistryLoadResult:
    """Outcome of loading one registry file; ``version`` is None when it was rejected."""

    source: Path
    version: int | None = None
    units: int = 0
    people: int = 0
    issues: list[Issue] = field(default_factory=list)
    error_files: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.version is not None

    @property
    def exit_code(self) -> int:
        """SPEC §11: 0 loaded, 1 rejected."""
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "ok": self.ok,
            "version": self.version,
            "units": self.units,
            "people": self.people,
            "issues": [i.to_dict() for i in self.issues],
            "error_files": [str(p) for p in self.error_files],
        }


@dataclass
class UnitSummary:
    """One unit of ``registry show``: active people and the §2.2.b head count."""

    code: str
    name: str
    kind: str
    parent_code: str
    people: int  # active people, all categories
    size: int  # active CBCCVC and LĐHĐ (letter §2.2.b)
    inactive: int = 0


@dataclass
class BlockSummary:
    block: str
    label: str
    units: list[UnitSummary] = field(default_factory=list)

    @property
    def people(self) -> int:
        return sum(u.people for u in self.units)


@dataclass
class RegistrySummary:
    """What ``danhgia registry show`` prints; ``version`` None means "chưa có danh mục"."""

    version: int | None = None
    blocks: list[BlockSummary] = field(default_factory=list)

    @property
    def has_registry(self) -> bool:
        return self.version is not None

    @property
    def units(self) -> int:
        return sum(len(b.units) for b in self.blocks)

    @property
    def people(self) -> int:
        return sum(b.people for b in self.blocks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "has_registry": self.has_registry,
            "version": self.version,
            "units": self.units,
            "people": self.people,
            "blocks": [
                {
                    "block": b.block,
                    "label": b.label,
                    "people": b.people,
                    "units": [u.__dict__ for u in b.units],
                }
                for b in self.blocks
            ],
        }


def summarize(registry: Registry | None, settings: Settings) -> RegistrySummary:
    """Units per block (in the code list's order) with head counts."""
    if registry is None:
        return RegistrySummary()
    blocks: dict[str, BlockSummary] = {
        code: BlockSummary(code, settings.codes.label("blocks", code)) for code in settings.codes.codes("blocks")
    }
    for unit in registry.units.values():
        block = blocks.setdefault(unit.block, BlockSummary(unit.block, unit.block))
        everyone = registry.people_of(unit.code, active_only=False)
        active = sum(1 for p in everyone if p.active)
        block.units.append(
            UnitSummary(
                unit.code,
                unit.name,
                unit.kind,
                unit.parent_code,
                active,
                unit_size(registry, unit.code),
                len(everyone) - active,
            )
        )
    return RegistrySummary(registry.version, [b for b in blocks.values() if b.units])


def register_form(form: FormResult, settings: Settings, ledger: Any, *, source: str) -> tuple[list[Issue], int | None]:
    """Validate a template 00 form already read and, when it has no error, save a new version.

    Used by ``load_registry_file`` and by the inbox run when a registry file is dropped in.

    Returns:
        (all issues of the file, the new version id or None when rejected).
    """
    issues = list(form.issues)
    if form.kind and form.kind != KIND_REGISTRY:
        issues.append(
            make_issue(
                "template-kind", file=form.path.name, kind=form.kind, detail="cần biểu mẫu 00 - danh mục đơn vị, cán bộ"
            )
        )
    if not has_errors(issues):
        issues.extend(validate_registry(form, settings))
    if has_errors(issues) or not form.kind:
        return issues, None
    registry = registry_from_form(form)
    # the first row of each person, then the further rows of people moved to a successor unit
    people = [*registry.people.values(), *(p for rows in registry.moves.values() for p in rows[1:])]
    version = int(ledger.save_registry(list(registry.units.values()), people, source))
    log.info(
        "registry version %s from %s: %d units, %d people", version, source, len(registry.units), len(registry.people)
    )
    return issues, version


def load_registry_file(
    path: Path, settings: Settings, *, report_dir: Path | None = None, progress: Progress | None = None
) -> RegistryLoadResult:
    """``danhgia registry load FILE``: read, validate, then save a new version or write errors.

    Args:
        path: a filled template 00 (``danh_muc.xlsx``).
        report_dir: where the error workbook goes (default ``outbox/danh_muc/``).
        progress: told when the file is read and when it is checked and saved.
    """
    from ..ledger import open_ledger
    from ..read import read_form

    path = Path(path)
    steps = Steps(progress, "Nạp danh mục", 2)
    form = read_form(path, settings)
    steps.advance()
    ledger = open_ledger(settings)
    try:
        issues, version = register_form(form, settings, ledger, source=path.name)
    finally:
        close = getattr(ledger, "close", None)
        if callable(close):
            close()
    steps.advance()
    result = RegistryLoadResult(path, version, len(form.units), len(form.people), issues)
    if version is None:
        from ..reports.errors import write_error_workbook

        out_dir = report_dir or settings.outbox / REGISTRY_REPORT_DIR
        out_dir.mkdir(parents=True, exist_ok=True)
        result.error_files = write_error_workbook(path, issues, out_dir / f"{path.stem}_loi.xlsx")
    return result


def show_registry(settings: Settings) -> RegistrySummary:
    """``danhgia registry show``: the registry in force, units per block with head counts."""
    from ..ledger import open_ledger

    ledger = open_ledger(settings)
    try:
        return summarize(ledger.current_registry(), settings)
    finally:
        close = getattr(ledger, "close", None)
        if callable(close):
            close()


def error_count(issues: list[Issue]) -> int:
    return sum(1 for i in issues if i.severity is Severity.ERROR)
