"""The same tests, two checkouts: how long the tests both checkouts have (by pytest node id) take in each, in
turn. For a time criterion like issue 13's ("`make test` takes no longer than before"): the whole suites differ
by every test added since, so only the tests both have compare.

    python bench/same_tests.py --before 710bbcc                  # that commit against this checkout, 2 rounds
    python bench/same_tests.py --before 710bbcc --rounds 1 --keep bench/out/same-tests

Each side is a clone in its own folder (`--keep`, default a temporary one; this checkout is cloned at HEAD, so
commit first), installed by its own `make install` (this checkout's `make install-spark` too, which its
collection needs), without ../shared beside it, as CI runs it. The node ids each side collects (`pytest
--collect-only`) are intersected, and each side then runs its own Makefile's `make test` options on exactly
those ids (a plugin deselects the others), the sides in turn (before, after, after, before, ...). Prints each
run's outcome, wall time and CPU seconds (user + system of pytest and the children it waited for); asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# A pytest plugin: keep only the tests whose node ids $TIEOUT_KEEP_IDS lists, one per line.
# It runs before xdist's own hook, which appends `@group` to the ids of `xdist_group` tests.
_PLUGIN = '''
import os

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    keep = set(open(os.environ["TIEOUT_KEEP_IDS"], encoding="utf-8").read().splitlines())
    deselected = [i for i in items if i.nodeid not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = [i for i in items if i.nodeid in keep]
'''


def _commit(rev: str) -> str:
    """`rev` (any git revision of this checkout) as a commit id."""
    return subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--verify", f"{rev}^{{commit}}"],
                          capture_output=True, text=True, check=True).stdout.strip()


def _clone(commit: str, folder: Path) -> None:
    if folder.exists():  # a clone kept from an earlier run (--keep): it may lack commits made since
        subprocess.run(["git", "-C", str(folder), "fetch", "-q", str(HERE.parent)], check=True)
    else:
        subprocess.run(["git", "clone", "-q", str(HERE.parent), str(folder)], check=True)
    subprocess.run(["git", "-C", str(folder), "checkout", "-q", "--detach", commit], check=True)
    targets = ["install"] + (["install-spark"] if "install-spark:" in (folder / "Makefile").read_text() else [])
    subprocess.run(["make", "-s", *targets], cwd=folder, check=True, stdout=subprocess.DEVNULL)


def _test_options(folder: Path) -> list[str]:
    """The options of the checkout's `make test` (its pytest line)."""
    text = (folder / "Makefile").read_text()
    recipe = re.search(r"^test:.*\n\t(.*)$", text, re.M)
    if recipe is None:
        sys.exit(f"{folder}/Makefile: no test target")
    words = shlex.split(recipe.group(1))
    return [w for w in words[1:] if w != "-q"]


def _ids(folder: Path) -> set[str]:
    proc = subprocess.run([str(folder / ".venv/bin/pytest"), "--collect-only", "-q", "-p", "no:cacheprovider"],
                          cwd=folder, capture_output=True, text=True, check=True)
    return {line for line in proc.stdout.splitlines() if "::" in line}


def _run(folder: Path, plugin_dir: Path, ids: Path) -> tuple[str, float, float]:
    env = {**os.environ, "PYTHONPATH": str(plugin_dir), "TIEOUT_KEEP_IDS": str(ids)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([str(folder / ".venv/bin/pytest"), "-q", "-p", "no:cacheprovider", "-p", "keep_ids",
                           *_test_options(folder)], cwd=folder, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    summary = [line for line in proc.stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    return (summary[-1].strip("= ") if summary else f"exit {proc.returncode}"), wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the commit to compare with (any git revision)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side, in turn (default 2)")
    parser.add_argument("--keep", type=Path, help="folder for the two clones (default: a temporary one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="same-tests-"))
    work.mkdir(parents=True, exist_ok=True)
    head = _commit("HEAD")
    sides = {"before": (_commit(args.before), work / "before"), "after": (head, work / "after")}
    for rev, folder in sides.values():
        _clone(rev, folder)
    collected = {name: _ids(folder) for name, (_, folder) in sides.items()}
    common = collected["before"] & collected["after"]
    ids = work / "common-ids.txt"
    ids.write_text("".join(f"{i}\n" for i in sorted(common)), encoding="utf-8")
    (work / "keep_ids.py").write_text(_PLUGIN, encoding="utf-8")
    print(f"before {args.before}: {len(collected['before']):,} tests; after {head[:7]}: "
          f"{len(collected['after']):,}; both: {len(common):,}")
    order = ["before", "after"]
    for round_ in range(args.rounds):
        for name in order if round_ % 2 == 0 else order[::-1]:
            outcome, wall, cpu = _run(sides[name][1], work, ids)
            print(f"{name:6} {outcome:60} {wall / 60:5.1f} min wall  {cpu:7.1f} s CPU", flush=True)


if __name__ == "__main__":
    main()
