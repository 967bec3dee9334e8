"""Benchmarks of issues 9 and 19: ``python -m benchmarks.run [--quick | --city] [--repeat N]``.

Measures side by side, alternating the measurements and taking the median of ``--repeat`` runs:

(a) the read floor — ``benchmarks/floor.py``: a plain 2-process python-calamine pool reading
    every sheet of the same files (no product import, no preload);
(n) the naive baseline — ``benchmarks/naive.py``: per file pandas.read_excel (openpyxl), a
    pandera schema, the bands and a simple A-quota, one to_excel output;
(b) ``danhgia process --no-reports`` and (d) ``danhgia process``, the CLI as a subprocess;
(k) ``danhgia check ONE_FILE`` (a list of ~24 rows) and (i) ``python -c "import pandas"``;
(h) (b) again on a ledger already holding 11 recorded months (``--only b,h``: their cost);
(c) ``danhgia report`` of the period (a subprocess); (c0) xlsxwriter writing as many cells plainly;
(o) ``benchmarks/copyfloor.py``: openpyxl loading and saving each rejected input in a plain
    2-process pool, the least the error workbooks cost with openpyxl (no product import);
(e) one file dropped into a running ``danhgia watch`` (median and p95 over 50 drops).

Targets (issue 19): (d)/(n) ≤ 0.1; (b)/(a) ≤ 2.0; (k)/(i) ≤ 1.5; city (d)/(a) ≤ 4; (c)/(c0) ≤
1.5; peak RSS ≤ 500 MB; watcher p95 ≤ 0.5 s. Each measurement runs in its own process; the
load average is recorded with each figure, and results go to ``benchmarks/_work/results-<scale>.json``.
``--quick``: the district month, ratio measurements only (a, n, b, d, k, i), no watcher.
``--profile`` runs (d) once more in-process under cProfile and prints where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .inputs import WORK, Scale, period_for, prepare

ROOT = Path(__file__).resolve().parents[1]
ORDER = ("a", "n", "b", "d", "k", "i", "c", "c0", "o")
QUICK = ("a", "n", "b", "d", "k", "i")
CITY = ("a", "b", "d", "c", "c0", "o")  # no naive script (it would take half an hour) and no check
LABELS = {
    "a": "(a) đọc sàn (calamine thuần)",
    "n": "(n) kịch bản ngây thơ (pandas)",
    "b": "(b) danhgia process --no-reports",
    "h": "(h) như (b), sổ cái đã có 11 tháng",
    "d": "(d) danhgia process",
    "k": "(k) danhgia check 1 tệp",
    "i": "(i) python -c 'import pandas'",
    "c": "(c) ghi lại mọi báo cáo",
    "c0": "(c0) xlsxwriter thuần",
    "o": "(o) openpyxl mở và lưu các tệp bị từ chối",
    "e": "(e) watcher, 1 tệp",
}
# (numerator, denominator, target) of issue 19 and issue 9
RATIOS = (("d", "n", 0.1), ("b", "a", 2.0), ("k", "i", 1.5), ("c", "c0", 1.5))
MB = 1024 * 1024


def _child(kind: str, scale: Scale, extra: dict[str, Any], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.run", "--child", kind, "--scale", scale.name, "--period", scale.period]
    cmd += ["--extra", json.dumps(extra)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANHGIA_")}
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"seconds": float("inf"), "timeout": timeout, "recorded": _recorded(scale, kind), "rss": 0}
    if done.returncode != 0:
        raise RuntimeError(f"measurement {kind} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _recorded(scale: Scale, kind: str) -> int:
    """Files the ledger of an interrupted (b)/(d) run had recorded when the time limit struck."""
    import sqlite3

    db = scale.folder / "runs" / kind / "danhgia.sqlite3"
    if kind not in ("b", "d") or not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from files").fetchone()[0])


def _run_child(kind: str, scale_name: str, period: str, extra: dict[str, Any]) -> None:
    from .measure import MEASURES, measure_plain, rusage_peak

    scale = Scale(scale_name, period)
    out = measure_plain(scale, extra["files"], extra["cells"]) if kind == "c0" else MEASURES[kind](scale)
    out["rusage"] = rusage_peak()
    print(json.dumps(out, default=str))


def head() -> str:
    """The benchmarked commit (``git rev-parse --short HEAD``, ``+dirty`` with local changes)."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True)
    except OSError:
        return "?"
    own = rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    other = os.environ.get("BENCH_PRODUCT")  # measure.danhgia_cmd: another commit's product
    return f"{own} (product from {other})" if other else own


def compile_product() -> None:
    """Write the product's bytecode (``__pycache__``), as ``pip install`` does.

    Without it, a shell with ``PYTHONDONTWRITEBYTECODE=1`` (CI, some sandboxes) compiles every
    module of the package from source in every measured run (~0.2 s of CPU for ``check``),
    while pandas, SQLAlchemy… of the yardstick (i) come compiled from their wheels."""
    import compileall

    product = Path(os.environ.get("BENCH_PRODUCT") or ROOT) / "danhgia_batch"
    compileall.compile_dir(product, quiet=1)


def measure_scale(
    scale: Scale, kinds: tuple[str, ...], repeat: int, *, watcher: bool, timeout: float, log: Any = print
) -> dict[str, Any]:
    """``kinds`` side by side, ``repeat`` rounds in a rotating order; medians, spreads, loads."""
    meta = prepare(scale, log=log)
    compile_product()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result: dict[str, Any] = {"scale": scale.name, "meta": meta, "repeat": repeat, "head": head(), "date": started}
    if any(k in ("c", "c0", "e", "h", "o") for k in kinds) and not (scale.folder / "processed.sqlite3").exists():
        log(f"Chạy thử (tạo sổ cái đã xử lý) {scale.name}…")
        _child("b", scale, {}, timeout)
    extra: dict[str, Any] = {}
    if "c0" in kinds:
        warm_c = _child("c", scale, {}, timeout)
        extra = {"files": warm_c["files"], "cells": warm_c["cells"]}
        result["cells"] = extra
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    for rep in range(repeat if kinds else 0):
        for kind in kinds[rep % len(kinds) :] + kinds[: rep % len(kinds)]:  # alternate the order
            res = _child(kind, scale, extra if kind == "c0" else {}, timeout)
            runs[kind].append(res)
            log(f"  lần {rep + 1} {LABELS[kind]}: {res['seconds']:.2f} s (tải {res.get('load', 0):.1f})")
    result["runs"] = runs
    result["median"] = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    result["peak_rss_mb"] = {k: max(max(r["rss"], r.get("rusage", 0)) for r in v) / MB for k, v in runs.items()}
    loads = [r["load"] for v in runs.values() for r in v if "load" in r]
    result["load"] = (min(loads), max(loads)) if loads else (0.0, 0.0)
    if watcher:
        try:
            result["watcher"] = _child("e", scale, {}, timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            result["watcher"] = {"error": str(exc)[-500:]}
    (WORK / f"results-{scale.name}.json").write_text(json.dumps(result, indent=2, default=str), "utf-8")
    return result


def _verdict(ok: bool) -> str:
    return "đạt" if ok else "CHƯA ĐẠT"


def report(result: dict[str, Any]) -> list[str]:
    """The table printed for one scale (Markdown, ready for ``benchmarks/README.md``)."""
    meta, med, rss, runs = result["meta"], result["median"], result["peak_rss_mb"], result["runs"]
    files, rows = meta["files"], meta["rows"]
    lo, hi = result["load"]
    lines = [
        f"{result['scale']}: {files} tệp ({meta['lists']} danh sách, {meta['forms']} phiếu cá nhân), {rows} dòng, "
        f"{meta['people']} người; {result['date']}, HEAD {result['head']}, tải {lo:.1f}–{hi:.1f}, "
        f"trung vị của {result['repeat']} lần",
        "",
        "| | seconds (median) | min–max | load (1 min) | CPU s of the tree (median) | files/s | peak RSS of the tree |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, secs in med.items():
        s = [r["seconds"] for r in runs[k]]
        load = [r.get("load", 0.0) for r in runs[k]]
        per = f"{files / secs:.0f}" if k in ("a", "n", "b", "d", "h") else ""
        cpu = [r["cpu"] for r in runs[k] if "cpu" in r]
        cpu_text = f"{statistics.median(cpu):.2f}" if cpu else ""
        lines.append(
            f"| {LABELS[k]} | {secs:.2f} | {min(s):.2f}–{max(s):.2f} | {min(load):.1f}–{max(load):.1f} | {cpu_text} |"
            f" {per} | {rss[k]:.0f} MB |"
        )
    lines.append("")
    ratios = list(RATIOS) + ([("d", "a", 4.0)] if result["scale"] == "city" else [])
    for num, den, target in ratios:
        if num in med and den in med:
            r = med[num] / med[den]
            lines.append(f"- ({num})/({den}) = {r:.2f} (mục tiêu ≤ {target:g}: {_verdict(r <= target)})")
    if "h" in med and "b" in med:  # no target: a year's months should cost the next one nothing
        cpu = {k: statistics.median(r["cpu"] for r in runs[k]) for k in ("h", "b")}
        lines.append(
            f"- (h)/(b) = {med['h'] / med['b']:.2f} (CPU {cpu['h'] / cpu['b']:.2f}): chi phí của 11 tháng đã ghi"
        )
    if "o" in med and "a" in med:
        # the copies alone, beside the read floor: what the city target (d)/(a) <= 4 leaves to the rest
        both = (med["a"] + med["o"]) / med["a"]
        lines.append(
            f"- ((a)+(o))/(a) = {both:.2f}: đọc mọi tệp và chép {runs['o'][0].get('files', 0)} tệp bị từ chối "
            f"bằng openpyxl; (d)/(a) ≤ 4 còn {max(0.0, 4 - both) * med['a']:.1f} s cho mọi bước khác"
        )
    if "cells" in result:
        lines.append(f"- (c0) wrote {result['cells']['cells']} cells in {result['cells']['files']} workbooks")
    if rss:
        peak = max(rss.values())
        lines.append(f"- RSS đỉnh = {peak:.0f} MB (mục tiêu ≤ 500 MB: {_verdict(peak <= 500)})")
    w = result.get("watcher")
    if w is not None and "error" in w:
        lines.append(f"- (e) watcher: lỗi khi đo: {w['error']}")
    elif w is not None:
        lines.append(
            f"- (e) watcher: trung vị {w['seconds']:.3f} s, p95 {w['p95']:.3f} s sau thời gian chờ ổn định, "
            f"{w['drops']} lần thả (mục tiêu p95 ≤ 0.5 s: {_verdict(w['p95'] <= 0.5)})"
        )
    return lines


def profile(scale: Scale, top: int = 30, *, reports: bool = True, wards: int = 0) -> None:
    """Run (d) (or (b)) in this process under cProfile and print the top functions by cumulative time.

    ``wards``: only the inputs of the first ``wards`` wards (unit folders ``P000_…``), on the
    whole scale's base ledger: the city's per-file costs (a registry of 170,000 people) and its
    roll-ups in minutes instead of the whole month."""
    import cProfile
    import os
    import pstats
    import shutil

    from danhgia_batch.pipeline import process_inbox

    from .measure import _fresh_run, _link_inputs

    _run, settings = _fresh_run(scale, "profile")
    if wards:
        prefixes = sorted({d.name.split("_")[0] for d in (scale.folder / "inputs").iterdir()})[:wards]
        for d in sorted((scale.folder / "inputs").iterdir()):
            if d.name.split("_")[0] in prefixes:
                shutil.copytree(d, settings.inbox / d.name, copy_function=os.link)
    else:
        _link_inputs(scale, settings.inbox)
    prof = cProfile.Profile()
    prof.enable()
    started = time.perf_counter()
    process_inbox(settings, write_reports=reports)
    seconds = time.perf_counter() - started
    prof.disable()
    print(f"process_inbox: {seconds:.2f} s under cProfile", flush=True)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(top)
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)
    prof.dump_stats(str(WORK / f"profile-{scale.name}.pstats"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="district month, ratio measurements only (a, n, b, d, k, i)"
    )
    parser.add_argument("--city", action="store_true", help="city month only")
    parser.add_argument("--mini", action="store_true", help="a mini city (its first districts) only, for profiling")
    parser.add_argument("--no-reports", action="store_true", help="with --profile: profile (b) instead of (d)")
    parser.add_argument(
        "--wards", type=int, default=0, help="with --city --profile: only the first N wards' inputs (city ledger)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median; default 3)")
    parser.add_argument("--no-watch", action="store_true", help="skip the watcher latency (e)")
    parser.add_argument("--profile", action="store_true", help="profile one full process (d) with cProfile")
    parser.add_argument("--only", help="comma-separated measurements to run alone, e.g. 'e' or 'c,c0'")
    parser.add_argument("--period", default=time.strftime("%Y-%m"), help="period of the inputs (default this month)")
    parser.add_argument("--timeout", type=float, default=3600, help="time limit of one measurement, seconds")
    parser.add_argument(
        "--competitor", action="store_true", help="run one CPU-bound process beside the measurements (issue 19)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scale", default="district", help=argparse.SUPPRESS)
    parser.add_argument("--extra", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _run_child(args.child, args.scale, args.period, json.loads(args.extra))
        return 0
    if args.competitor:  # issue 19: the watcher's p95 "with one CPU-bound competitor process running"
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            return main([a for a in (argv if argv is not None else sys.argv[1:]) if a != "--competitor"])
        finally:
            busy.kill()
            busy.wait()
    scales = ["district"] if args.quick else ["city"] if args.city else ["mini"] if args.mini else ["district", "city"]
    for name in scales:
        scale = Scale(name, period_for(name, args.period))
        if args.profile:
            prepare(scale)
            profile(scale, reports=not args.no_reports, wards=args.wards)
            continue
        kinds: tuple[str, ...] = QUICK if args.quick else ORDER if name == "district" else CITY
        if args.only:
            kinds = tuple(k.strip() for k in args.only.split(",") if k.strip())
            unknown = [k for k in kinds if k not in LABELS]
            if unknown:
                parser.error(f"unknown measurement(s): {', '.join(unknown)} (choose from {', '.join(LABELS)})")
        watcher = "e" in kinds or (not args.quick and not args.only and not args.no_watch and name == "district")
        kinds = tuple(k for k in kinds if k != "e")
        result = measure_scale(scale, kinds, max(1, args.repeat), watcher=watcher, timeout=args.timeout)
        print("\n".join(report(result)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
