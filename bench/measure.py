"""What the benchmarks share: the DuckDB read floor of a day's six files, and running the tieout CLI in a child
process that reports its own peak memory."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

FILES = ("crm_accounts", "crm_contracts", "billing_customers", "billing_invoices", "ops_tenants", "ops_usage")

_FLOOR = """
import duckdb, sys, time
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
started = time.perf_counter()
for path in sys.argv[1:]:
    con.execute(f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{path}', header = true)")
print(time.perf_counter() - started)
"""

# Runs the tieout CLI and reports the process's own peak RSS, whatever else ran before it.
WITH_PEAK = """
import resource, runpy, sys
sys.argv = ["tieout", *sys.argv[1:]]
try:
    runpy.run_module("tieout", run_name="__main__")
finally:
    print("PEAK_KIB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def floor(day: Path) -> float:
    """Seconds DuckDB alone takes to read the day's six standard files into tables, in a fresh process: the
    floor a run is measured against."""
    proc = subprocess.run([sys.executable, "-c", _FLOOR, *(str(day / f"{f}.csv") for f in FILES)],
                          check=True, capture_output=True, text=True)
    return float(proc.stdout.strip())


def peak_mib(stderr: str) -> float:
    """The peak RSS (MiB) a `WITH_PEAK` child printed."""
    peaks = [int(line.split()[1]) for line in stderr.splitlines() if line.startswith("PEAK_KIB")]
    return peaks[0] / 1024 if peaks else float("nan")


def run_child(cmd: list[str], **kwargs: object) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall and CPU seconds (user + system, all its threads) of one child process, and what it returned. On a
    busy shared machine the CPU seconds move far less than the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, text=True, **kwargs)  # type: ignore[call-overload]
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), proc
