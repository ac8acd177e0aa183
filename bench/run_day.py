"""Benchmark one as-of day at scale: wall time and peak memory of `tieout run`, against the floor —
the time DuckDB alone takes to read the same six files.

    python bench/run_day.py --companies 100000          # generates bench/out/100000 if missing
    python bench/run_day.py --companies 1000000 --repeat 3
    python bench/run_day.py --companies 1000000 --fresh     # the first run: the store is removed first

Prints one line per measurement and a Markdown row for docs/benchmarks.md's table. Benchmarks print
figures; they never assert a time (a slow machine is not a failing test).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import measure
from measure import FILES, WITH_PEAK, peak_mib, run_child

HERE = Path(__file__).resolve().parent


def _measure(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall and CPU seconds and peak RSS (MiB) of a child process, and its output."""
    wall, cpu, proc = run_child(cmd, capture_output=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return wall, cpu, peak_mib(proc.stderr), proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--date", default="2026-03-15")
    parser.add_argument("--out", type=Path, help="project folder (default bench/out/N)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--fresh", action="store_true", help="remove the store before each run (a first run)")
    args = parser.parse_args()
    project = args.out or HERE / "out" / str(args.companies)
    if not (project / "tieout.yml").exists():
        print(f"generating {args.companies:,} companies into {project} ...", flush=True)
        t = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(project), "--companies",
                        str(args.companies), "--date", args.date], check=True)
        print(f"  generated in {time.perf_counter() - t:.1f}s", flush=True)
    day = project / "exports" / args.date
    size = sum((day / f"{f}.csv").stat().st_size for f in FILES) / 2**20
    tieout = [sys.executable, "-c", WITH_PEAK]

    floors, runs, peaks = [], [], []
    for _ in range(args.repeat):
        floors.append(measure.floor(day))
        if args.fresh:
            shutil.rmtree(project / ".tieout", ignore_errors=True)
        wall, cpu, peak, out = _measure([*tieout, "run", "-p", str(project), "--as-of", args.date, "--format", "json"])
        runs.append(wall)
        peaks.append(peak)
        summary = json.loads(out)
        print(f"run {wall:6.2f}s ({cpu:5.1f}s CPU)  floor {floors[-1]:6.2f}s  ratio {wall / floors[-1]:4.2f}x  "
              f"peak {peak:,.0f} MiB  exceptions {summary['exceptions_reported']:,}", flush=True)
    best, least = min(runs), min(floors)
    print(f"\n| {args.companies:,} companies | {size:,.0f} MiB of CSV | run {best:.1f} s | DuckDB read floor "
          f"{least:.1f} s | {best / least:.1f}x | peak {max(peaks):,.0f} MiB | {os.cpu_count()} cores, "
          f"{platform.machine()} |")


if __name__ == "__main__":
    main()
