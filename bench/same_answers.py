"""Do two checkouts answer the same? A demo backfilled by each checkout's code (`tieout demo`), then the read
commands on each — `exceptions --status all`, `timeline`, `patterns`, `entities`, `show` of a sample of
exceptions and entities, `history` of a sample of entities, all as JSON — and every stored source history row
of each store, compared as sets (read in either history layout).

    python bench/same_answers.py --before /work/main/src [--out bench/out/same-answers]

For a change that must not change what tieout answers (a store layout, a faster query). Prints what differs;
asserts nothing. The demo of each side is built once and kept under --out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent


def _tieout(src: Path, *args: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-m", "tieout", *args], env={**os.environ, "PYTHONPATH": str(src)},
                          capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout


def _answers(src: Path, project: Path) -> dict[str, tuple[int, str]]:
    p = ["-p", str(project), "--format", "json"]
    out = {name: _tieout(src, *args, *p) for name, args in (
        ("exceptions", ["exceptions", "--status", "all"]), ("timeline", ["timeline"]), ("patterns", ["patterns"]),
        ("entities", ["entities"]))}
    found = json.loads(out["exceptions"][1])
    ids = sorted(e["id"] for e in found)
    entities = sorted({e["canonical_id"] for e in found if e.get("canonical_id")})
    for ident in ids[:: max(1, len(ids) // 40)]:
        out[f"show {ident}"] = _tieout(src, "show", ident, *p)
    for entity in entities[:: max(1, len(entities) // 25)]:
        out[f"show {entity}"] = _tieout(src, "show", entity, *p)
        out[f"history {entity}"] = _tieout(src, "history", entity, *p)
    return out


def _history_rows(project: Path) -> list[str]:
    """Every stored history row, each by column name; a baseline of the per-table layout read from the files
    its footer names (`tieout_tables`)."""
    folder = project / ".tieout" / "history"
    files: list[Path] = []
    for day in sorted(folder.glob("????-??-??.parquet")):
        kv = dict(duckdb.sql(f"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{day}')").fetchall())
        tables = json.loads(kv.get("tieout_tables", "{}"))
        files += [folder / name for name in tables.values()] if tables else [day]
    cur = duckdb.connect().execute(
        "SELECT * FROM read_parquet([" + ", ".join(f"'{f}'" for f in files) + "], union_by_name = true)")
    names = [c[0] for c in cur.description]
    return sorted(repr(sorted(zip(names, row, strict=True))) for row in cur.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout's src folder")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "same-answers")
    args = parser.parse_args()
    sides = {"before": args.before.resolve(), "after": (HERE.parent / "src").resolve()}
    answers, rows = {}, {}
    for name, src in sides.items():
        project = args.out / name
        if not (project / ".tieout").is_dir():
            code, out = _tieout(src, "demo", str(project))
            if code != 0:
                sys.exit(f"{name}: tieout demo failed ({code}): {out[-2000:]}")
        answers[name], rows[name] = _answers(src, project), _history_rows(project)
        print(f"{name}: {len(answers[name])} commands, {len(rows[name]):,} history rows", flush=True)
    before, after = answers["before"], answers["after"]
    differing = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    print(f"commands answering differently: {differing or 'none'}")
    print(f"exit codes: {sorted({code for code, _ in [*before.values(), *after.values()]})}")
    print(f"history rows the same as sets: {rows['before'] == rows['after']}")


if __name__ == "__main__":
    main()
