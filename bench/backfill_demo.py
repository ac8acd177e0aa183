"""Benchmark a backfill of the demo world (300 companies x 90 days by default): wall time of
`tieout backfill` over every day, with 1 and 2 parallel jobs.

    python bench/backfill_demo.py [--companies 300] [--days 90] [--backfill N]

`--backfill 4`: only the world's first four days, where starting the parallel workers is a visible share.

Prints wall time and CPU time (user + system, every process of the run); asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from tieout.demo import generate_world


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes: on a busy machine the wall time says
    more about the neighbours than about tieout."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--backfill", type=int, help="backfill only the first N days (default: every day)")
    args = parser.parse_args()
    start = date(2026, 1, 1)
    days = args.backfill or args.days
    end = start + timedelta(days=days - 1)
    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp) / "world"
        generate_world(world, companies=args.companies, start=start, days=args.days)
        for jobs in (1, 2):
            shutil.rmtree(world / ".tieout", ignore_errors=True)
            cpu = _children_cpu()
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "tieout", "backfill", "-p", str(world), "--from", str(start),
                            "--to", str(end), "--jobs", str(jobs)], check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - t
            cpu = _children_cpu() - cpu
            print(f"| backfill, {args.companies} companies x {days} days, --jobs {jobs} | {wall:.1f} s "
                  f"| {wall / days * 1000:.0f} ms a day | {cpu:.1f} s CPU |", flush=True)


if __name__ == "__main__":
    main()
