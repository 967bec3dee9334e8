"""Benchmarks of issue 9: ``python -m benchmarks.run [--quick | --city] [--repeat N]``.

Measures, alternating the measurements and taking the median of ``--repeat`` runs (≥ 3):

(a) the read floor — python-calamine reading the same files in the reader's worker pool;
(b) ``process`` without reports;   (c) every report regenerated from the ledger;
(c0) xlsxwriter writing the same number of cells with no formatting;
(d) the full ``process`` with reports;
(e) one file dropped into a running ``danhgia watch`` until its unit outputs and the
    roll-ups are rewritten (median and p95 over 50 drops, settle time subtracted).

Targets: (b)/(a) ≤ 2.0; (c)/(c0) ≤ 1.5; (d) ≤ 5 s for the district month and ≤ 60 s for the
city month on 2 cores; peak RSS ≤ 500 MB; watcher p95 ≤ 0.5 s. Each measurement runs in its
own process; results are also written to ``benchmarks/_work/results-<scale>.json``.
``--profile`` runs (d) once more under cProfile and prints where the time goes.
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
ORDER = ("a", "b", "c", "c0", "d")
LABELS = {
    "a": "(a) đọc sàn (calamine)",
    "b": "(b) process, không báo cáo",
    "c": "(c) ghi lại mọi báo cáo",
    "c0": "(c0) xlsxwriter thuần",
    "d": "(d) process đầy đủ",
    "e": "(e) watcher, 1 tệp",
}
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


def measure_scale(scale: Scale, repeat: int, *, watcher: bool, timeout: float, log: Any = print) -> dict[str, Any]:
    meta = prepare(scale, log=log)
    log(f"Chạy thử (làm nóng, tạo sổ cái đã xử lý) {scale.name}…")
    warm_b = _child("b", scale, {}, timeout)
    if warm_b["seconds"] == float("inf"):
        log(f"  (b) quá {timeout:.0f} s: đã ghi sổ {warm_b['recorded']}/{meta['files']} tệp; chỉ đo thêm (a)")
        floor = _child("a", scale, {}, timeout)
        partial = {"scale": scale.name, "meta": meta, "timeout": timeout, "warm_b": warm_b, "floor": floor}
        (WORK / f"results-{scale.name}.json").write_text(json.dumps(partial, indent=2, default=str), "utf-8")
        return partial
    warm_c = _child("c", scale, {}, timeout)
    plain_extra = {"files": warm_c["files"], "cells": warm_c["cells"]}
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in ORDER}
    for rep in range(repeat):
        order = ORDER[rep % len(ORDER) :] + ORDER[: rep % len(ORDER)]  # alternate the order
        for kind in order:
            res = _child(kind, scale, plain_extra if kind == "c0" else {}, timeout)
            runs[kind].append(res)
            log(f"  lần {rep + 1} {LABELS[kind]}: {res['seconds']:.2f} s")
    result: dict[str, Any] = {"scale": scale.name, "meta": meta, "repeat": repeat, "runs": runs}
    result["median"] = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    result["peak_rss_mb"] = {k: max(max(r["rss"], r.get("rusage", 0)) for r in v) / MB for k, v in runs.items() if v}
    result["cells"] = plain_extra
    if watcher:
        try:
            result["watcher"] = _child("e", scale, {}, timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            result["watcher"] = {"error": str(exc)[-500:]}
    (WORK / f"results-{scale.name}.json").write_text(json.dumps(result, indent=2, default=str), "utf-8")
    return result


def measure_only(scale: Scale, kinds: list[str], repeat: int, timeout: float, log: Any = print) -> None:
    """``--only c,c0,e``: just these measurements (median and spread), with the untimed set-up they need."""
    prepare(scale, log=log)
    if any(k in ("c", "c0", "e") for k in kinds) and not (scale.folder / "processed.sqlite3").exists():
        _child("b", scale, {}, timeout)
    extra: dict[str, Any] = {}
    if "c0" in kinds:
        warm_c = _child("c", scale, {}, timeout)
        extra = {"files": warm_c["files"], "cells": warm_c["cells"]}
    batch = [k for k in ORDER if k in kinds]
    runs: dict[str, list[float]] = {k: [] for k in batch}
    for rep in range(repeat if batch else 0):
        for kind in batch[rep % len(batch) :] + batch[: rep % len(batch)]:
            res = _child(kind, scale, extra if kind == "c0" else {}, timeout)
            runs[kind].append(res["seconds"])
            log(f"  lần {rep + 1} {LABELS[kind]}: {res['seconds']:.2f} s, RSS đỉnh {res['rss'] / MB:.0f} MB")
    for kind, secs in runs.items():
        log(f"{LABELS[kind]}: trung vị {statistics.median(secs):.2f} s (min {min(secs):.2f}, max {max(secs):.2f})")
    if "c" in runs and "c0" in runs:
        log(f"(c)/(c0) = {statistics.median(runs['c']) / statistics.median(runs['c0']):.2f} (mục tiêu ≤ 1.5)")
    if "e" in kinds:
        w = _child("e", scale, {}, timeout)
        log(
            f"{LABELS['e']}: trung vị {w['seconds']:.3f} s, p95 {w['p95']:.3f} s sau thời gian chờ ổn định ({w['drops']} lần thả)"
        )


def _verdict(ok: bool) -> str:
    return "đạt" if ok else "CHƯA ĐẠT"


def report(result: dict[str, Any]) -> list[str]:
    """The table printed for one scale."""
    if "warm_b" in result:
        w, m = result["warm_b"], result["meta"]
        return [
            f"{result['scale']}: {m['files']} tệp, {m['rows']} dòng, {m['people']} người",
            f"  (b) process không báo cáo chưa xong sau {result['timeout']:.0f} s: đã ghi sổ {w['recorded']} tệp"
            f" (≈ {w['recorded'] / result['timeout']:.1f} tệp/s); (c), (c0), (d) không chạy",
            f"  (a) đọc sàn: {result['floor']['seconds']:.1f} s ({m['files'] / result['floor']['seconds']:.0f} tệp/s,"
            f" RSS đỉnh {result['floor']['rss'] / MB:.0f} MB)",
        ]
    meta, med, rss = result["meta"], result["median"], result["peak_rss_mb"]
    files, rows = meta["files"], meta["rows"]
    title = "Tháng của một quận" if result["scale"] == "district" else "Tháng của cả thành phố"
    lines = [
        f"{title}: {files} tệp ({meta['lists']} danh sách, {meta['forms']} phiếu cá nhân), {rows} dòng, "
        f"{meta['people']} người, trung vị của {result['repeat']} lần",
        f"  {'Phép đo':32} {'giây':>8} {'tệp/s':>9} {'dòng/s':>10} {'RSS đỉnh MB':>12}",
    ]
    for k in ORDER:
        s = med[k]
        if s == float("inf"):
            done = max(r.get("recorded", 0) for r in result["runs"][k])
            lines.append(f"  {LABELS[k]:32} quá {result['runs'][k][0]['timeout']:.0f} s (đã ghi sổ {done}/{files} tệp)")
            continue
        per = f"{files / s:9.1f} {rows / s:10.0f}" if k in ("a", "b", "d") else f"{'':9} {'':10}"
        lines.append(f"  {LABELS[k]:32} {s:8.2f} {per} {rss[k]:12.0f}")
    limit = 5.0 if result["scale"] == "district" else 60.0
    b_a, c_c0 = med["b"] / med["a"], med["c"] / med["c0"]
    peak = max(rss.values())
    lines += [
        f"  (b)/(a) = {b_a:.2f} (mục tiêu ≤ 2.0: {_verdict(b_a <= 2.0)})",
        f"  (c)/(c0) = {c_c0:.2f} với {result['cells']['cells']} ô trong {result['cells']['files']} tệp"
        f" (mục tiêu ≤ 1.5: {_verdict(c_c0 <= 1.5)})",
        f"  (d) = {med['d']:.2f} s (mục tiêu ≤ {limit:g} s trên 2 lõi: {_verdict(med['d'] <= limit)})",
        f"  RSS đỉnh = {peak:.0f} MB (mục tiêu ≤ 500 MB: {_verdict(peak <= 500)})",
    ]
    w = result.get("watcher")
    if w is None:
        lines.append("  (e) watcher: không đo (--no-watch)")
    elif "error" in w:
        lines.append(f"  (e) watcher: lỗi khi đo: {w['error']}")
    else:
        lines.append(
            f"  (e) watcher: trung vị {w['seconds']:.3f} s, p95 {w['p95']:.3f} s sau thời gian chờ ổn định, "
            f"{w['drops']} lần thả (mục tiêu p95 ≤ 0.5 s: {_verdict(w['p95'] <= 0.5)})"
        )
    return lines


def profile(scale: Scale, top: int = 30, *, reports: bool = True) -> None:
    """Run (d) (or (b)) in this process under cProfile and print the top functions by cumulative time."""
    import cProfile
    import pstats

    from danhgia_batch.pipeline import process_inbox

    from .measure import _fresh_run, _link_inputs

    _run, settings = _fresh_run(scale, "profile")
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
    parser.add_argument("--quick", action="store_true", help="district month only")
    parser.add_argument("--city", action="store_true", help="city month only")
    parser.add_argument("--mini", action="store_true", help="a mini city (its first districts) only, for profiling")
    parser.add_argument("--no-reports", action="store_true", help="with --profile: profile (b) instead of (d)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median; default 3)")
    parser.add_argument("--no-watch", action="store_true", help="skip the watcher latency (e)")
    parser.add_argument("--profile", action="store_true", help="profile one full process (d) with cProfile")
    parser.add_argument("--only", help="comma-separated measurements to run alone, e.g. 'e' or 'c,c0'")
    parser.add_argument("--period", default=time.strftime("%Y-%m"), help="period of the inputs (default this month)")
    parser.add_argument("--timeout", type=float, default=3600, help="time limit of one measurement, seconds")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scale", default="district", help=argparse.SUPPRESS)
    parser.add_argument("--extra", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _run_child(args.child, args.scale, args.period, json.loads(args.extra))
        return 0
    scales = ["district"] if args.quick else ["city"] if args.city else ["mini"] if args.mini else ["district", "city"]
    for name in scales:
        scale = Scale(name, period_for(name, args.period))
        if args.profile:
            prepare(scale)
            profile(scale, reports=not args.no_reports)
            continue
        if args.only:
            kinds = [k.strip() for k in args.only.split(",") if k.strip()]
            unknown = [k for k in kinds if k not in LABELS]
            if unknown:
                parser.error(f"unknown measurement(s): {', '.join(unknown)} (choose from {', '.join(LABELS)})")
            measure_only(scale, kinds, max(1, args.repeat), args.timeout)
            continue
        result = measure_scale(
            scale, max(1, args.repeat), watcher=not args.no_watch and name == "district", timeout=args.timeout
        )
        print("\n".join(report(result)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
