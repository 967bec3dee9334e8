"""``danhgia regime list`` and ``danhgia regime check`` (SPEC §13): which regime is in force for
which period and category, and the mistakes of a regime file with their keys and lines."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..domain import DATA_DIR, load_codes
from ..errors import ConfigError
from ..regimes import RegimeCheck, RegimeRow, check_regime_file, regime_rows
from ..settings import Settings, load_settings
from .admin import normalise_period


@dataclass
class RegimeList:
    """The result of ``danhgia regime list``: every known regime (in force first); with a
    period, ``judged`` maps each category to the regime that judges it (``""``: none)."""

    period: str | None
    rows: list[RegimeRow] = field(default_factory=list)
    judged: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_regimes(settings: Settings, period: str | None = None) -> RegimeList:
    """The regimes known to the work folder; with ``period`` (any form clerks type), which one
    judges each category in that period.

    Raises:
        UsageError: ``period`` is not a month or a quarter.
    """
    code = normalise_period(period) if period else None
    categories = settings.codes.codes("categories")
    result = RegimeList(code, regime_rows(settings.catalogue, categories, code))
    if code is not None:
        for cat in categories:
            found = settings.catalogue.regime_for(code, cat)
            result.judged[cat] = found.id if found else ""
    return result


def check_regime(path: Path, config: Path | None = None) -> RegimeCheck:
    """Validate the regime file ``path``; never raises on a bad file. Categories and blocks are
    checked against the work folder's code lists (the shipped ones when its settings cannot be
    loaded, e.g. because the file being checked already sits, broken, in ``regimes/``)."""
    try:
        settings: Settings | None = load_settings(config)
    except ConfigError:
        settings = None
    codes = settings.codes if settings else load_codes(DATA_DIR / "codes.toml")
    known = [f.id for f in settings.frameworks.values()] if settings else ["HN-THANG", "HN-THANG-LD"]
    return check_regime_file(Path(path), codes=codes, known_frameworks=known)[1]


@dataclass
class QuotaGrant:
    """The result of ``danhgia quota grant``: the exception recorded (``id``) and every grant
    of the period, oldest first."""

    id: int
    period: str
    unit_code: str
    ratio: float
    grants: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def grant_quota(settings: Settings, period: str, unit: str, ratio: float, *, by: str, reason: str) -> QuotaGrant:
    """Record an A-quota exception for ``unit`` in ``period`` (SPEC §13; Decree 335: an
    outstanding organisation may be allowed a higher ratio). Lists of the unit decided after
    it use ``ratio``; a list already recorded is judged again when it is sent again.

    Raises:
        UsageError: a bad period or ratio, no granter or reason, or a unit the registry in
            force for the period does not know.
    """
    from ..errors import UsageError
    from ..ledger import open_ledger

    code = normalise_period(period)
    if not 0 < ratio <= 1:
        raise UsageError(f"Tỷ lệ '{ratio}' không hợp lệ; ghi số từ 0 đến 1, ví dụ 0.3 (30%).")
    if not by.strip() or not reason.strip():
        raise UsageError("Cần ghi người quyết định ngoại lệ (--by) và lý do (--reason).")
    with open_ledger(settings) as ledger:
        registry = ledger.registry_for(code)
        if registry is not None and registry.unit(unit.strip()) is None:
            raise UsageError(f"Đơn vị '{unit}' không có trong danh mục áp dụng cho kỳ {code}.")
        gid = ledger.grant_quota(code, unit.strip(), ratio, by=by.strip(), reason=reason.strip())
        grants = ledger.quota_grants(code)
    return QuotaGrant(gid, code, unit.strip().upper(), ratio, grants)
