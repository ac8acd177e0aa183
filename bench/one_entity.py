"""Benchmark the reads of one entity or record on a big day: what a person clicking through the queue waits for.

On the bench world (bench/run_day.py: one stored day of N companies), times, each in a fresh process:

- `tieout show C00000000` (an entity's story) and `tieout show ID` (the first open exception about an entity);
- what the web reads for an exception's page and an entity's page (`Reads.exception`, `Reads.entity`: the story
  and the owned fields, built over the entity's rows);
- `tieout entities candidates SYSTEM ID` of the first unmapped record: the entities it may belong to, with the
  evidence (the exception page of an unmapped record shows them).

    python bench/one_entity.py --companies 1000000
    python bench/one_entity.py --companies 1000000 --baseline ../before/src --timeout 900

`--baseline SRC` also times another checkout's `src` folder (`git worktree add ../before <commit>`), each read
right after this checkout's; a read that takes longer than `--timeout` seconds is stopped and shown as such.
Prints a Markdown table of wall and CPU seconds and peak memory; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from measure import WITH_PEAK, peak_mib, run_child, world_options, world_project

_WEB = """
import sys
from tieout.config import load_project
from tieout.web.reads import Reads
reads = Reads(load_project(sys.argv[1]))
found = reads.exception(sys.argv[3]) if sys.argv[2] == "exception" else reads.entity(sys.argv[3])
assert found is not None
import resource
print("PEAK_KIB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def _time(cmd: list[str], src: str | None, timeout: float) -> str:
    env = {**os.environ, **({"PYTHONPATH": src} if src else {})}
    try:
        wall, cpu, proc = run_child(cmd, env=env, timeout=timeout, check=True, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
    except subprocess.TimeoutExpired:
        return f"stopped after {timeout:.0f} s"
    peak = peak_mib(proc.stderr)
    return f"{wall:.2f} s, {cpu:.2f} s CPU" + (f", {peak / 1024:.1f} GiB" if peak == peak else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    world_options(parser)
    parser.add_argument("--baseline", help="another checkout's src folder, timed after this one's")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before a read is stopped")
    args = parser.parse_args()
    project = str(world_project(args))
    here = str(Path(__file__).resolve().parent.parent / "src")

    listed = subprocess.run([sys.executable, "-m", "tieout", "exceptions", "-p", project, "--format", "json"],
                            env={**os.environ, "PYTHONPATH": here}, check=True, capture_output=True, text=True)
    found = json.loads(listed.stdout)
    about_entity = next(e for e in found if e["canonical_id"])
    unmapped = next(e for e in found if e["rule"] == "UNMAPPED_SOURCE_RECORD")
    cli = [sys.executable, "-c", WITH_PEAK]
    reads = {
        f"`tieout show {about_entity['canonical_id']}`": [*cli, "show", about_entity["canonical_id"], "-p", project],
        f"`tieout show {about_entity['id']}` ({about_entity['rule']})": [*cli, "show", about_entity["id"], "-p",
                                                                         project],
        "the web's reads for that exception's page": [sys.executable, "-c", _WEB, project, "exception",
                                                      about_entity["id"]],
        "the web's reads for its entity's page": [sys.executable, "-c", _WEB, project, "entity",
                                                  about_entity["canonical_id"]],
        f"`tieout entities candidates {unmapped['source_system']} {unmapped['source_id']}`": [
            *cli, "entities", "candidates", unmapped["source_system"], unmapped["source_id"], "-p", project],
    }
    sides = [("this checkout", here)] + ([("baseline", args.baseline)] if args.baseline else [])
    print(f"| {args.companies:,} companies, day {args.date} | " + " | ".join(name for name, _ in sides) + " |")
    print("|---|" + "---|" * len(sides))
    for label, cmd in reads.items():
        print(f"| {label} | " + " | ".join(_time(cmd, src, args.timeout) for _, src in sides) + " |", flush=True)


if __name__ == "__main__":
    main()
