"""Generated benchmark inputs, cached in ``benchmarks/_work/<scale>-<period>/``.

- district: the demo's Long Biên month (~140 files: decider lists plus a few individual
  forms, ~4,800 rows), with the demo's eight faults.
- city: wards and communes of Hà Nội after 01/07/2025 (``danhgia demo --scale city``,
  :func:`danhgia_batch.sample.ward.build_ward` each under the city), with bigger units (size
  factor 2.3), each with its schools' staff sending individual forms: ~126 wards, ~190,000
  people in one ledger. A city month is a current month: the ward matrix is in force.
- district: the letter's district, a month of 2022 when the period is current (the district
  ended on 01/07/2025 and its matrix with it).

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
CITY_DISTRICTS = 126  # wards and communes of Hà Nội since 01/07/2025 (issue 16)
MINI_DISTRICTS = 4  # "mini": the first wards of the city, for a fast profiling loop
CITY_FACTOR = 2.3
CITY_FORM_SCHOOLS = 3
DISTRICT_PERIOD = "2022-11"  # the district's month when the benchmark runs on a current month
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


def period_for(name: str, period: str) -> str:
    """The district's benchmark runs on a month of 2022 when asked for a month after it ended."""
    return DISTRICT_PERIOD if name == "district" and period >= "2025-07" else period


def district_count(scale: Scale) -> int:
    return {"district": 1, "mini": MINI_DISTRICTS}.get(scale.name, CITY_DISTRICTS)


def _district_args(scale: Scale, i: int) -> dict[str, Any]:
    if scale.name == "district":
        return {"seed": 2022}
    from danhgia_batch.sample.ward import CITY_CODE, WARD_NAMES

    level, name = WARD_NAMES[i % len(WARD_NAMES)]
    n = i // len(WARD_NAMES)
    return {
        "seed": 3000 + i,
        "level": level,
        "name": name if not n else f"{name} {n + 1}",
        "code_prefix": f"P{i:03d}",
        "prefix": f"P{i:03d}_",
        "parent": CITY_CODE,
        "size_factor": CITY_FACTOR,
    }


def districts(scale: Scale) -> list[Any]:
    """The districts (or the city's wards, under a city unit) of a scale (deterministic)."""
    n = district_count(scale)
    return [districts_one(scale, i) for i in range(n)]


def form_units(scale: Scale, district: Any, i: int) -> tuple[str, ...]:
    from danhgia_batch.demo.inbox import INDIVIDUAL_UNITS

    if scale.name == "district":
        return INDIVIDUAL_UNITS
    from danhgia_batch.sample.ward import INDIVIDUAL_UNITS as WARD_FORMS

    prefix = _district_args(scale, i)["prefix"]
    schools = [u.code for u in district.units if u.block == "TRUONG_HOC"][:CITY_FORM_SCHOOLS]
    return (*(prefix + c for c in WARD_FORMS), *schools)


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
    from danhgia_batch.sample.ward import build_ward

    if scale.name == "district":
        return build_district(**_district_args(scale, i))
    return build_ward(**_district_args(scale, i))


def prepare(scale: Scale, *, log: Any = print) -> dict[str, Any]:
    """Generate (or reuse) the inputs and the base ledger of ``scale``; return its metadata."""
    folder = scale.folder
    meta_path = folder / "meta.json"
    if meta_path.is_file():
        _current_base(scale)
        return dict(json.loads(meta_path.read_text("utf-8")))
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "danhgia.toml").write_text(CONFIG, "utf-8")
    from danhgia_batch.demo.inbox import template_paths

    template_paths(settings_for(folder))  # generate the templates once, before the workers
    started = time.perf_counter()
    n = district_count(scale)
    log(f"Đang tạo dữ liệu đầu vào {scale.name} ({n} quận, phường hoặc xã)…")
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


def _current_base(scale: Scale) -> None:
    """Bring a cached base ledger to this product's schema: ``check`` opens a ledger read-only
    and never migrates it, so an older one would be skipped ("Sổ cái ở phiên bản 5") and
    ``check`` measured without its ledger."""
    _current(scale.folder / "base.sqlite3", scale)


def _current(ledger: Path, scale: Scale) -> None:
    """Open ``ledger`` once with this product (which migrates it)."""
    from danhgia_batch.ledger import open_ledger

    if ledger.is_file():
        with open_ledger(settings_for(scale.folder, ledger)):
            pass  # opening migrates


def _base_ledger(scale: Scale) -> None:
    from danhgia_batch.ledger import open_ledger

    base = scale.folder / "base.sqlite3"
    with open_ledger(settings_for(scale.folder, base)) as ledger:
        units = [u for d in districts(scale) for u in d.units]
        people = [p for d in districts(scale) for p in d.people]
        if scale.name != "district":  # the wards' city (SPEC §3: the hierarchy of levels)
            from danhgia_batch.sample.ward import build_city

            units.insert(0, build_city(0).units[0])
        ledger.save_registry(units, people, source="benchmark")


HISTORY_MONTHS = 11  # (h): the ledger of the twelfth month of a year


def _months_before(period: str, n: int) -> list[str]:
    """The ``n`` months before ``period`` (``YYYY-MM``), oldest first."""
    year, month = map(int, period.split("-"))
    out = []
    for _ in range(n):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        out.append(f"{year:04d}-{month:02d}")
    return out[::-1]


def history_ledger(scale: Scale, months: int = HISTORY_MONTHS) -> Path:
    """``history.sqlite3``: the ledger of (b) after its month, that month's files, lists and
    evaluations copied as the ``months`` months before it (new ids, new hashes: the inputs
    are not duplicates of them) and removed from its own month. (h) processes the month again
    on it: what a year of recorded months costs the next one (issue 19). Needs
    ``processed.sqlite3`` (a run of (b))."""
    import sqlite3

    out = scale.folder / "history.sqlite3"
    if out.is_file():
        return out
    tmp = out.with_suffix(".tmp")
    shutil.copy(scale.folder / "processed.sqlite3", tmp)
    with sqlite3.connect(tmp) as conn:
        tables = ("files", "lists", "evaluations", "issues", "list_notes", "quota_verdicts")
        cols = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
        top = {t: conn.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0] for t in tables}
        # the same rows again per month: ids shifted, references shifted alike, the period replaced
        shifted = {
            "files": {
                "duplicate_of": "NULL",
                "claim_key": "claim_key || '-' || :p",
                "sha256": "substr(sha256, 1, 57) || substr(:p, 1, 4) || substr(:p, 6, 2)",
            },
            "lists": {"file_id": "file_id + :files", "superseded_by": "superseded_by + :lists"},
            "evaluations": {"list_id": "list_id + :lists"},
            "issues": {"file_id": "file_id + :files"},
            "list_notes": {"list_id": "list_id + :lists"},
            "quota_verdicts": {"list_id": "list_id + :lists"},
        }
        for n, period in enumerate(_months_before(scale.period, months), start=1):
            params = {"p": period, **{t: n * top[t] for t in tables}}
            for t in tables:
                exprs = []
                for c in cols[t]:
                    if c == "id":
                        exprs.append(f"id + :{t}")
                    elif c == "period":
                        exprs.append(":p")
                    else:
                        exprs.append(shifted[t].get(c, f'"{c}"'))
                quoted = ", ".join(f'"{c}"' for c in cols[t])
                conn.execute(
                    f"INSERT INTO {t} ({quoted}) SELECT {', '.join(exprs)} FROM {t} WHERE id <= {top[t]}", params
                )
        for t in ("quota_verdicts", "list_notes", "evaluations", "issues", "lists", "files"):
            conn.execute(f"DELETE FROM {t} WHERE id <= {top[t]}")
        conn.execute("DELETE FROM pending_rollups")
    with sqlite3.connect(tmp) as conn:
        conn.execute("VACUUM")
    tmp.replace(out)
    _current(out, scale)  # at this product's schema: no migration inside the timed run
    return out
