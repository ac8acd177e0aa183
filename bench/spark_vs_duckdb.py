"""One as-of day at scale on DuckDB and on Spark (local mode), side by side: wall time, CPU, peak memory and each
engine's read floor.

    python bench/spark_vs_duckdb.py --companies 1000000                  # generates bench/out/1000000 if missing
    python bench/spark_vs_duckdb.py --companies 100000 --out /some/world  # an existing bench/generate.py world
    python bench/spark_vs_duckdb.py --companies 10000000 --engines duckdb
    python bench/spark_vs_duckdb.py --companies 1000000 --parquet         # the exports as a lakehouse's Parquet

Each engine runs `tieout run` on the world's day in a process of its own, one after the other, each on a store of
its own (a first run: the store is removed before it). The Spark run is a sibling project, `<world>-spark`, whose
tieout.yml is the world's plus `engine: spark` (and `--master`, `--spark-conf`), reading the world's exports.
Peak memory is that of the whole process tree, sampled: Spark's JVM is a child of the tieout process. The floors
are each engine's plain read of the same six CSV files in a fresh process (Spark's after its session is up).
With `--parquet` the world's day is first written as Parquet (`<world>-parquet`: one file per standard table,
typed as a lakehouse keeps it — DATE, TIMESTAMP adjusted to UTC, DECIMAL money and quantities, BIGINT counts — and
read with `format: parquet`), and both engines run on that; the floors read those Parquet files.
Prints figures and a Markdown row per engine; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import measure
from measure import FILES, WITH_PEAK, run_tree

HERE = Path(__file__).resolve().parent
# Spark's settings for one machine: shuffles in a few partitions (the default 200 is for a cluster) and the
# driver, which is the executor in local mode, with room for the day.
SPARK_CONF = {"spark.sql.shuffle.partitions": "8", "spark.driver.memory": "8g", "spark.ui.enabled": "false"}


def spark_project(world: Path, master: str, conf: dict[str, str]) -> Path:
    """A project beside `world` that runs its day on Spark: the world's settings, paths made absolute."""
    import yaml

    settings = yaml.safe_load((world / "tieout.yml").read_text())
    settings["exports"] = str((world / settings["exports"]).resolve())
    settings["entity_map"] = str((world / settings["entity_map"]).resolve())
    settings["engine"] = "spark"
    settings["spark"] = {"master": master, "conf": conf}
    project = world.with_name(f"{world.name}-spark")
    project.mkdir(exist_ok=True)
    (project / "tieout.yml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return project


def parquet_world(world: Path, as_of: str) -> Path:
    """`world`'s day as Parquet in a sibling project `<world>-parquet` that reads it with `format: parquet` (written
    once; the world's entity map and settings)."""
    import duckdb
    import yaml

    from tieout.sources.layout import KIND_TYPES, STANDARD_LAYOUT

    project = world.with_name(f"{world.name}-parquet")
    lake = project / "exports" / as_of / "lake"
    if not all((lake / f"{spec.table}.parquet").is_file() for spec in STANDARD_LAYOUT):
        lake.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        for spec in STANDARD_LAYOUT:
            types = ", ".join(f"'{c.name}': '{KIND_TYPES[c.kind]}'" for c in spec.columns)
            source = world / "exports" / as_of / f"{spec.table}.csv"
            con.execute(f"COPY (SELECT * FROM read_csv('{source}', header = true, columns = {{{types}}})) "
                        f"TO '{lake / spec.table}.parquet' (FORMAT parquet)")
        con.close()
    settings = yaml.safe_load((world / "tieout.yml").read_text())
    settings["exports"] = str((project / "exports" / "{date}").resolve())
    settings["entity_map"] = str((world / settings["entity_map"]).resolve())
    settings["sources"] = {system: {"format": "parquet", "path": "lake", "tables": {
        spec.table: {"file": f"{spec.table}.parquet"} for spec in STANDARD_LAYOUT if spec.system == system}}
        for system in ("crm", "billing", "ops")}
    (project / "tieout.yml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return project


def run(project: Path, as_of: str) -> tuple[float, float, float, int]:
    """`tieout run` of `as_of` on a fresh store: wall and CPU seconds, peak MiB of its process tree, exceptions."""
    shutil.rmtree(project / ".tieout", ignore_errors=True)
    wall, cpu, peak, proc = run_tree([sys.executable, "-c", WITH_PEAK, "run", "-p", str(project), "--as-of", as_of,
                                      "--format", "json"])
    if proc.returncode != 0:
        sys.exit(f"failed: tieout run -p {project}\n{proc.stdout}\n{proc.stderr[-3000:]}")
    return wall, cpu, peak, json.loads(proc.stdout)["exceptions_reported"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--date", default="2026-03-15")
    parser.add_argument("--out", type=Path, help="the world's folder (default bench/out/N; generated if missing)")
    parser.add_argument("--engines", default="duckdb,spark", help="which, in order (default duckdb,spark)")
    parser.add_argument("--master", default="local[2]", help="Spark's master (default local[2])")
    parser.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                        help=f"a Spark setting over the bench's own ({SPARK_CONF})")
    parser.add_argument("--parquet", action="store_true", help="the day's exports as Parquet (format: parquet)")
    args = parser.parse_args()
    world = (args.out or HERE / "out" / str(args.companies)).resolve()
    if not (world / "tieout.yml").exists():
        print(f"generating {args.companies:,} companies into {world} ...", flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(world), "--companies", str(args.companies),
                        "--date", args.date], check=True)
        print(f"  generated in {time.perf_counter() - started:.1f}s", flush=True)
    suffix = "parquet" if args.parquet else "csv"
    if args.parquet:
        world = parquet_world(world, args.date)
    day = world / "exports" / args.date / ("lake" if args.parquet else "")
    size = sum((day / f"{f}.{suffix}").stat().st_size for f in FILES) / 2**20
    conf = {**SPARK_CONF, **dict(setting.split("=", 1) for setting in args.spark_conf)}

    rows = []
    for engine in args.engines.split(","):
        if engine == "duckdb":
            project, floor = world, measure.floor(day, suffix)
        else:
            project = spark_project(world, args.master, conf)
            floor = measure.spark_floor(day, args.master, conf, suffix)
        wall, cpu, peak, exceptions = run(project, args.date)
        print(f"{engine:6}  run {wall:7.1f}s ({cpu:6.1f}s CPU)  read floor {floor:6.1f}s  ratio {wall / floor:4.1f}x  "
              f"peak {peak:,.0f} MiB  exceptions {exceptions:,}", flush=True)
        rows.append(f"| {args.companies:,} | {size:,.0f} MiB {suffix} | {engine}"
                    f"{f' {args.master}' if engine == 'spark' else ''} | {wall:.1f} s | {cpu:.1f} s | {floor:.1f} s | "
                    f"{wall / floor:.1f}x | {peak:,.0f} MiB | {exceptions:,} |")
    print("\n| companies | exports | engine | run (wall) | run (CPU) | read floor | run / floor | peak memory (tree) "
          "| exceptions |\n|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
