"""Benchmark the everyday case: the day after a stored day, where little has changed.

From the bench world's day D (bench/generate.py), writes day D+1 as the next export would look — the usage
window moves one day (every tenant gets a row for D+1, the oldest day drops out) and 1 % of contracts get a
new annual value — then times `tieout run --as-of D+1` against a re-run of D (which stores nothing new),
and reports what the day added to the store. Each round starts from the same store (day D only), and times
the re-run and the next day back to back: on a shared machine only their ratio within a round is steady.

    python bench/next_day.py --companies 1000000 --repeat 2

Each round also measures the floor — DuckDB's plain read of D+1's six files, in a fresh process — right after
the next day, and prints the next day as a multiple of it. Then it runs day D again on corrected exports (one
account in 10,000 renamed): a day before the newest, whose own history and the next day's are written again
(the tables the correction left as they were keep their rows; the accounts are compared with the replay of the
next day's chain). Last, with day D+2 stored too, it runs D+1 again on corrected exports: a day in the middle
of the chain, whose own diff and D+2's are written again, and times `tieout show` of one entity as of D+1 (a
read of a day before the newest: its records are replayed from the history). Prints figures; asserts nothing. Run
bench/run_day.py first so that day D is stored.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
from measure import WITH_PEAK, floor, peak_mib, run_child

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


def _correct(accounts: Path, original: Path) -> None:
    """`original` with one account in 10,000 renamed, written to `accounts`: day D's exports corrected."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"""COPY (
        SELECT * REPLACE (CASE WHEN hash(account_id) % 10000 = 0 THEN legal_name || ' Ltd' ELSE legal_name END
                          AS legal_name)
        FROM read_csv('{original}', header = true, all_varchar = true)
    ) TO '{accounts}' (HEADER)""")


def _run(project: Path, day: date) -> tuple[float, float, float]:
    """Wall and CPU seconds and peak memory (GiB) of `tieout run`."""
    wall, cpu, proc = run_child([sys.executable, "-c", WITH_PEAK, "run", "-p", str(project), "--as-of", str(day)],
                                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return wall, cpu, peak_mib(proc.stderr) / 1024


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 3, 15))
    parser.add_argument("--usage-days", type=int, default=35)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, help="the bench world with day D stored (default bench/out/N)")
    args = parser.parse_args()
    world = args.out or HERE / "out" / str(args.companies)
    day, nxt = args.date, args.date + timedelta(days=1)
    if not any(p.name.startswith(f"{day}.") for p in (world / ".tieout" / "days").glob("*.parquet")):
        sys.exit(f"day {day} is not stored in {world}: run bench/run_day.py --companies {args.companies} first")
    # A copy, so that the bench world keeps exactly one stored day for bench/run_day.py.
    project = world.with_name(f"{world.name}-next-day")
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(world, project)
    exports = project / "exports"
    _write_next_day(exports / str(day), exports / str(nxt), day, args.usage_days)
    after = nxt + timedelta(days=1)
    _write_next_day(exports / str(nxt), exports / str(after), nxt, args.usage_days)
    _run(project, day)  # brings an older store up to date (migrations) before anything is timed
    store = project / ".tieout"
    saved = project.with_name(f"{project.name}-store")
    shutil.rmtree(saved, ignore_errors=True)
    shutil.copytree(store, saved)
    accounts = exports / str(day) / "crm_accounts.csv"
    original = saved.with_name(f"{project.name}-accounts.csv")
    shutil.copyfile(accounts, original)
    for _ in range(args.repeat):
        shutil.rmtree(store)
        shutil.copytree(saved, store)  # day D stored, nothing after it
        shutil.copyfile(original, accounts)
        shutil.copyfile(original, exports / str(nxt) / accounts.name)
        rerun, rerun_cpu, rerun_peak = _run(project, day)
        history_before = _size(store / "history")
        state_before = _size(store / "history" / "state")
        next_day, next_cpu, next_peak = _run(project, nxt)
        least = floor(exports / str(nxt))
        added = (store / "history" / f"{nxt}.parquet").stat().st_size
        state_after = _size(store / "history" / "state")
        _correct(accounts, original)
        earlier, earlier_cpu, earlier_peak = _run(project, day)
        _run(project, after)  # D, D+1 and D+2 stored: D+1 is in the middle of the chain
        _correct(exports / str(nxt) / accounts.name, original)
        middle, middle_cpu, middle_peak = _run(project, nxt)
        shown, shown_cpu, _ = run_child([sys.executable, "-m", "tieout", "show", "C00000000", "-p", str(project),
                                         "--as-of", str(nxt), "--format", "json"], check=True, capture_output=True)
        print(f"| {args.companies:,} companies | re-run of {day}: {rerun:.1f} s, {rerun_cpu:.0f} s CPU "
              f"({rerun_peak:.1f} GiB) | next day {nxt}: {next_day:.1f} s, {next_cpu:.0f} s CPU ({next_peak:.1f} GiB) "
              f"({next_day / rerun:.2f}x) | read floor {least:.1f} s (next day {next_day / least:.1f}x) | history "
              f"file of the day {added / 2**20:.1f} MiB | state {state_before / 2**20:.0f} -> "
              f"{state_after / 2**20:.0f} MiB | history before {history_before / 2**20:.0f} MiB | {day} again on "
              f"corrected exports: {earlier:.1f} s, {earlier_cpu:.0f} s CPU ({earlier_peak:.1f} GiB) | {nxt} again on "
              f"corrected exports, {after} stored: {middle:.1f} s, {middle_cpu:.0f} s CPU ({middle_peak:.1f} GiB) | "
              f"`tieout show` of an entity as of {nxt}: {shown:.1f} s, {shown_cpu:.1f} s CPU |", flush=True)
    shutil.rmtree(project)
    shutil.rmtree(saved)
    original.unlink()

if __name__ == "__main__":
    main()
