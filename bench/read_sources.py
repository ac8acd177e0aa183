"""Benchmark reading one as-of day in the systems' own shapes against reading it in the standard layout.

    python bench/read_sources.py --companies 100000            # generates bench/out/sources-100000/{standard,vendor}
    python bench/read_sources.py --companies 1000000 --repeat 3

Both projects hold the same day (`bench/generate.py`, and `--vendor`: Salesforce Data Loader CSV, Stripe JSON
Lines, the product database's CSV). Each repeat reads the standard day, then the vendor day, each in a fresh
process (`tieout.sources.read.read_day` into an in-memory DuckDB, every check included), so the two are measured
side by side under the same load. Prints each read's wall time and peak memory, the medians and their ratio
(target: the vendor shapes within 1.5x of the standard layout). Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# One read in a child process: its own wall time and peak RSS, whatever else ran before it.
_READ = """
import resource, sys, time
from datetime import date
from tieout.config import load_project
from tieout.db import connect
from tieout.sources.read import read_day
project = load_project(sys.argv[1])
con = connect()
started = time.perf_counter()
counts = read_day(con, project, date.fromisoformat(sys.argv[2]))
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      sum(counts.values()))
"""


def _read(project: Path, day: str) -> tuple[float, float, int]:
    proc = subprocess.run([sys.executable, "-c", _READ, str(project), day], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"reading {project} failed:\n{proc.stdout}\n{proc.stderr}")
    wall, peak, rows = proc.stdout.split()
    return float(wall), float(peak), int(rows)


def _generate(out: Path, companies: int, vendor: bool) -> Path:
    if not (out / "tieout.yml").is_file():
        cmd = [sys.executable, str(HERE / "generate.py"), str(out), "--companies", str(companies)]
        subprocess.run(cmd + (["--vendor"] if vendor else []), check=True, stdout=subprocess.DEVNULL)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    base = args.out / f"sources-{args.companies}"
    shapes = {"standard": _generate(base / "standard", args.companies, False),
              "vendor": _generate(base / "vendor", args.companies, True)}
    day = next(p.name for p in (shapes["standard"] / "exports").iterdir())
    walls: dict[str, list[float]] = {name: [] for name in shapes}
    peaks: dict[str, list[float]] = {name: [] for name in shapes}
    rows: dict[str, int] = {}
    for i in range(args.repeat):
        for name, project in shapes.items():
            wall, peak, rows[name] = _read(project, day)
            walls[name].append(wall)
            peaks[name].append(peak)
            print(f"repeat {i + 1}: {name:8} {wall:7.2f} s  peak {peak:7.0f} MiB  {rows[name]:,} rows", flush=True)
    if rows["standard"] != rows["vendor"]:
        sys.exit(f"the two shapes read different row counts: {rows}")
    median = {name: statistics.median(w) for name, w in walls.items()}
    ratio = median["vendor"] / median["standard"]
    print(f"\n| {args.companies:,} companies | standard layout | vendor shapes | ratio |\n|---|---|---|---|\n"
          f"| read, median of {args.repeat} | {median['standard']:.2f} s | {median['vendor']:.2f} s | {ratio:.2f}x |\n"
          f"| peak memory, max | {max(peaks['standard']):.0f} MiB | {max(peaks['vendor']):.0f} MiB | |")


if __name__ == "__main__":
    main()
