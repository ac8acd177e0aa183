"""What the benchmarks share: the DuckDB (and Spark) read floor of a day's six files, and running the tieout CLI in
a child process that reports its own peak memory (or, with Spark's JVM below it, the peak of its process tree)."""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

FILES = ("crm_accounts", "crm_contracts", "billing_customers", "billing_invoices", "ops_tenants", "ops_usage")

_FLOOR = """
import duckdb, sys, time
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
started = time.perf_counter()
for path in sys.argv[1:]:
    read = f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_csv('{path}', header = true)"
    con.execute(f"CREATE OR REPLACE TABLE t AS SELECT * FROM {read}")
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


def self_cpu() -> float:
    """This process's CPU seconds so far: user + system, all its threads (on a shared machine the steadier
    figure)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def world_options(parser: argparse.ArgumentParser) -> None:
    """--companies, --date and --out: the bench world (bench/run_day.py's) a script reads."""
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 3, 15))
    parser.add_argument("--out", type=Path, help="project folder (default bench/out/N, from bench/run_day.py)")


def world_project(args: argparse.Namespace) -> Path:
    """The project folder `world_options` name; exits with what to run first when it is not there."""
    project_dir: Path = args.out or Path(__file__).resolve().parent / "out" / str(args.companies)
    if not (project_dir / "tieout.yml").exists():
        sys.exit(f"no project in {project_dir}: run bench/run_day.py --companies {args.companies} first")
    return project_dir


def floor(day: Path, suffix: str = "csv") -> float:
    """Seconds DuckDB alone takes to read the day's six standard files (`suffix`: csv, or parquet) into tables, in
    a fresh process: the floor a run is measured against."""
    proc = subprocess.run([sys.executable, "-c", _FLOOR, *(str(day / f"{f}.{suffix}") for f in FILES)],
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


# Spark's plain read of the same six files (every row parsed: written to Spark's `noop` sink), after the session
# is up: the floor a Spark run is measured against, its JVM's start-up not included.
_SPARK_FLOOR = """
import sys, time
from pyspark.sql import SparkSession
builder = SparkSession.builder.master(sys.argv[1]).config("spark.ui.enabled", "false")
for setting in sys.argv[2].split(","):
    if setting:
        builder = builder.config(*setting.split("=", 1))
spark = builder.getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
started = time.perf_counter()
for path in sys.argv[3:]:
    rows = spark.read.parquet(path) if path.endswith(".parquet") else spark.read.csv(path, header=True)
    rows.write.format("noop").mode("overwrite").save()
print(time.perf_counter() - started)
spark.stop()
"""


def spark_floor(day: Path, master: str, conf: dict[str, str], suffix: str = "csv") -> float:
    """Seconds Spark (`master`, `conf`) takes to read the day's six standard files (`suffix`: csv, or parquet),
    in a fresh process."""
    settings = ",".join(f"{k}={v}" for k, v in conf.items())
    proc = subprocess.run([sys.executable, "-c", _SPARK_FLOOR, master, settings,
                           *(str(day / f"{f}.{suffix}") for f in FILES)], check=True, capture_output=True, text=True)
    return float(proc.stdout.strip().splitlines()[-1])


def _tree(root: int) -> list[int]:
    """`root` and every process below it (Spark's JVM is a child of the Python process that starts it)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _rss_and_cpu(pid: int) -> tuple[int, float]:
    """A process's resident bytes now and its CPU seconds so far (0 for one that is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0, 0.0
    return int(fields[21]) * os.sysconf("SC_PAGE_SIZE"), (int(fields[11]) + int(fields[12])) / os.sysconf(
        "SC_CLK_TCK")


def run_tree(cmd: list[str], every: float = 0.2) -> tuple[float, float, float, subprocess.CompletedProcess[str]]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of a child process together with every process it starts,
    sampled every `every` seconds (the sum of the tree's RSS at each sample; the CPU of each process as last
    seen), and what it returned."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak, cpu = 0, {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(every):
            total = 0
            for pid in _tree(proc.pid):
                rss, seconds = _rss_and_cpu(pid)
                total += rss
                cpu[pid] = max(cpu.get(pid, 0.0), seconds)
            peak = max(peak, total)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    return wall, sum(cpu.values()), peak / 2**20, subprocess.CompletedProcess(cmd, proc.returncode, out, err)
