"""One :class:`Settings` object, resolved in one function.

Precedence: CLI flag > ``DANHGIA_*`` environment > ``danhgia.toml`` > shipped defaults.
No other module reads the environment. Every key lives in a section of ``danhgia.toml``;
the environment name of ``[section] key`` is ``DANHGIA_SECTION_KEY`` (``DANHGIA_LEDGER_URL``,
``DANHGIA_WATCHER_SETTLE_SECONDS``…), and ``DANHGIA_CONFIG`` names the file itself.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from .domain import (
    DATA_DIR,
    AuthorityMatrix,
    CodeLists,
    Framework,
    index_frameworks,
    load_authority,
    load_codes,
    load_framework,
    read_toml,
)
from .errors import ConfigError
from .periods import Period
from .regimes import DEFAULT_USE, RegimeCatalogue, load_catalogue

CONFIG_NAME = "danhgia.toml"


@dataclass(frozen=True)
class PathsSettings:
    """Working folders, relative to the folder holding ``danhgia.toml``."""

    inbox: Path = Path("inbox")
    outbox: Path = Path("outbox")
    archive: Path = Path("archive")
    templates: Path = Path("templates_xlsx")
    logs: Path = Path("logs")


@dataclass(frozen=True)
class LedgerSettings:
    """Ledger database; empty ``url`` means the SQLite file ``danhgia.sqlite3`` in the work dir."""

    url: str = ""


@dataclass(frozen=True)
class GradingSettings:
    """Lower bounds of the score bands (letter §2.5): A ≥ 90, B ≥ 70, C ≥ 50, D below."""

    a: float = 90
    b: float = 70
    c: float = 50


@dataclass(frozen=True)
class QuotaSettings:
    """The A-quota of letter §2.5.

    ``base`` is ``good_only`` (number of B, the letter's literal wording) or
    ``good_or_better`` (A+B); ``rounding`` is ``floor`` (default), ``round`` or ``ceil``.
    A group of fewer than ``small_group_size`` ranked people may have ``small_group_max_a`` A;
    ``small_unit_total`` (default) caps a list of fewer than ``small_group_size`` ranked people
    at ``small_group_max_a`` A in total, whatever its groups ("Đơn vị hoặc nhóm đối tượng có
    dưới 05 người"); ``false`` keeps the per-group allowance alone.
    """

    ratio: float = 0.20
    base: str = "good_only"
    rounding: str = "floor"
    small_group_size: int = 5
    small_group_max_a: int = 1
    small_unit_total: bool = True
    # SPEC §13: where the ratio holds: "group" (each subject group of a list, the letter) and
    # "agency" (the list as a whole, Decree 335)
    scopes: tuple[str, ...] = ("group",)


@dataclass(frozen=True)
class DeadlineSettings:
    """Letter §2.3: self-assessment before the 25th, decision before the 28th, publication
    before the 5th of the next month; December's whole cycle before the 15th."""

    self_assessment_day: int = 25
    decision_day: int = 28
    publication_day: int = 5
    december_day: int = 15
    inclusive: bool = False
    # SPEC §13: a step due a number of days after the period ends (0: the day above instead)
    self_assessment_after_days: int = 0
    decision_after_days: int = 0
    publication_after_days: int = 0


@dataclass(frozen=True)
class WatcherSettings:
    """Inbox watcher (SPEC §9)."""

    settle_seconds: float = 5.0
    polling: bool = False
    polling_interval: float = 2.0
    rescan_seconds: float = 60.0
    heartbeat_minutes: float = 10.0
    lock_wait_seconds: float = 300.0
    # a claim whose holder has not beaten for this long is taken over (issue 10 ¶2); holders
    # beat every quarter of it while they work
    claim_timeout_minutes: float = 10.0


@dataclass(frozen=True)
class ReaderSettings:
    """Limits for parsing untrusted workbooks in a child process.

    ``max_rows`` caps every sheet but the registry's (template 00: ``DonVi``, ``CanBo``), which
    has ``max_registry_rows`` (a city registry holds ~200,000 people). A registry above
    ``max_rows`` is read with ``registry_memory_mb`` instead of ``memory_mb`` and a timeout of
    ``timeout_seconds`` per ``max_rows`` rows; the worker that read it is then retired.

    The limits measure the file, not the machine's load (issue 17 ¶9): ``cpu_seconds`` of CPU
    time per file (``RLIMIT_CPU``), ``memory_mb``, the bytes decompressed. ``timeout_seconds``
    of wall-clock time only ends a truly stuck child; a file that hits it is read once more
    with ``retry_timeout_seconds`` (0: four times ``timeout_seconds``) before it is rejected.
    """

    cpu_seconds: float = 30.0
    timeout_seconds: float = 120.0
    retry_timeout_seconds: float = 0.0
    memory_mb: int = 1024
    max_file_mb: int = 50
    max_uncompressed_mb: int = 400
    max_members: int = 500
    max_ratio: float = 150.0
    max_rows: int = 20000
    max_registry_rows: int = 300000
    registry_memory_mb: int = 3072
    max_cols: int = 200
    workers: int = 2


@dataclass(frozen=True)
class ReportSettings:
    """Outputs: commendation grades and the names printed in official headers."""

    commendation_grades: tuple[str, ...] = ("A",)
    place: str = "Long Biên"
    party_committee: str = "ĐẢNG BỘ QUẬN LONG BIÊN"
    district: str = "QUẬN LONG BIÊN"
    write_reports: bool = True
    pdf: bool = False  # also convert every output workbook to PDF (LibreOffice headless)


@dataclass(frozen=True)
class DomainSettings:
    """Replacement domain data files; empty means the shipped default."""

    frameworks: tuple[str, ...] = ()
    default_framework: str = ""
    authority: str = ""
    codes: str = ""


@dataclass(frozen=True)
class RegimesSettings:
    """Regimes in force (SPEC §13): the ids in ``use`` (default: the letter's ``hn-1841``),
    shipped or from ``<workdir>/regimes/``."""

    use: tuple[str, ...] = DEFAULT_USE


@dataclass(frozen=True)
class SmtpSettings:
    """Outgoing mail for reminders and result notices (issue 20).

    ``security`` is ``starttls``, ``ssl`` or ``none``. The password is never a key of
    ``danhgia.toml``: it is read from the environment variable named by ``password_env``.
    """

    host: str = ""
    port: int = 587
    security: str = "starttls"
    user: str = ""
    from_address: str = ""
    password_env: str = "DANHGIA_SMTP_PASSWORD"
    timeout_seconds: float = 30.0
    # a mail server with a certificate of the office's own CA: that CA's PEM file (relative to
    # the work folder); the certificate and the host name are always verified
    ca_file: str = ""


@dataclass(frozen=True)
class ReminderSettings:
    """``danhgia watch`` runs ``remind`` at the times ``at`` ("HH:MM") when a deadline of the
    open period is at most ``days_before`` days away (or passed); it sends only if ``send``."""

    at: tuple[str, ...] = ()
    send: bool = False
    days_before: int = 3
    # SPEC §13: the periods reminders are about: "month" or "quarter" (a quarterly regime)
    period_kind: str = "month"


@dataclass(frozen=True)
class NoticeSettings:
    """Result notices: after publication, each person is e-mailed their own result (off by default)."""

    enabled: bool = False


SECTIONS: dict[str, type] = {
    "paths": PathsSettings,
    "ledger": LedgerSettings,
    "grading": GradingSettings,
    "quota": QuotaSettings,
    "deadlines": DeadlineSettings,
    "watcher": WatcherSettings,
    "reader": ReaderSettings,
    "reports": ReportSettings,
    "domain": DomainSettings,
    "regimes": RegimesSettings,
    "smtp": SmtpSettings,
    "reminders": ReminderSettings,
    "notices": NoticeSettings,
}


@dataclass(frozen=True)
class Settings:
    """Everything a run needs: sections of ``danhgia.toml`` plus the loaded domain data."""

    workdir: Path
    config_file: Path | None
    paths: PathsSettings
    ledger: LedgerSettings
    grading: GradingSettings
    quota: QuotaSettings
    deadlines: DeadlineSettings
    watcher: WatcherSettings
    reader: ReaderSettings
    reports: ReportSettings
    domain: DomainSettings
    codes: CodeLists
    authority: AuthorityMatrix
    frameworks: Mapping[tuple[str, str], Framework] = field(default_factory=dict)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    notices: NoticeSettings = field(default_factory=NoticeSettings)
    regimes: RegimesSettings = field(default_factory=RegimesSettings)
    catalogue: RegimeCatalogue = field(default_factory=RegimeCatalogue, compare=False)
    # read from the variable named by smtp.password_env; kept out of repr and logs
    smtp_password: str = field(default="", repr=False, compare=False)

    def path(self, name: str) -> Path:
        """Absolute path of folder ``name`` of ``[paths]``."""
        p = getattr(self.paths, name)
        return p if p.is_absolute() else self.workdir / p

    @property
    def inbox(self) -> Path:
        return self.path("inbox")

    @property
    def outbox(self) -> Path:
        return self.path("outbox")

    @property
    def archive(self) -> Path:
        return self.path("archive")

    @property
    def ledger_url(self) -> str:
        return self.ledger.url or f"sqlite:///{self.workdir / 'danhgia.sqlite3'}"

    @property
    def default_framework(self) -> Framework:
        """The framework templates are generated from unless told otherwise."""
        wanted = self.domain.default_framework
        for fw in self.frameworks.values():
            if not wanted or fw.id == wanted:
                return fw
        raise ConfigError(f"Không có khung tiêu chí '{wanted}' (khóa domain.default_framework)")

    def framework(self, fid: str, version: str) -> Framework | None:
        """A framework of ``[domain]`` or one written inside a regime file (SPEC §13)."""
        return self.frameworks.get((fid, version)) or self.catalogue.framework(fid, version)

    def framework_for(self, fid: str, period: str) -> Framework | None:
        """The version of framework ``fid`` in force for ``period`` (latest valid_from wins)."""
        every = [*self.frameworks.values(), *self.catalogue.frameworks_by_id(fid)]
        found = [f for f in every if f.id == fid and f.applies_to(period)]
        return max(found, key=lambda f: Period.of(f.valid_from)) if found else None


def _coerce(source: str, key: str, value: Any, typ: Any) -> Any:
    """Convert ``value`` (from TOML or an env string) to the field type, or fail naming ``key``."""
    try:
        if typ is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "có", "on"):
                return True
            if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "không", "off"):
                return False
            raise ValueError
        if typ is int:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if typ is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if typ is Path:
            return Path(str(value))
        if typ is str:
            if not isinstance(value, str | int | float):
                raise ValueError
            return str(value)
        if str(typ).startswith("tuple"):
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list | tuple):
                raise ValueError
            return tuple(str(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Lỗi cấu hình trong {source}, khóa '{key}': giá trị {value!r} không hợp lệ") from exc
    return value


def _section(name: str, cls: type, layers: list[tuple[str, Mapping[str, Any]]]) -> Any:
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for source, layer in layers:
        section = layer.get(name, {})
        if not isinstance(section, Mapping):
            raise ConfigError(f"Lỗi cấu hình trong {source}, khóa '{name}': phải là một bảng [{name}]")
        for key, value in section.items():
            if key not in hints:
                raise ConfigError(f"Lỗi cấu hình trong {source}, khóa '{name}.{key}': khóa không tồn tại")
            values[key] = _coerce(source, f"{name}.{key}", value, hints[key])
    return cls(**values)


def _env_layer(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    layer: dict[str, dict[str, str]] = {}
    for name, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            var = f"DANHGIA_{name}_{f.name}".upper()
            if var in env:
                layer.setdefault(name, {})[f.name] = env[var]
    return layer


def _check(settings: Settings, source: str) -> None:
    g, q, d = settings.grading, settings.quota, settings.deadlines
    if not 0 < g.c < g.b < g.a <= 100:
        raise ConfigError(f"Lỗi cấu hình trong {source}, khóa 'grading': cần 0 < c < b < a ≤ 100")
    if not 0 < q.ratio <= 1:
        raise ConfigError(f"Lỗi cấu hình trong {source}, khóa 'quota.ratio': cần 0 < ratio ≤ 1")
    if q.base not in ("good_only", "good_or_better"):
        raise ConfigError(f"Lỗi cấu hình trong {source}, khóa 'quota.base': chỉ nhận 'good_only' hoặc 'good_or_better'")
    if not set(q.scopes) <= {"group", "agency"} or not q.scopes:
        raise ConfigError(f"Lỗi cấu hình trong {source}, khóa 'quota.scopes': chỉ nhận group, agency")
    if q.rounding not in ("floor", "round", "ceil"):
        raise ConfigError(f"Lỗi cấu hình trong {source}, khóa 'quota.rounding': chỉ nhận floor, round, ceil")
    for key in ("self_assessment_day", "decision_day", "publication_day", "december_day"):
        if not 1 <= getattr(d, key) <= 31:
            raise ConfigError(f"Lỗi cấu hình trong {source}, khóa 'deadlines.{key}': ngày từ 1 đến 31")
    for key in ("self_assessment_after_days", "decision_after_days", "publication_after_days"):
        if not 0 <= getattr(d, key) <= 120:
            raise ConfigError(f"Lỗi cấu hình trong {source}, khóa 'deadlines.{key}': từ 0 đến 120 ngày")
    unknown = set(settings.reports.commendation_grades) - {"A", "B", "C", "D"}
    if unknown:
        raise ConfigError(
            f"Lỗi cấu hình trong {source}, khóa 'reports.commendation_grades': xếp loại lạ {sorted(unknown)}"
        )
    if settings.smtp.security not in ("starttls", "ssl", "none"):
        raise ConfigError(f"Lỗi cấu hình trong {source}, khóa 'smtp.security': chỉ nhận starttls, ssl, none")
    if settings.smtp.ca_file and not (settings.workdir / settings.smtp.ca_file).is_file():
        raise ConfigError(
            f"Lỗi cấu hình trong {source}, khóa 'smtp.ca_file': không có tệp chứng chỉ {settings.smtp.ca_file}"
        )
    if settings.reminders.period_kind not in ("month", "quarter"):
        raise ConfigError(f"Lỗi cấu hình trong {source}, khóa 'reminders.period_kind': chỉ nhận month, quarter")
    for at in settings.reminders.at:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
            raise ConfigError(f"Lỗi cấu hình trong {source}, khóa 'reminders.at': giờ '{at}' phải ghi dạng HH:MM")
    if settings.reader.workers < 1:
        raise ConfigError(f"Lỗi cấu hình trong {source}, khóa 'reader.workers': phải ≥ 1")
    for key in ("max_rows", "max_registry_rows", "max_cols", "memory_mb", "registry_memory_mb"):
        if getattr(settings.reader, key) < 1:
            raise ConfigError(f"Lỗi cấu hình trong {source}, khóa 'reader.{key}': phải ≥ 1")


def _domain_path(workdir: Path, value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else workdir / p


def load_settings(
    config: Path | str | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve the settings of a run.

    Args:
        config: path of ``danhgia.toml``; default ``$DANHGIA_CONFIG`` or ``./danhgia.toml``
            if it exists (otherwise shipped defaults only, work dir = ``cwd``).
        overrides: CLI flags as ``{section: {key: value}}``; they win over everything.
        env: environment (default ``os.environ``); only ``DANHGIA_*`` variables are read.
        cwd: folder to resolve a missing config from (default the current folder).

    Raises:
        ConfigError: a value is invalid; the message names the key and the file.
    """
    env = os.environ if env is None else env
    cwd = (cwd or Path.cwd()).resolve()
    config_path: Path | None = None
    if config is not None:
        config_path = Path(config)
    elif env.get("DANHGIA_CONFIG"):
        config_path = Path(env["DANHGIA_CONFIG"])
    elif (cwd / CONFIG_NAME).is_file():
        config_path = cwd / CONFIG_NAME
    file_layer: dict[str, Any] = {}
    if config_path is not None:
        config_path = (cwd / config_path).resolve() if not config_path.is_absolute() else config_path
        file_layer = read_toml(config_path)
        unknown = set(file_layer) - set(SECTIONS)
        if unknown:
            raise ConfigError(f"Lỗi cấu hình trong {config_path}, khóa '{sorted(unknown)[0]}': mục không tồn tại")
    workdir = config_path.parent if config_path else cwd
    source = str(config_path) if config_path else "cấu hình mặc định"
    layers: list[tuple[str, Mapping[str, Any]]] = [
        (source, file_layer),
        ("biến môi trường DANHGIA_*", _env_layer(env)),
        ("tham số dòng lệnh", overrides or {}),
    ]
    sections = {name: _section(name, cls, layers) for name, cls in SECTIONS.items()}
    dom: DomainSettings = sections["domain"]
    codes = load_codes(_domain_path(workdir, dom.codes) if dom.codes else DATA_DIR / "codes.toml")
    authority = load_authority(
        _domain_path(workdir, dom.authority) if dom.authority else DATA_DIR / "authority.toml", codes
    )
    fw_paths = [_domain_path(workdir, p) for p in dom.frameworks] or sorted(DATA_DIR.glob("framework_*.toml"))
    frameworks = index_frameworks(load_framework(p) for p in fw_paths)
    if not dom.frameworks and not dom.default_framework:
        sections["domain"] = dataclasses.replace(dom, default_framework="HN-THANG")
    regimes: RegimesSettings = sections["regimes"]
    # framework ids a regime names are not checked here: a work folder that replaces the
    # frameworks ([domain] frameworks) keeps the letter's regime (`danhgia regime check` says so)
    catalogue = load_catalogue(workdir, regimes.use, codes=codes)
    smtp: SmtpSettings = sections["smtp"]
    password = env.get(smtp.password_env, "") if smtp.password_env else ""
    settings = Settings(
        workdir=workdir,
        config_file=config_path,
        codes=codes,
        authority=authority,
        frameworks=frameworks,
        catalogue=catalogue,
        smtp_password=password,
        **sections,
    )
    _check(settings, source)
    settings.default_framework  # noqa: B018 - validates domain.default_framework early
    return settings
