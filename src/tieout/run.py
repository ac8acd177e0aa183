"""One as-of day end to end: read the exports, resolve entities, build the canonical tables, run the
rules, store the day. Nothing is written unless every step before the write succeeded.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from tieout import active_customers, canonical
from tieout.config import Project
from tieout.db import connect, memory_limit_setting, share_cores, spill_into
from tieout.engines import DuckDBEngine, Engine
from tieout.errors import OutOfMemory
from tieout.evaluate import evaluate
from tieout.ingest import Stage, quiet, resolve_day
from tieout.rules.registry import Rule, load_rules
from tieout.sources.layout import STANDARD_LAYOUT
from tieout.state.location import SQLITE_FILE
from tieout.store import source_history, stored_days
from tieout.store.commit import commit, prepare_history
from tieout.store.manifest import ActiveCounts

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass
class DayResult:
    as_of: date
    records: dict[str, int]
    findings: int
    by_severity: dict[str, int] = field(default_factory=dict)
    by_rule: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    active: ActiveCounts | None = None  # each system's active customers, stored with the day


def evaluate_day(project: Project, as_of: date, *, rules: dict[str, Rule] | None = None, stage: Stage = quiet,
                 loaded: Callable[[duckdb.DuckDBPyConnection], None] | None = None
                 ) -> tuple[duckdb.DuckDBPyConnection, dict[str, int]]:
    """Load and evaluate `as_of` in a fresh in-memory DuckDB; return it with its `findings` table.

    `loaded` is called with the connection once the exports are loaded and resolved and the canonical tables
    built, while it may still read and write files (the rules run locked down)."""
    rules = load_rules(project) if rules is None else rules
    con, records = resolve_day(project, as_of, stage=stage)
    # Every record is resolved (`source_records`); no later step reads the map, and no rule may
    # (`tieout.rules.safety.INTERNAL_TABLES`). Its 3 M rows at 1 M companies would only push the day's
    # tables out of the memory limit into the spill folder, to be read back on every scan.
    con.execute("DROP TABLE entity_map")
    stage("building canonical tables")
    canonical.build(con, project, as_of)
    if loaded is not None:
        loaded(con)
    # From here on only rule SQL runs: no file, URL or setting may be reached from it.
    engine = DuckDBEngine(con)
    engine.lock_down()
    stage("running rules")
    evaluate(engine, project, rules, as_of)
    return con, records


def reconcile_day(project: Project, as_of: date, *, rules: dict[str, Rule] | None = None, stage: Stage = quiet,
                  loaded: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
                  spark: SparkSession | None = None) -> tuple[pa.Table, DayResult]:
    """Evaluate `as_of` without storing it: its findings and their summary. On the project's engine (`engine:` in
    tieout.yml), or on Spark in the session `spark` when one is given."""
    started = time.perf_counter()
    rules = load_rules(project) if rules is None else rules
    if spark is not None or project.engine == "spark":
        engine, records = _evaluate_on_spark(project, as_of, rules=rules, stage=stage, loaded=loaded, session=spark)
    else:
        con, records = evaluate_day(project, as_of, rules=rules, stage=stage, loaded=loaded)
        engine = DuckDBEngine(con)
    try:
        active = active_customers.counts(engine, as_of, active_customers.ops_window_days(rules))
        findings = engine.read_table("findings")
    finally:
        engine.close()
    severities = Counter(findings.column("severity").to_pylist())
    per_rule = Counter(findings.column("rule").to_pylist())
    return findings, DayResult(
        as_of=as_of,
        records=records,
        findings=findings.num_rows,
        by_severity=dict(severities),
        by_rule=dict(sorted(per_rule.items())),
        seconds=time.perf_counter() - started,
        active=active,
    )


def _evaluate_on_spark(project: Project, as_of: date, *, rules: dict[str, Rule], stage: Stage,
                       loaded: Callable[[duckdb.DuckDBPyConnection], None] | None,
                       session: SparkSession | None) -> tuple[Engine, dict[str, int]]:
    """`evaluate_day` with entity resolution, the canonical tables and the rules on Spark. The standard layout's
    files are read and validated by Spark (`tieout.sources.spark_read`; a refusal is DuckDB's, naming file, row
    and column), and so are a vendor's CSV exports that Spark is trusted with (`tieout.sources.spark_vendor`);
    other sources by DuckDB; what Spark does not hold yet (those sources' tables, the entity map) is
    handed to it."""
    from tieout.engines.spark import SparkEngine, require_pyspark
    from tieout.entities import resolve
    from tieout.ingest import load_map
    from tieout.rules.on_engine import refuse_unportable
    from tieout.sources.spark_read import read_day_on_spark

    require_pyspark()
    refuse_unportable(rules, SparkEngine)  # before reading anything: a rule Spark cannot run stops the day
    engine = SparkEngine.open(project, session=session)
    driver = DuckDBEngine.open()  # the day as read, on the driver: it normalises for Spark and keeps the history
    con = driver.con
    try:
        stage("reading exports")
        read = read_day_on_spark(engine, con, project, as_of)
        records = read.counts
        load_map(con, project)
        stage("handing the day to spark")
        engine.hand_over(driver, [t for t in HANDED_TO_SPARK if t not in read.on_spark])
        stage("resolving entities")
        resolve(engine, as_of)
        stage("building canonical tables")
        canonical.build(engine, project, as_of)
        if any(rule.enabled and "tieout_normalise" in rule.requires for rule in rules.values()):
            engine.provide_normalise_keys(driver, NORMALISED_VALUES)
        if loaded is not None:
            driver.write_table("source_records", engine.read_table("source_records"))  # the history records it
            loaded(con)
        driver.close()
        engine.lock_down()
        stage("running rules")
        evaluate(engine, project, rules, as_of)
    except BaseException:
        engine.close()
        driver.close()
        raise
    return engine, records


# What DuckDB hands to Spark: the typed exports Spark did not read itself (`sources:`, or a file DuckDB read
# after Spark found it wanting) and the entity map (`tieout.ingest.load_map`).
HANDED_TO_SPARK = [*(f.table for f in STANDARD_LAYOUT), "entity_map"]
# The values `tieout_normalise` is asked about on Spark: the registry's field values and the corrections'.
NORMALISED_VALUES = [("field_values", "value"), ("field_values", "mapped"), ("corrected_values", "value"),
                     ("corrected_values", "mapped"), ("corrections", "new_value")]


def run_day(project: Project, as_of: date, *, rules: dict[str, Rule] | None = None, stage: Stage = quiet,
            spark: SparkSession | None = None) -> DayResult:
    """Reconcile `as_of` and store its source history and findings; call under the run lock. Nothing is
    moved into place unless every stage succeeded, and the day's findings (its commit point) last. With
    `spark`, the day runs on Spark in that session whatever the project's `engine:`."""
    from tieout.month_close import refuse_closed  # SQLAlchemy only when there is a state database

    refuse_closed(project, [as_of])
    rules = load_rules(project) if rules is None else rules
    plans: list[source_history.Plan] = []

    def history(con: duckdb.DuckDBPyConnection) -> None:
        # Only once the exports and the canonical tables are known good: a refused day writes nothing.
        stage("recording source history")
        plans.append(prepare_history(con, project, as_of))

    with _first_run(project), _spilling(project):
        try:
            findings, result = reconcile_day(project, as_of, rules=rules, stage=stage, loaded=history,
                                             spark=spark)
        except BaseException:
            for plan in plans:
                plan.discard()
            raise
        stage("storing the day")
        commit(project, as_of, plans[0], findings, rules, result.active)
    return result


# Where a run's DuckDB spills what does not fit its memory limit (`tieout.db.spill_into`): inside the store, so
# that it is on the disk the store is on and never in a shared /tmp; one folder per process of the run.
SPILL_DIR = "spill"


@contextmanager
def _spilling(project: Project) -> Iterator[Path]:
    """Hold this run's DuckDB memory to its limit, spilling into the store's spill folder, for the block; the
    folder is gone afterwards. Under the run lock: a killed run's spill files are no one else's."""
    folder = project.store_path / SPILL_DIR
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)  # DuckDB makes its own folder in it, but only the last level, when it first spills
    spill_into(folder / str(os.getpid()))
    try:
        yield folder
    except duckdb.OutOfMemoryException as e:
        raise OutOfMemory(
            f"the run needed more memory than its limit ({memory_limit_setting()}): "
            f"{str(e).splitlines()[0]} — set TIEOUT_MEMORY_LIMIT higher (e.g. 4GB); what does not fit the limit "
            f"spills into {folder}") from e
    finally:
        spill_into(None)
        shutil.rmtree(folder, ignore_errors=True)


def _worker(jobs: int, spill: Path, environ: dict[str, str], cwd: str) -> None:
    """Set up a parallel run's worker: the parent's environment and folder as they are now (the fork server
    holds those of its own start), its share of the cores and memory, its own spill folder."""
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)
    share_cores(jobs)
    spill_into(spill / str(os.getpid()))


@contextmanager
def _first_run(project: Project) -> Iterator[None]:
    """Undo a project's first run (serial or parallel) that fails before any day is stored."""
    fresh = not project.store_path.exists()
    try:
        yield
    except BaseException:
        if fresh and not stored_days(project):
            discard_new_store(project)
        raise


def discard_new_store(project: Project) -> None:
    """Undo a project's first run that failed: leave no trace of it, but only of it. The store folder did not
    exist when the run began, so all it holds was made since — by the run, or by a command that wrote the state
    database meanwhile (`tieout correct`, `tieout users add`, the web app: `<store>/state.db` by default). That
    database, with its WAL and journal files, is people's work and stays; the folder goes only if it is empty."""
    folder = project.store_path
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name == SQLITE_FILE or entry.name.startswith(f"{SQLITE_FILE}-"):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass  # the state database is there


@atexit.register
def _reap_fork_server() -> None:
    """At exit, stop the fork server and wait for it. It has waited for its workers, so their CPU time then counts
    in this process's children's (`time`, `getrusage`), as spawned workers' did; else the server, orphaned,
    would take it with it. (`_stop` is private to multiprocessing, there since Python 3.9.)"""
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)
    if stop is not None:
        stop()


def _pool(jobs: int, spill: Path) -> ProcessPoolExecutor:
    """A parallel run's worker processes. They are forked from a server process that has imported tieout and
    done nothing else, started on first use and kept for the process's later runs: not forked from this
    process, which would inherit its threads and locks half-held, nor fresh interpreters, which import
    everything again (about 0.4 s of CPU each: a third of a 4-day demo backfill's CPU with two workers)."""
    context = get_context("forkserver")
    context.set_forkserver_preload(["tieout.run"])
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker,
                               initargs=(jobs, spill, dict(os.environ), os.getcwd()))


def run_days(project: Project, days: list[date], *, rules: dict[str, Rule], jobs: int = 1,
             on_day: Callable[[DayResult], None] | None = None) -> list[DayResult]:
    """Reconcile `days`, storing each in date order and stopping at the first that fails.

    Days are independent (the timeline is derived from the stored days), so with `jobs` > 1 they are
    evaluated in parallel processes; the parent still stores them strictly in order, so a bad day leaves
    exactly the days before it stored — as a one-by-one backfill would.
    """
    from tieout.month_close import refuse_closed

    refuse_closed(project, days)  # before any day: a backfill across a signed month stores nothing
    done = on_day or (lambda result: None)
    results: list[DayResult] = []
    # On Spark, days run one after the other in this process's session: Spark spreads each day over its cores.
    if jobs <= 1 or len(days) < 2 or project.engine == "spark":
        for day in days:
            results.append(run_day(project, day, rules=rules))
            done(results[-1])
        return results
    # A worker cannot know its day's base (the day before may not be stored yet): it stages the day's rows
    # beside the store's data and the parent stores each day from them, in date order, as a serial run does.
    # The staging folder is in the spill folder, which the next run empties: a killed backfill's staged days
    # (all of a day's tables, gigabytes at scale) do not stay behind in /tmp for good.
    with _first_run(project), _spilling(project) as spill, \
            tempfile.TemporaryDirectory(prefix="stage-", dir=spill) as staging, connect() as con, \
            _pool(jobs, spill) as pool:
        try:
            for findings, result in pool.map(partial(_reconcile_staged, project, rules, Path(staging)), days):
                source_history.staged(Path(staging), result.as_of, con)
                commit(project, result.as_of, prepare_history(con, project, result.as_of), findings, rules,
                       result.active)
                for staged_file in Path(staging).glob(f"{result.as_of}.*"):
                    staged_file.unlink()
                results.append(result)
                done(result)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results


def _reconcile_staged(project: Project, rules: dict[str, Rule], staging: Path, as_of: date
                      ) -> tuple[pa.Table, DayResult]:
    return reconcile_day(project, as_of, rules=rules, loaded=partial(source_history.stage_snapshot, staging, as_of))
