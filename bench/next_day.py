"""Benchmark the everyday case: the day after a stored day, where little has changed.

From the bench world's day D (bench/generate.py), writes day D+1 as the next export would look — the usage
window moves one day (every tenant gets a row for D+1, the oldest day drops out) and 1 % of contracts get a
new annual value — then times `tieout run --as-of D+1` against a re-run of D (which stores nothing new),
and reports what the day added to the store.

    python bench/next_day.py --companies 1000000

Prints figures; asserts nothing. Run bench/run_day.py first so that day D is stored.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent


def _write_next_day(src: Path, dst: Path, day: date, window: int) -> None:
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    nxt, oldest = day + timedelta(days=1), day - timedelta(days=window - 1)
    usage = src / "ops_usage.csv"
    con.execute(f"""COPY (
        SELECT * FROM read_csv('{usage}', header = true, all_varchar = true) WHERE date <> '{oldest}'
        UNION ALL
        SELECT tenant_id, '{nxt}', active_users, fte_count
        FROM read_csv('{usage}', header = true, all_varchar = true) WHERE date = '{day}'
    ) TO '{dst / "ops_usage.csv"}' (HEADER)""")
    contracts = src / "crm_contracts.csv"
    con.execute(f"""COPY (
        SELECT * REPLACE (
            CASE WHEN hash(contract_id) % 100 = 0
                 THEN CAST(CAST(annual_value AS DECIMAL(20, 2)) * 1.01 AS DECIMAL(20, 2))::VARCHAR
                 ELSE annual_value END AS annual_value)
        FROM read_csv('{contracts}', header = true, all_varchar = true)
    ) TO '{dst / "crm_contracts.csv"}' (HEADER)""")


def _run(project: Path, day: date) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tieout", "run", "-p", str(project), "--as-of", str(day)], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 3, 15))
    parser.add_argument("--usage-days", type=int, default=35)
    args = parser.parse_args()
    world = HERE / "out" / str(args.companies)
    day, nxt = args.date, args.date + timedelta(days=1)
    if not (world / ".tieout" / "days" / f"{day}.parquet").exists():
        sys.exit(f"day {day} is not stored in {world}: run bench/run_day.py --companies {args.companies} first")
    # A copy, so that the bench world keeps exactly one stored day for bench/run_day.py.
    project = world.with_name(f"{world.name}-next-day")
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(world, project)
    exports = project / "exports"
    _write_next_day(exports / str(day), exports / str(nxt), day, args.usage_days)
    _run(project, day)  # brings an older store up to date (migrations) before anything is timed
    rerun = _run(project, day)
    history_before = _size(project / ".tieout" / "history")
    state_before = _size(project / ".tieout" / "history" / "state")
    next_day = _run(project, nxt)
    added = (project / ".tieout" / "history" / f"{nxt}.parquet").stat().st_size
    state_after = _size(project / ".tieout" / "history" / "state")
    print(f"| {args.companies:,} companies | re-run of {day}: {rerun:.1f} s | next day {nxt}: {next_day:.1f} s "
          f"({next_day / rerun:.2f}x) | history file of the day {added / 2**20:.1f} MiB | state "
          f"{state_before / 2**20:.0f} -> {state_after / 2**20:.0f} MiB | history before "
          f"{history_before / 2**20:.0f} MiB |")
    shutil.rmtree(project)


if __name__ == "__main__":
    main()
