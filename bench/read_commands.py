"""Benchmark the read commands as a person feels them: the whole process, start to exit, on the demo project.

Times `tieout --help` and every read command (`exceptions`, `show`, `timeline`, `patterns`, `history`,
`entities`, the three reports) on the demo world (300 companies x 90 days by default), several runs each, and
prints a Markdown table of the median wall time and the median CPU time (user + system) of each. The demo
project is built under bench/out/ when it is missing.

    python bench/read_commands.py [--runs 7] [--baseline ../before/src]

`--baseline SRC` also times another checkout's `src` folder (e.g. one made with `git worktree add ../before
<commit>`) on the same project, its runs interleaved with this checkout's so that both see the same machine,
and prints both columns and their ratio.

Python modules are timed as an installed tieout runs them: compiled once (a first, untimed run of each
command writes their bytecode under bench/out/pycache, whatever PYTHONDONTWRITEBYTECODE says) and read from
there after. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def _build(project: Path, companies: int, days: int) -> None:
    if (project / ".tieout").is_dir():
        return
    print(f"building the demo project in {project} ({companies} companies x {days} days)...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "tieout", "demo", str(project), "--companies", str(companies),
                    "--days", str(days)], check=True, stdout=subprocess.DEVNULL, env=_env(SRC))


def _env(src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # One bytecode cache per checkout: two checkouts' modules share their names.
    checkout = hashlib.sha1(str(src.resolve()).encode()).hexdigest()[:12]
    env["PYTHONPYCACHEPREFIX"] = str(HERE / "out" / "pycache" / checkout)
    env["PYTHONPATH"] = str(src)
    env["TIEOUT_WIDTH"] = "240"
    return env


def _commands(project: Path) -> list[tuple[str, list[str]]]:
    """(label, argv) of each read command, with an exception id and an entity of this project."""
    p = ["-p", str(project)]
    listed = subprocess.run([sys.executable, "-m", "tieout", "exceptions", *p, "--status", "all", "--format",
                             "json"], check=True, capture_output=True, text=True, env=_env(SRC)).stdout
    first = next(e for e in json.loads(listed) if e["canonical_id"])
    last_month = sorted(d.name for d in (project / "exports").iterdir())[-1][:7]
    return [
        ("--help", ["--help"]),
        ("exceptions", ["exceptions", *p]),
        ("exceptions --format json", ["exceptions", *p, "--format", "json"]),
        ("show ID", ["show", first["id"], *p]),
        ("show ENTITY", ["show", first["canonical_id"], *p]),
        ("timeline", ["timeline", *p]),
        ("patterns", ["patterns", *p]),
        ("history ENTITY", ["history", first["canonical_id"], *p]),
        ("entities", ["entities", *p]),
        ("report daily", ["report", "daily", *p]),
        ("report weekly", ["report", "weekly", *p]),
        ("report monthly", ["report", "monthly", *p, "--period", last_month, "--format", "json"]),
    ]


def _time(src: Path, argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one `tieout` process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "tieout", *argv], env=_env(src), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"tieout {' '.join(argv)} exited {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "read-demo", help="the demo project")
    parser.add_argument("--companies", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="another checkout's src folder, timed beside this one")
    parser.add_argument("--only", help="only these commands, by their first word, comma-separated "
                        "(e.g. --only=--help,exceptions,report)")
    args = parser.parse_args()
    _build(args.out, args.companies, args.days)
    checkouts = [SRC] + ([args.baseline] if args.baseline else [])
    commands = [c for c in _commands(args.out) if not args.only or c[0].split()[0] in args.only.split(",")]
    heading = "| command | wall (median) | CPU (median) |"
    if args.baseline:
        heading = "| command | wall, baseline | wall, this checkout | × baseline | CPU, baseline | CPU, this checkout |"
    print(heading)
    print("|" + "---|" * heading.count(" | ") + "---|")
    for label, argv in commands:
        for src in checkouts:
            _time(src, argv)  # compiles the bytecode and warms the file cache
        walls: dict[Path, list[float]] = {src: [] for src in checkouts}
        cpus: dict[Path, list[float]] = {src: [] for src in checkouts}
        for _ in range(args.runs):
            for src in checkouts:
                wall, cpu = _time(src, argv)
                walls[src].append(wall)
                cpus[src].append(cpu)
        wall_ = {src: statistics.median(w) for src, w in walls.items()}
        cpu_ = {src: statistics.median(c) for src, c in cpus.items()}
        if args.baseline:
            base = args.baseline
            print(f"| `{label}` | {wall_[base]:.2f} s | {wall_[SRC]:.2f} s | {wall_[SRC] / wall_[base]:.2f} "
                  f"| {cpu_[base]:.2f} s | {cpu_[SRC]:.2f} s |", flush=True)
        else:
            print(f"| `{label}` | {wall_[SRC]:.2f} s | {cpu_[SRC]:.2f} s |", flush=True)


if __name__ == "__main__":
    main()
