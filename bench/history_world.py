"""A bench project with a history: N companies x D stored days, each day written by the scale generator
(bench/generate.py) and reconciled by a real `tieout run`, as a project that has run every day for D days.

    python bench/history_world.py --companies 100000 --days 30        # bench/out/history-100000x30
    python bench/history_world.py --companies 1000000 --days 30       # ~1 min a day at 1 M; run it in the background

Each day is the generator's world on that as-of date (the same companies and planted mismatches, the usage
window and contract ages moving with the date, invoices turning over at the month's start), so the store holds
D days of changes, the timeline episodes that span them and the source history a person's reads replay. Only
the latest day's exports are kept (1.6 GiB of CSV a day at 1 M): everything after a run reads the store.
Resumes where it stopped: a day already stored is not generated again. Prints each day's seconds; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from generate import generate

HERE = Path(__file__).resolve().parent
START = date(2026, 3, 1)


def stored(project: Path) -> set[date]:
    """The as-of days the project's store holds (its day files are named by date)."""
    days = project / ".tieout" / "days"
    return {date.fromisoformat(p.name[:10]) for p in days.glob("????-??-??.*parquet")} if days.is_dir() else set()


def build(project: Path, companies: int, days: int, *, start: date = START, usage_days: int = 35) -> Path:
    """The project with `days` consecutive days from `start` stored; only what is missing is generated and run."""
    have = stored(project)
    for k in range(days):
        day = start + timedelta(days=k)
        if day in have:
            continue
        t0 = time.perf_counter()
        generate(project, companies, day, usage_days)
        t1 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tieout", "run", "-p", str(project), "--as-of", day.isoformat()],
                       check=True, stdout=subprocess.DEVNULL)
        t2 = time.perf_counter()
        for older in (project / "exports").iterdir():
            if older.name < day.isoformat():
                shutil.rmtree(older)
        print(f"  day {k + 1}/{days} {day}: generated in {t1 - t0:.1f} s, run in {t2 - t1:.1f} s", file=sys.stderr,
              flush=True)
    return project


def default_folder(companies: int, days: int) -> Path:
    return HERE / "out" / f"history-{companies}x{days}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--out", type=Path, help="the project folder (default bench/out/history-NxD)")
    args = parser.parse_args()
    project = build(args.out or default_folder(args.companies, args.days), args.companies, args.days)
    print(f"{project}: {len(stored(project))} stored days")


if __name__ == "__main__":
    main()
