"""Benchmark the stored timeline: the read commands on a store that keeps it, beside the same store read as
one from before it (its manifest naming neither the timeline nor the ownership breaks, so every read derives
them from the day files and the source history, as reads did before).

On an existing project (the demo, say):

    python bench/stored_timeline.py --project /tmp/demo [--runs 5]

or on a synthetic store of N companies x D days, built here by committing each day's findings as a run does
(each day changes a few percent of the exceptions: some open, some close, some change impact), which also
times each commit — the update of the stored timeline included:

    python bench/stored_timeline.py --companies 1000000 --days 30 [--runs 3]

Each command is one whole `tieout` process (start to exit); the two stores' runs are interleaved so that both
see the same machine; the table shows the median wall and CPU time (user + system) of each and their ratios.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
START = date(2026, 1, 1)
RULES = ("CRM_ACTIVE_BILLING_INACTIVE", "BILLING_ACTIVE_CRM_INACTIVE", "BILLING_ACTIVE_OPS_INACTIVE",
         "FTE_THRESHOLD_DRIFT")

# Per (company, rule): 3 % of pairs flap, each with its own period (8-27 days) and phase, open a third of it;
# the impact of an open one moves every week. Identity as `tieout.evaluate` computes it.
_DAY_FINDINGS = """
WITH pairs AS (
    SELECT printf('C%07d', c) AS canonical_id, r.rule, hash(c, r.rule) AS h
    FROM range($companies) AS t(c), (SELECT unnest($rules) AS rule) AS r
),
flapping AS (SELECT *, 8 + h % 20 AS period, (h // 20) % 1000 AS phase FROM pairs WHERE h % 100 < 3)
SELECT substr(md5(concat_ws('|', rule, canonical_id, '', '', '')), 1, 16) AS id, rule, canonical_id,
       CAST(NULL AS VARCHAR) AS source_system, CAST(NULL AS VARCHAR) AS source_id, CAST(NULL AS VARCHAR) AS field,
       CAST(100 * (1 + h % 50) + $k // 7 AS DECIMAL(20, 4)) AS impact,
       CASE WHEN h % 7 = 0 THEN 'P1' WHEN h % 3 = 0 THEN 'P2' ELSE 'P3' END AS severity, 'ar' AS team,
       'synthetic' AS details, CAST(NULL AS DECIMAL(20, 4)) AS original_amount,
       CAST(NULL AS VARCHAR) AS original_currency
FROM flapping WHERE ($k + phase) % period < period // 3
"""


def _build(project: Path, companies: int, days: int) -> None:
    """Commit `days` days of synthetic findings for `companies` companies; print what each commit took."""
    import duckdb

    from tieout.config import load_project
    from tieout.ownership.breaks import edits_by_day
    from tieout.store.days import commit_day
    from tieout.store.lock import run_lock

    project.mkdir(parents=True, exist_ok=True)
    (project / "tieout.yml").write_text("exports: exports/{date}\nentity_map: entity_map.csv\n")
    (project / "entity_map.csv").write_text("canonical_id,source_system,source_id,effective_from,effective_to,notes\n")
    p = load_project(project)
    con = duckdb.connect()
    seconds = []
    with run_lock(p):
        for k in range(days):
            findings = con.sql(_DAY_FINDINGS, params={"companies": companies, "rules": list(RULES), "k": k}
                               ).to_arrow_table()
            start = time.perf_counter()
            commit_day(p, START + timedelta(days=k), findings,
                       find_breaks=lambda wanted, stored: edits_by_day(p, wanted, stored))
            seconds.append(time.perf_counter() - start)
            print(f"  day {k + 1}: {findings.num_rows} findings, committed in {seconds[-1]:.2f} s", file=sys.stderr)
    print(f"commits: first {seconds[0]:.2f} s, median {statistics.median(seconds):.2f} s, last {seconds[-1]:.2f} s")


def _as_before(project: Path, copy: Path) -> None:
    """`copy`: the project's store, its manifest naming neither the stored timeline nor the breaks."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("exports"), symlinks=True)
    if (project / "exports").is_dir():
        (copy / "exports").symlink_to(project / "exports")
    manifest = copy / ".tieout" / "days" / "manifest.json"
    body = json.loads(manifest.read_text())
    for key in ("episodes", "ownership"):
        body.pop(key, None)
    manifest.write_text(json.dumps(body, indent=1) + "\n")


def _tieout(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tieout", *args], capture_output=True, text=True, check=True)


def _commands(project: Path) -> list[tuple[str, list[str]]]:
    p = ["-p", str(project)]
    listed = json.loads(_tieout("exceptions", *p, "--status", "all", "--format", "json").stdout)
    first = next(e for e in listed if e["canonical_id"])
    return [
        ("exceptions --format json", ["exceptions", "--format", "json"]),
        ("exceptions --status all --format json", ["exceptions", "--status", "all", "--format", "json"]),
        ("timeline", ["timeline"]),
        ("patterns", ["patterns"]),
        ("show ID", ["show", first["id"]]),
        ("show ENTITY", ["show", first["canonical_id"]]),
        ("report weekly", ["report", "weekly"]),
    ]


def _time(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one `tieout` process: on a shared machine the CPU time is the
    steadier of the two."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "tieout", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"tieout {' '.join(argv)} failed")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, help="an existing project (default: a synthetic store)")
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", help="only these commands, by their first word, comma-separated")
    args = parser.parse_args()
    project = args.project
    if project is None:
        project = HERE / "out" / f"timeline-{args.companies}x{args.days}"
        if not (project / ".tieout").is_dir():
            _build(project, args.companies, args.days)
    before = HERE / "out" / f"{project.name}-as-before"
    _as_before(project, before)
    os.environ.setdefault("TIEOUT_WIDTH", "240")
    commands = [c for c in _commands(project) if not args.only or c[0].split()[0] in args.only.split(",")]
    print(f"{project}: median of {args.runs} runs, whole process")
    print("| command | wall, derived (as before) | wall, stored | × | CPU, derived | CPU, stored | × |")
    print("|---|---|---|---|---|---|---|")
    for label, argv in commands:
        times: dict[Path, list[tuple[float, float]]] = {before: [], project: []}
        for store in times:
            _time([*argv, "-p", str(store)])  # warms the file cache and the bytecode
        for _ in range(args.runs):
            for store in times:
                times[store].append(_time([*argv, "-p", str(store)]))
        (wall_d, cpu_d), (wall_s, cpu_s) = ((statistics.median(w for w, _ in times[s]),
                                             statistics.median(c for _, c in times[s])) for s in (before, project))
        print(f"| `{label}` | {wall_d:.2f} s | {wall_s:.2f} s | {wall_s / wall_d:.2f} | {cpu_d:.2f} s | {cpu_s:.2f} s "
              f"| {cpu_s / cpu_d:.2f} |", flush=True)


if __name__ == "__main__":
    main()
