"""Reading one day's six standard files, file by file: tieout's checked read (`tieout.sources.read.read_table`:
every cell read as text, checked, typed, the key checked), against DuckDB's own typed read and its read as text
of the same file, one after the other in one process.

    python bench/read_files.py --companies 1000000      # the world of bench/run_day.py (bench/out/N)

Where a run's reading stage stands against the read floor (`bench/measure.py`), file by file. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from measure import self_cpu, world_options, world_project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    world_options(parser)
    args = parser.parse_args()
    project_dir = world_project(args)

    from tieout.config import load_project
    from tieout.db import connect
    from tieout.sources.layout import STANDARD_LAYOUT
    from tieout.sources.read import read_table
    from tieout.sql import literal

    project = load_project(project_dir)
    folder = project.export_dir(args.date)
    # Without the run's memory limit, as the floor reads: under it, DuckDB's copy of the usage file would spill
    # beside the loaded one and time the spilling rather than the reading.
    con = connect()

    def timed(work: Callable[..., object], *args: object) -> tuple[object, float, float]:
        wall, cpu = time.perf_counter(), self_cpu()
        out = work(*args)
        return out, time.perf_counter() - wall, self_cpu() - cpu

    print("| file | rows | tieout's checked read (wall, CPU) | DuckDB typed | DuckDB as text | tieout ÷ typed (wall) |")
    print("|---|---:|---:|---:|---:|---:|")
    totals = [0.0, 0.0, 0.0]
    for spec in STANDARD_LAYOUT:
        path = literal(str(folder / f"{spec.table}.csv"))
        rows, *ours = timed(read_table, con, project, spec, folder, args.date)
        _, *typed = timed(con.execute, f"CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM read_csv({path})")
        _, *text = timed(con.execute,
                         f"CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM read_csv({path}, all_varchar = true)")
        con.execute("DROP TABLE t")
        for i, (wall, _) in enumerate((ours, typed, text)):
            totals[i] += wall
        print(f"| {spec.table} | {rows:,} | {ours[0]:.2f} s, {ours[1]:.2f} s | {typed[0]:.2f} s, {typed[1]:.2f} s | "
              f"{text[0]:.2f} s, {text[1]:.2f} s | {ours[0] / typed[0]:.1f}× |", flush=True)
    print(f"| all six | | {totals[0]:.2f} s | {totals[1]:.2f} s | {totals[2]:.2f} s | {totals[0] / totals[1]:.1f}× |")


if __name__ == "__main__":
    main()
