"""The fixed cost of one small `tieout run`, as the test suite pays it: CPU seconds of in-process runs of tiny
days, this checkout against another, interleaved.

    python bench/tiny_run.py --before /work/main/src [--rounds 5] [--runs 20]

Each round runs, in a fresh child process per side (PYTHONPATH the side's src), after one warm-up run:

- `next`: the brief's example (the contract's worked example, ../shared/spec/examples/brief-timing), its days
  one after the other — the next day of a store, as the kill battery and most multi-day tests run it;
- `first`: a fresh project of one healthy day (tests/conftest.py's `project`) run for the first time — the
  most common test.

Prints each round's CPU ms per run (user + system of the child, all its threads, measured inside it around the
runs only), and the median and the least per side. Benchmarks print figures; they never assert a time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BRIEF = HERE.parent.parent / "shared" / "spec" / "examples" / "brief-timing"

_CHILD = r"""
import json, os, shutil, sys, tempfile, time
from pathlib import Path
from click.testing import CliRunner
from tieout.cli import cli

kind, runs, brief, tests = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
sys.path.insert(0, tests)
from conftest import ENTITY_MAP, write_day

def run(project, day):
    r = CliRunner().invoke(cli, ["run", "-p", str(project), "--as-of", day], catch_exceptions=False)
    assert r.exit_code == 0, r.output

with tempfile.TemporaryDirectory(prefix="tiny-run-") as tmp:
    if kind == "next":
        project = Path(tmp) / "brief"
        shutil.copytree(brief, project, ignore=shutil.ignore_patterns(".tieout"))
        days = sorted(p.name for p in (project / "exports").iterdir())
        assert len(days) > runs, f"the example has {len(days)} days"
        run(project, days[0])
        jobs = [(project, day) for day in days[1:runs + 1]]
    else:
        jobs = []
        for i in range(runs + 1):
            project = Path(tmp) / f"p{i}"
            project.mkdir()
            (project / "tieout.yml").write_text("exports: exports/{date}\nentity_map: entity_map.csv\n")
            (project / "entity_map.csv").write_text(ENTITY_MAP)
            write_day(project, "2026-01-20")
            jobs.append((project, "2026-01-20"))
        run(*jobs.pop(0))
    started = time.process_time()
    for project, day in jobs:
        run(project, day)
    print(json.dumps((time.process_time() - started) / runs))
"""


def _cpu_ms(src: Path, kind: str, runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", _CHILD, kind, str(runs), str(BRIEF), str(HERE.parent / "tests")],
                         env=env, capture_output=True, text=True, check=True).stdout
    return float(json.loads(out.strip().splitlines()[-1])) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout's src folder")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20, help="runs per child (the example has 36 days)")
    parser.add_argument("--kind", choices=["next", "first", "both"], default="both")
    args = parser.parse_args()
    sides = {"before": args.before.resolve(), "after": (HERE.parent / "src").resolve()}
    kinds = ["next", "first"] if args.kind == "both" else [args.kind]
    got: dict[tuple[str, str], list[float]] = {(k, s): [] for k in kinds for s in sides}
    for r in range(args.rounds):
        for kind in kinds:
            order = list(sides.items()) if r % 2 == 0 else list(reversed(sides.items()))
            for side, src in order:
                got[(kind, side)].append(_cpu_ms(src, kind, args.runs))
            print(f"round {r + 1} {kind:5s} " + "  ".join(f"{s} {got[(kind, s)][-1]:6.1f}" for s in sides),
                  flush=True)
    for kind in kinds:
        # Contention on a shared machine only adds CPU time: the least of the rounds is the steadiest figure.
        for name, pick in (("median", statistics.median), ("least", min)):
            before, after = (pick(got[(kind, s)]) for s in sides)
            print(f"{kind:5s}: CPU ms per run, {name} of {args.rounds}: before {before:.1f}, after {after:.1f} "
                  f"({(after - before) / before:+.1%})")


if __name__ == "__main__":
    main()
