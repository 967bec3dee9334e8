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
    broken: list[tuple[str, str]] = field(default_factory=list)  # work-folder files with mistakes (left out)

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
    result = RegimeList(code, regime_rows(settings.catalogue, categories, code), broken=list(settings.catalogue.broken))
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


def copy_regime(settings: Settings, source_id: str, new_id: str) -> Path:
    """Copy regime ``source_id`` to ``<workdir>/regimes/<new_id>.toml`` with ``id = new_id``, as
    the first step of adding a regime (README "Thêm một bộ quy định"); the copy judges nothing
    until ``new_id`` is in ``[regimes] use``.

    Raises:
        UsageError: no regime ``source_id``, a bad ``new_id``, or the file exists already.
    """
    import re

    from ..atomic import atomic_path
    from ..errors import UsageError
    from ..regimes import WORKDIR_REGIMES

    source = settings.catalogue.get(source_id)
    if source is None or source.path is None:
        known = ", ".join(sorted(settings.catalogue.regimes))
        raise UsageError(f"Không có bộ quy định '{source_id}' (các bộ hiện có: {known}).")
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", new_id):
        raise UsageError(f"Mã '{new_id}' không hợp lệ: chỉ gồm chữ thường không dấu, số, dấu chấm, gạch ngang.")
    target = settings.workdir / WORKDIR_REGIMES / f"{new_id}.toml"
    if target.exists():
        raise UsageError(f"Đã có tệp {target}; hãy sửa tệp đó hoặc chọn mã khác.")
    text = source.path.read_text(encoding="utf-8")
    text, n = re.subn(r'(?m)^id\s*=\s*"[^"]*"', f'id = "{new_id}"', text, count=1)
    if not n:
        text = f'id = "{new_id}"\n' + text
    header = f"# Chép từ bộ quy định {source.id} (phiên bản {source.version}). Sửa valid_from và các giá trị,\n"
    header += f"# kiểm tra: danhgia regime check {WORKDIR_REGIMES}/{new_id}.toml,\n"
    header += f"# rồi thêm {new_id} vào [regimes] use trong danhgia.toml để áp dụng.\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        tmp.write_text(header + text, encoding="utf-8")
    return target
