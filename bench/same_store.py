"""Do two checkouts store and print the same, byte for byte? For a change that must not change anything a run
writes or says (a cheaper run).

    python bench/same_store.py --before /work/main/src [--demo-days 8] [--out bench/out/same-store]

Each side (PYTHONPATH its src; one child process per command) runs:

- the brief's example (../shared/spec/examples/brief-timing): `tieout run --format json` of every day in date
  order, then its first, a middle and its last day again (a stored day re-run), then `backfill --jobs 1` of a
  copy in reverse order of three stretches; the text output of one run;
- the small demo world (tieout.demo.generate_world, the minimum companies) over its first `--demo-days` days:
  `run --format json` day by day, then `exceptions --status all --format json` and `timeline --format json`.

Then compares every command's exit code and output, and every file under each project's `.tieout/` (names and
bytes) — the time a run took, which it prints, and the name of the cached entity map, which says which code
validated it, aside. Prints what differs; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
BRIEF = HERE.parent.parent / "shared" / "spec" / "examples" / "brief-timing"


def _tieout(src: Path, project: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "tieout", *args, "-p", str(project)], env=env,
                          capture_output=True, text=True, check=False)
    said = f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    # The project's own path differs between the sides, and a run says how long it took: neither is compared.
    return _SECONDS.sub(r"\1<s>", _TOOK.sub(" in <s>", said.replace(str(project), "<project>")))


_SECONDS = re.compile(r'("seconds": )[0-9.]+')
_TOOK = re.compile(r" in [0-9.]+s$", re.M)


def _tree(project: Path) -> dict[str, str]:
    folder = project / ".tieout"
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            name = str(path.relative_to(folder))
            # The cached entity map is named after the validating code too (entity_map.py's bytes): a change to
            # that file renames it. Its content is compared.
            out[_MAP_CACHE.sub(r"\1<code>\2", name)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


_MAP_CACHE = re.compile(r"^(cache/entity_map\.)[0-9a-f]{32}(\.parquet)$")


def _side(src: Path, out: Path, demo_days: int) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    said: dict[str, str] = {}
    trees: dict[str, dict[str, str]] = {}
    shutil.rmtree(out, ignore_errors=True)
    brief = out / "brief"
    shutil.copytree(BRIEF, brief, ignore=shutil.ignore_patterns(".tieout"))
    days = sorted(p.name for p in (brief / "exports").iterdir())
    for day in days:
        said[f"brief run {day}"] = _tieout(src, brief, "run", "--as-of", day, "--format", "json")
    for day in (days[0], days[len(days) // 2], days[-1]):
        said[f"brief run {day} again"] = _tieout(src, brief, "run", "--as-of", day, "--format", "json")
    said["brief run text"] = _tieout(src, brief, "run", "--as-of", days[5])
    said["brief exceptions"] = _tieout(src, brief, "exceptions", "--status", "all", "--format", "json")
    trees["brief"] = _tree(brief)
    reverse = out / "brief-reverse"
    shutil.copytree(BRIEF, reverse, ignore=shutil.ignore_patterns(".tieout"))
    third = len(days) // 3
    for start, end in ((days[2 * third], days[-1]), (days[third], days[2 * third - 1]), (days[0], days[third - 1])):
        said[f"backfill {start}..{end}"] = _tieout(src, reverse, "backfill", "--from", start, "--to", end,
                                                   "--jobs", "1", "--format", "json")
    trees["brief-reverse"] = _tree(reverse)
    demo = out / "demo"
    subprocess.run([sys.executable, "-c", "import sys; from datetime import date; from pathlib import Path; "
                    "from tieout.demo import MIN_COMPANIES, generate_world; "
                    "generate_world(Path(sys.argv[1]), companies=MIN_COMPANIES, days=60, start=date(2026, 1, 1))",
                    str(demo)], env={**os.environ, "PYTHONPATH": str(src)}, check=True)
    for i in range(demo_days):
        day = date(2026, 1, 1 + i).isoformat()
        said[f"demo run {day}"] = _tieout(src, demo, "run", "--as-of", day, "--format", "json")
    said["demo exceptions"] = _tieout(src, demo, "exceptions", "--status", "all", "--format", "json")
    said["demo timeline"] = _tieout(src, demo, "timeline", "--format", "json")
    trees["demo"] = _tree(demo)
    return said, trees


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout's src folder")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "same-store")
    parser.add_argument("--demo-days", type=int, default=8)
    args = parser.parse_args()
    sides = {"before": args.before.resolve(), "after": (HERE.parent / "src").resolve()}
    got = {name: _side(src, args.out / name, args.demo_days) for name, src in sides.items()}
    (said_b, trees_b), (said_a, trees_a) = got["before"], got["after"]
    differing = sorted(k for k in said_b.keys() | said_a.keys() if said_b.get(k) != said_a.get(k))
    print(f"{len(said_b)} commands; answering differently: {differing or 'none'}")
    print(f"exit codes: {sorted({s.split(chr(10))[0] for s in [*said_b.values(), *said_a.values()]})}")
    for project in trees_b:
        b, a = trees_b[project], trees_a.get(project, {})
        files = sorted(k for k in b.keys() | a.keys() if b.get(k) != a.get(k))
        print(f"{project}: {len(b)} files; differing: {files or 'none'}")


if __name__ == "__main__":
    main()
