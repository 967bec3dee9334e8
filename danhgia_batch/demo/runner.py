"""``danhgia demo``: build a synthetic organisation, fill its month, process it (issues 9, 16).

One call shows the whole product working: a work folder (``init``), the registry loaded into
the ledger, every decider list filled by "clerks" into ``inbox/<unit code>/`` with the eight
realistic faults, then ``process``. The result says what happened to each file against what
the demo expected, and where to look.

Three scales, true to their dates (SPEC §13, Appendix A and B):
- ``ward`` (default): the current month of Phường Long Biên, a ward directly under Hà Nội
  since 01/07/2025, by the ward matrix in force (the letter's rules otherwise);
- ``historic``: the letter's Long Biên district in a month of 2022;
- ``city``: several wards and communes of Hà Nội in one ledger.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import DanhgiaError, UsageError
from ..progress import Progress
from ..sample import build_district, write_sample_registry
from ..sample.district import District
from ..sample.ward import INDIVIDUAL_UNITS, build_city, build_ward
from ..settings import CONFIG_NAME, Settings, load_settings
from ..workdir import SAMPLE_REGISTRY, init_workdir
from .faults import DESCRIPTIONS
from .inbox import INDIVIDUAL_UNITS as DISTRICT_FORMS
from .inbox import DemoFile, write_inbox

log = logging.getLogger(__name__)

MARKER = ".danhgia-demo"  # a folder holding it was made by the demo and may be rebuilt
REGISTRY_NAME = "danh_muc.xlsx"
SCALES = ("ward", "historic", "city")
HISTORIC_PERIOD = "2022-03"  # a month of the letter's district (528-CV/QU, 20/01/2022)
CITY_WARDS = 6  # wards and communes of the city demo (the benchmark passes its own number)


@dataclass
class DemoResult:
    """What :func:`run_demo` built and what processing made of it."""

    directory: Path
    period: str
    seed: int
    units: int
    people: int
    files: list[DemoFile]
    scale: str = "ward"
    where: str = "phường Long Biên"
    registry_version: int | None = None
    registry_issues: list[str] = field(default_factory=list)
    processed: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)  # inbox path -> actual outcome
    error_files: list[Path] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    note: str = ""

    @property
    def expected(self) -> dict[str, int]:
        """Files per expected outcome (accepted / rejected / invalid / duplicate)."""
        return dict(Counter(f.expected for f in self.files))

    @property
    def faults(self) -> dict[str, str]:
        """Fault → file name, for the summary."""
        return {f.fault: f.path.name for f in self.files if f.fault}

    @property
    def mismatches(self) -> list[tuple[str, str, str]]:
        """(file, expected, actual) for files whose outcome is not what the demo planted."""
        if not self.processed:
            return []
        out = []
        for f in self.files:
            actual = self.outcomes.get(str(f.path), "")
            if actual != f.expected:
                out.append((str(f.path.relative_to(self.directory)), f.expected, actual or "—"))
        return out

    @property
    def exit_code(self) -> int:
        """0 when every file ended as planted (the faults are on purpose), else 1."""
        return 0 if self.processed and not self.mismatches and self.registry_version is not None else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "period": self.period,
            "scale": self.scale,
            "where": self.where,
            "seed": self.seed,
            "units": self.units,
            "people": self.people,
            "files": len(self.files),
            "registry_version": self.registry_version,
            "registry_issues": self.registry_issues,
            "processed": self.processed,
            "expected": self.expected,
            "counts": self.counts,
            "faults": self.faults,
            "mismatches": [list(m) for m in self.mismatches],
            "error_files": [str(p) for p in self.error_files],
            "outputs": [str(p) for p in self.outputs],
            "note": self.note,
            "exit_code": self.exit_code,
        }


def _danhgia() -> str:
    """The ``danhgia`` program by its full path when it sits beside this Python (a venv that was
    not activated: the hint then works as printed), else its bare name."""
    import sys

    for name in ("danhgia", "danhgia.exe"):
        found = Path(sys.executable).parent / name
        if found.is_file():
            return str(found)
    return "danhgia"


def current_period(today: date | None = None) -> str:
    """The demo's month: the current one, so that files "arrive" before its publication
    deadline (letter §2.3) and no file is flagged as arriving late."""
    today = today or date.today()
    return f"{today.year:04d}-{today.month:02d}"


def _prepare(directory: Path) -> None:
    """Start from an empty folder; a previous demo folder (with its marker) is rebuilt."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise UsageError(
                f"Thư mục {directory} đã có dữ liệu và không phải thư mục demo; hãy chọn thư mục khác (--dir)"
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("Thư mục do 'danhgia demo' tạo; chạy lại demo sẽ xóa và tạo lại.\n", "utf-8")


def run_demo(
    directory: Path,
    *,
    units: int | None = None,
    seed: int | None = None,
    period: str | None = None,
    progress: Progress | None = None,
    scale: str = "ward",
    wards: int = CITY_WARDS,
    size_factor: float = 1.0,
) -> DemoResult:
    """Build a synthetic organisation in ``directory`` and process its month end to end.

    Args:
        directory: the demo's work folder; created, or rebuilt when a previous demo made it
            (a non-empty folder that is not a demo folder is refused).
        units: keep only this many units of the historic district (a quick look).
        seed: random seed of the organisation and its month (default 2026; 2022 historic).
        period: ``YYYY-MM`` to fill (default the current month; 2022-03 for ``historic``).
        progress: told of each file processed (the CLI draws a bar).
        scale: ``ward`` (Phường Long Biên today), ``historic`` (the letter's district in
            2022) or ``city`` (``wards`` wards and communes of Hà Nội in one ledger).
        wards: wards and communes of the city demo.
        size_factor: scales the staff of every unit of the city demo (a small test city).

    Raises:
        UsageError: ``directory`` holds something that is not a previous demo, or an unknown
            ``scale``.
    """
    if units is not None and scale == "ward":
        scale = "historic"  # --units trims the district of 2022 (a quick look at many lists)
    if scale not in SCALES:
        raise UsageError(f"Quy mô demo '{scale}' không hợp lệ; chọn một trong: {', '.join(SCALES)}.")
    directory = Path(directory).resolve()
    _prepare(directory)
    init_workdir(directory, force=True)
    historic = scale == "historic"
    seed = seed if seed is not None else (2022 if historic else 2026)
    period = period or (HISTORIC_PERIOD if historic else current_period())
    org, where = _organisation(scale, seed, units, wards, size_factor)
    if not historic:
        _name_reports(directory, where)
    # env={}: the demo never writes into a ledger named by the environment
    settings = load_settings(directory / CONFIG_NAME, env={})
    registry = directory / SAMPLE_REGISTRY
    if not historic or units is not None or seed != 2022:
        registry = write_sample_registry(settings, directory / REGISTRY_NAME, district=org)
    result = DemoResult(directory, period, seed, len(org.units), len(org.people), [], scale, where)
    _load_registry(settings, registry, result)
    forms = INDIVIDUAL_UNITS if scale == "ward" else tuple(f"P01_{u}" for u in INDIVIDUAL_UNITS)
    if historic:
        forms = DISTRICT_FORMS
    result.files = write_inbox(
        settings, org, settings.inbox, period=period, seed=seed, fast=True, individual_units=forms
    )
    log.info("demo: %d files written into %s", len(result.files), settings.inbox)
    _process(settings, result, progress)
    return result


def _organisation(scale: str, seed: int, units: int | None, wards: int, size_factor: float) -> tuple[District, str]:
    """The organisation of ``scale`` and how the summary names it."""
    if scale == "historic":
        return build_district(seed, units), "quận Long Biên, năm 2022"
    if scale == "city":
        return build_city(wards, seed, size_factor=size_factor), f"thành phố Hà Nội, {wards} phường, xã"
    return build_ward(seed), "phường Long Biên"


def _name_reports(directory: Path, where: str) -> None:
    """``[reports]`` of the demo's ``danhgia.toml`` names its own area, not the 2022 district
    (used where the registry names no area, e.g. the year view)."""
    config = directory / CONFIG_NAME
    name = where.split(",")[0]
    text = config.read_text("utf-8")
    text = re.sub(r'(?m)^party_committee = ".*"$', f'party_committee = "ĐẢNG BỘ {name.upper()}"', text)
    text = re.sub(r'(?m)^district = ".*"$', f'district = "{name.upper()}"', text)
    place = name.split(" ", 1)[1] if " " in name else name
    text = re.sub(r'(?m)^place = ".*"$', f'place = "{place[0].upper()}{place[1:]}"', text)
    config.write_text(text, "utf-8")


def _load_registry(settings: Settings, path: Path, result: DemoResult) -> None:
    try:
        from ..pipeline.registry import load_registry_file
    except ImportError:  # pragma: no cover - a trimmed install
        result.note = "Chưa có chức năng nạp danh mục; bỏ qua."
        return
    loaded = load_registry_file(path, settings)
    result.registry_version = loaded.version
    result.registry_issues = [f"{i.code} {i.sheet}!{i.cell}" for i in loaded.issues if i.severity.value == "error"]


def _process(settings: Settings, result: DemoResult, progress: Progress | None) -> None:
    try:
        from ..pipeline import process_inbox
    except ImportError:
        result.note = "Chưa có chức năng xử lý (process); các tệp đã được tạo trong inbox và chờ xử lý."
        return
    try:
        batch = process_inbox(settings, progress=progress)
    except DanhgiaError:
        raise
    result.processed = True
    result.counts = {k: v for k, v in batch.counts.items() if v}
    result.outcomes = {f.path: f.outcome for f in batch.files}
    result.error_files = [Path(p) for f in batch.files for p in f.error_files if str(p).endswith(".xlsx")]
    result.outputs = list(batch.outputs)


def describe(result: DemoResult) -> list[str]:
    """The Vietnamese summary ``danhgia demo`` prints."""
    d = result.directory
    lines = [
        f"Đã tạo đơn vị mẫu ({result.where}, dữ liệu giả lập) trong {d}",
        f"  Kỳ đánh giá: {result.period[5:]}/{result.period[:4]} · {result.units} đơn vị · {result.people} người"
        f" · {len(result.files)} tệp (hạt giống {result.seed})",
    ]
    if result.registry_version is not None:
        lines.append(f"  Danh mục đã nạp vào sổ cái (phiên bản {result.registry_version}).")
    elif result.registry_issues:
        lines.append("  Danh mục bị từ chối: " + ", ".join(result.registry_issues[:5]))
    lines.append("Các lỗi cố ý đưa vào (mỗi lỗi một lần):")
    lines += [f"  - {DESCRIPTIONS[k]}: {name}" for k, name in result.faults.items()]
    if not result.processed:
        lines.append(result.note or "Chưa xử lý.")
        lines.append(f"Các tệp nằm trong {d / 'inbox'}; chạy '{_danhgia()} -c {d / CONFIG_NAME} process' để xử lý.")
        return lines
    labels = {"accepted": "chấp nhận", "invalid": "không hợp lệ (vượt tỷ lệ A)", "rejected": "bị từ chối"}
    labels |= {"duplicate": "trùng lặp", "failed": "lỗi xử lý", "skipped": "bỏ qua"}
    lines.append("Kết quả xử lý:")
    lines += [f"  {labels.get(k, k)}: {v} tệp" for k, v in result.counts.items()]
    if result.mismatches:
        lines.append("Khác với dự kiến:")
        lines += [f"  {name}: dự kiến {exp}, thực tế {act}" for name, exp, act in result.mismatches]
    else:
        lines.append("Mọi tệp đều có kết quả đúng như dự kiến.")
    return lines + where_to_look(result)


def where_to_look(result: DemoResult) -> list[str]:
    """Paths to open, in Vietnamese."""
    d = result.directory
    outbox = d / "outbox" / result.period
    lines = [
        "Xem kết quả ở đâu:",
        f"  - Danh sách tổng hợp, đề nghị khen thưởng của từng đơn vị: {outbox}/<KHỐI>/<MÃ ĐƠN VỊ>/",
    ]
    rollups = sorted(
        {p for p in result.outputs if p.parent == outbox or p.parent.parent == outbox} - set(result.error_files)
    )
    rollups = [
        p
        for p in rollups
        if p.suffix == ".xlsx" and p.parent.name in (result.period, "DANG", "CHINH_QUYEN", "TRUONG_HOC")
    ]
    if rollups:
        lines.append(f"  - Tổng hợp khối và toàn {result.where.split(',')[0]}:")
        lines += [f"      {p}" for p in rollups[:6]]
    if result.error_files:
        lines.append("  - Tệp báo lỗi (bản sao tệp của đơn vị, ô sai được tô màu và ghi chú):")
        lines += [f"      {p}" for p in result.error_files[:8]]
    lines.append(f"  - Tệp gốc đã xử lý: {d / 'archive'}")
    lines.append(f"  - Tình hình nộp: {_danhgia()} -c {d / CONFIG_NAME} status --period {result.period}")
    return lines
