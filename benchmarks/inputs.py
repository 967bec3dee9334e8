"""Generated benchmark inputs, cached in ``benchmarks/_work/<scale>-<period>/``.

- district: the demo's Long Biên month (~140 files: decider lists plus a few individual
  forms, ~4,800 rows), with the demo's eight faults.
- city: 30 such districts with bigger units (size factor 1.35), each with ten schools whose
  staff send individual forms: ~3,900 lists, ~20,000 forms, ~190,000 people in one ledger.

Each scale folder holds ``inputs/`` (an inbox tree), ``templates_xlsx/``, ``danhgia.toml``
(benchmark settings), ``base.sqlite3`` (a ledger with the registry saved) and ``meta.json``.
"""

from __future__ import annotations

import json
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORK = Path(__file__).resolve().parent / "_work"
CITY_DISTRICTS = 30
MINI_DISTRICTS = 4  # "mini": the first districts of the city, for a fast profiling loop
CITY_FACTOR = 1.35
CITY_FORM_SCHOOLS = 10
SETTLE = 0.3

CONFIG = f"""# benchmark settings (benchmarks/inputs.py)
[watcher]
settle_seconds = {SETTLE}
polling = false

[reader]
workers = 2
"""


@dataclass(frozen=True)
class Scale:
    name: str  # "district" | "city" | "mini" (the city's first MINI_DISTRICTS districts)
    period: str

    @property
    def folder(self) -> Path:
        return WORK / f"{self.name}-{self.period}"


def district_count(scale: Scale) -> int:
    return {"district": 1, "mini": MINI_DISTRICTS}.get(scale.name, CITY_DISTRICTS)


def _district_args(scale: Scale, i: int) -> dict[str, Any]:
    if scale.name == "district":
        return {"seed": 2022}
    return {
        "seed": 3000 + i,
        "prefix": f"Q{i:02d}",
        "unit_prefix": f"Q{i:02d}_",
        "size_factor": CITY_FACTOR,
    }


def districts(scale: Scale) -> list[Any]:
    """The districts of a scale (deterministic; rebuilt in a fraction of a second each)."""
    from danhgia_batch.demo import build_district

    n = district_count(scale)
    return [build_district(**_district_args(scale, i)) for i in range(n)]


def form_units(scale: Scale, district: Any, i: int) -> tuple[str, ...]:
    from danhgia_batch.demo.inbox import INDIVIDUAL_UNITS

    if scale.name == "district":
        return INDIVIDUAL_UNITS
    prefix = _district_args(scale, i)["unit_prefix"]
    schools = [u.code for u in district.units if u.block == "TRUONG_HOC"][:CITY_FORM_SCHOOLS]
    return (*(prefix + c for c in INDIVIDUAL_UNITS), *schools)


def settings_for(folder: Path, ledger: Path | None = None) -> Any:
    from danhgia_batch.settings import load_settings

    overrides = {"ledger": {"url": f"sqlite:///{ledger}"}} if ledger else None
    return load_settings(folder / "danhgia.toml", overrides=overrides, env={})


def _write_one(args: tuple[str, str, int]) -> dict[str, Any]:
    """Worker: write district ``i`` of a scale into its inputs folder."""
    from danhgia_batch.demo.inbox import write_inbox

    name, period, i = args
    scale = Scale(name, period)
    district = districts_one(scale, i)
    settings = settings_for(scale.folder)
    files = write_inbox(
        settings,
        district,
        scale.folder / "inputs",
        period=period,
        seed=_district_args(scale, i)["seed"],
        fast=True,
        individual_units=form_units(scale, district, i),
    )
    return {
        "files": len(files),
        "lists": sum(1 for f in files if f.kind == "02"),
        "forms": sum(1 for f in files if f.kind == "01"),
        "rows": sum(f.people for f in files),
        "people": len(district.people),
        "units": len(district.units),
        "expected": [f.expected for f in files],
    }


def districts_one(scale: Scale, i: int) -> Any:
    from danhgia_batch.demo import build_district

    return build_district(**_district_args(scale, i))


def prepare(scale: Scale, *, log: Any = print) -> dict[str, Any]:
    """Generate (or reuse) the inputs and the base ledger of ``scale``; return its metadata."""
    folder = scale.folder
    meta_path = folder / "meta.json"
    if meta_path.is_file():
        return dict(json.loads(meta_path.read_text("utf-8")))
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "danhgia.toml").write_text(CONFIG, "utf-8")
    from danhgia_batch.demo.inbox import template_paths

    template_paths(settings_for(folder))  # generate the templates once, before the workers
    started = time.perf_counter()
    n = district_count(scale)
    log(f"Đang tạo dữ liệu đầu vào {scale.name} ({n} quận)…")
    with ProcessPoolExecutor(max_workers=min(2, n)) as pool:
        parts = list(pool.map(_write_one, [(scale.name, scale.period, i) for i in range(n)]))
    meta: dict[str, Any] = {k: sum(p[k] for p in parts) for k in ("files", "lists", "forms", "rows", "people", "units")}
    expected = [e for p in parts for e in p["expected"]]
    meta["expected"] = {k: expected.count(k) for k in sorted(set(expected))}
    meta["period"] = scale.period
    meta["generate_seconds"] = round(time.perf_counter() - started, 1)
    _base_ledger(scale)
    meta_path.write_text(json.dumps(meta, indent=2), "utf-8")
    log(f"  {meta['files']} tệp, {meta['rows']} dòng, {meta['people']} người ({meta['generate_seconds']} s)")
    return meta


def _base_ledger(scale: Scale) -> None:
    from danhgia_batch.ledger import open_ledger

    base = scale.folder / "base.sqlite3"
    with open_ledger(settings_for(scale.folder, base)) as ledger:
        units = [u for d in districts(scale) for u in d.units]
        people = [p for d in districts(scale) for p in d.people]
        ledger.save_registry(units, people, source="benchmark")
