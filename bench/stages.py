"""Where one `tieout run` spends its time: wall and CPU seconds of each stage (reading the exports, resolving,
the canonical tables, source history, the rules, storing), measured in a fresh process of its own.

    python bench/stages.py --companies 1000000              # a re-run of the stored day (bench/run_day.py first)
    python bench/stages.py --companies 1000000 --fresh      # the first day: the store is removed first
    TIEOUT_MEMORY_LIMIT=1250MB python bench/stages.py --companies 1000000

The run is the one `tieout run` makes (`tieout.run.run_day`, under the run's memory limit and spill folder),
told each stage as it starts. CPU is the process's user + system time, all its threads: on a shared machine
the steadier figure. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time

from measure import self_cpu, world_options, world_project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    world_options(parser)
    parser.add_argument("--fresh", action="store_true", help="remove the store first (a first run)")
    args = parser.parse_args()
    project_dir = world_project(args)

    from tieout.config import load_project
    from tieout.run import run_day

    project = load_project(project_dir)
    if args.fresh:
        shutil.rmtree(project.store_path, ignore_errors=True)
    marks = [("starting", time.perf_counter(), self_cpu())]
    result = run_day(project, args.date, stage=lambda name: marks.append((name, time.perf_counter(), self_cpu())))
    marks.append(("", time.perf_counter(), self_cpu()))
    for (name, wall, cpu), (_, wall_after, cpu_after) in zip(marks, marks[1:], strict=False):
        print(f"{name:28} {wall_after - wall:7.2f} s wall  {cpu_after - cpu:7.2f} s CPU")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'the whole run':28} {marks[-1][1] - marks[0][1]:7.2f} s wall  {marks[-1][2] - marks[0][2]:7.2f} s CPU  "
          f"peak {peak:,.0f} MiB  exceptions {result.findings:,}")


if __name__ == "__main__":
    main()
