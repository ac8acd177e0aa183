"""`tieout run` beside the plain pandas script a finance analyst would write (bench/pandas_baseline.py), on the
same bench project, at 100,000 and 1,000,000 companies.

    python bench/versus_pandas.py                                  # 100 k and 1 M, one round each
    python bench/versus_pandas.py --companies 100000 --repeat 3

For each size, the day is stored first (untimed), so `tieout run` is the daily re-run of a stored day: it reads
and checks the exports, resolves entities, runs all its rules and compares and stores the day's source history
and findings; the script only reads the files and counts five rules' exceptions. Each round runs the two in
turn, each in its own process (the order alternating between rounds, so neither always follows the other),
and takes the child's wall time, CPU time and peak memory (its own ru_maxrss, from wait4). Prints both, their
ratio, and whether the exceptions per rule of those five rules agree. Figures only; nothing is asserted.

The script runs in its own virtual environment, bench/out/pandas-venv (made on first use with pip: pandas and
the pyarrow it reads strings with), never in the project's: with pandas importable, pyarrow imports it (half a
second) the first time tieout builds an Arrow array, which would tax every `tieout` command measured beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PANDAS_VENV = HERE / "out" / "pandas-venv"
PANDAS = ("pandas==3.1.1", "pyarrow==26.0.1")
RULES = ("BILLING_ACTIVE_CRM_INACTIVE", "BILLING_ACTIVE_OPS_INACTIVE", "CRM_ACTIVE_BILLING_INACTIVE",
         "FTE_THRESHOLD_DRIFT", "OPS_ACTIVE_BILLING_INACTIVE")


@dataclass
class Measured:
    wall: float
    cpu: float
    peak_mib: float
    counts: dict[str, int]


def _child(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall and CPU seconds, peak RSS (MiB) and standard output of one child process, measured by wait4: the
    child's own figures, whatever ran before it."""
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True)
        stderr = proc.stderr.read() if proc.stderr else ""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
        if proc.returncode != 0:
            sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{stderr}")
        out.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read()


def _tieout(project: Path, day: str) -> Measured:
    wall, cpu, peak, out = _child([sys.executable, "-m", "tieout", "run", "-p", str(project), "--as-of", day,
                                   "--format", "json"])
    by_rule = json.loads(out)["by_rule"]
    return Measured(wall, cpu, peak, {rule: by_rule.get(rule, 0) for rule in RULES})


def _pandas_python() -> Path:
    python = PANDAS_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing {', '.join(PANDAS)} into {PANDAS_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PANDAS_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PANDAS], check=True)
    return python


def _pandas(project: Path, day: str) -> Measured:
    wall, cpu, peak, out = _child([str(_pandas_python()), str(HERE / "pandas_baseline.py"), str(project),
                                   "--as-of", day, "--json"])
    return Measured(wall, cpu, peak, json.loads(out))


def _project(companies: int, day: str) -> Path:
    project = HERE / "out" / str(companies)
    if not (project / "tieout.yml").exists():
        print(f"generating {companies:,} companies into {project} ...", flush=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(project), "--companies", str(companies),
                        "--date", day], check=True, stdout=subprocess.DEVNULL)
    if not any((project / ".tieout" / "days").glob(f"{day}.*.parquet")):
        print(f"storing {day} of {companies:,} companies first (untimed) ...", flush=True)
        _tieout(project, day)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--date", default="2026-03-15")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    rows = []
    for companies in args.companies:
        project = _project(companies, args.date)
        runs: dict[str, list[Measured]] = {"tieout": [], "pandas": []}
        for i in range(args.repeat):
            order = ("tieout", "pandas") if i % 2 == 0 else ("pandas", "tieout")
            for name in order:
                m = (_tieout if name == "tieout" else _pandas)(project, args.date)
                runs[name].append(m)
                print(f"{companies:>9,} round {i + 1}: {name:6} {m.wall:7.2f} s wall  {m.cpu:7.2f} s CPU  "
                      f"peak {m.peak_mib:7,.0f} MiB", flush=True)
        wall = {name: statistics.median(m.wall for m in ms) for name, ms in runs.items()}
        cpu = {name: statistics.median(m.cpu for m in ms) for name, ms in runs.items()}
        peak = {name: max(m.peak_mib for m in ms) for name, ms in runs.items()}
        agree = all(m.counts == runs["tieout"][0].counts for ms in runs.values() for m in ms)
        if not agree:
            for name, ms in runs.items():
                print(f"  {name} counts: {ms[0].counts}")
        rows.append(f"| {companies:,} | {wall['tieout']:.1f} s ({cpu['tieout']:.0f} s CPU) | "
                    f"{wall['pandas']:.1f} s ({cpu['pandas']:.0f} s CPU) | "
                    f"**{wall['pandas'] / wall['tieout']:.2f}×** | {peak['tieout']:,.0f} MiB | "
                    f"{peak['pandas']:,.0f} MiB | {peak['pandas'] / peak['tieout']:.2f}× | "
                    f"{'yes' if agree else 'NO'} |")
    print(f"\n| companies | `tieout run`, median of {args.repeat} | pandas script | pandas ÷ tieout (wall) "
          "| tieout peak | pandas peak | pandas ÷ tieout (memory) | counts agree |\n|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
