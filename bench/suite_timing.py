"""Summarise a timing file written by the tests.timing plugin (docs/testing.md).

Test files ranked by CPU (the worker's, its waited-for children's and its Spark JVM's), each worker's busy span,
and the idle tail at the end (one worker done while the other still runs).

    TIEOUT_TIMING=/tmp/t.jsonl nice -n 10 .venv/bin/python -m pytest -q -n 2 --dist loadgroup -p tests.timing
    .venv/bin/python bench/suite_timing.py /tmp/t.jsonl --top 30
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("timing", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.timing.read_text().splitlines() if line.strip()]
    t0 = min(r["s"] for r in rows)

    by_file: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0])
    for r in rows:
        f = by_file[r["id"].split("::")[0]]
        f[0] += r["cpu"]
        f[1] += r["child"]
        f[2] += r.get("jvm", 0.0)  # a file written before the plugin read the JVM has none
        f[3] += r["e"] - r["s"]
        f[4] += 1
    total = sum(r["cpu"] + r["child"] for r in rows)
    jvm = sum(r.get("jvm", 0.0) for r in rows)
    print(f"{len(rows)} tests, {total:.0f} CPU s (worker + waited-for children) + {jvm:.0f} in the Spark JVM")
    print(f"{'all':>7} {'cpu':>7} {'child':>7} {'jvm':>7} {'wall':>7} {'tests':>5}  file")
    for name, (cpu, child, in_jvm, wall, n) in sorted(by_file.items(),
                                                      key=lambda kv: -(kv[1][0] + kv[1][1] + kv[1][2]))[: args.top]:
        print(f"{cpu + child + in_jvm:7.1f} {cpu:7.1f} {child:7.1f} {in_jvm:7.1f} {wall:7.1f} {n:5d}  {name}")

    ends = {}
    for worker in sorted({r["w"] for r in rows}):
        mine = [r for r in rows if r["w"] == worker]
        ends[worker] = max(r["e"] for r in mine) - t0
        busy = sum(r["cpu"] + r["child"] for r in mine)
        in_jvm = sum(r.get("jvm", 0.0) for r in mine)
        print(f"{worker}: {len(mine)} tests, ends at {ends[worker]:.0f} s, {busy:.0f} CPU s + {in_jvm:.0f} in its JVM")
    print(f"idle tail: {max(ends.values()) - min(ends.values()):.0f} s")


if __name__ == "__main__":
    main()
