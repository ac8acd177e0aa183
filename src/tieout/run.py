"""One as-of day end to end: read the exports, resolve entities, build the canonical tables, run the
rules, store the day. Nothing is written unless every step before the write succeeded.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from multiprocessing import get_context

import duckdb
import pyarrow as pa

from tieout import canonical
from tieout.config import Project
from tieout.db import connect
from tieout.entities import install_normalisers, load_entity_map, resolve
from tieout.evaluate import evaluate
from tieout.rules.registry import Rule, load_rules
from tieout.sources.standard import read_day
from tieout.store import write_day


@dataclass
class DayResult:
    as_of: date
    records: dict[str, int]
    findings: int
    by_severity: dict[str, int] = field(default_factory=dict)
    by_rule: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# Told the name of each stage as it starts, for a person watching a long run.
Stage = Callable[[str], None]


def _quiet(stage: str) -> None:
    del stage


def resolve_day(project: Project, as_of: date, *, stage: Stage = _quiet
                ) -> tuple[duckdb.DuckDBPyConnection, dict[str, int]]:
    """Load `as_of`'s exports and resolve every source record to its canonical entity."""
    con = connect()
    stage("reading exports")
    records = read_day(con, project.export_dir(as_of))
    load_entity_map(con, project.entity_map_path)
    install_normalisers(con)
    stage("resolving entities")
    resolve(con, as_of)
    return con, records


def evaluate_day(project: Project, as_of: date, *, rules: dict[str, Rule] | None = None, stage: Stage = _quiet
                 ) -> tuple[duckdb.DuckDBPyConnection, dict[str, int]]:
    """Load and evaluate `as_of` in a fresh in-memory DuckDB; return it with its `findings` table."""
    rules = load_rules(project) if rules is None else rules
    con, records = resolve_day(project, as_of, stage=stage)
    stage("building canonical tables")
    canonical.build(con, project, as_of)
    # From here on only rule SQL runs: no file, URL or setting may be reached from it.
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    stage("running rules")
    evaluate(con, project, rules, as_of)
    return con, records


def reconcile_day(project: Project, as_of: date, *, rules: dict[str, Rule] | None = None, stage: Stage = _quiet
                  ) -> tuple[pa.Table, DayResult]:
    """Evaluate `as_of` without storing it: its findings and their summary."""
    started = time.perf_counter()
    con, records = evaluate_day(project, as_of, rules=rules, stage=stage)
    findings: pa.Table = con.sql("SELECT * FROM findings").to_arrow_table()
    con.close()
    severities = Counter(findings.column("severity").to_pylist())
    per_rule = Counter(findings.column("rule").to_pylist())
    return findings, DayResult(
        as_of=as_of,
        records=records,
        findings=findings.num_rows,
        by_severity=dict(severities),
        by_rule=dict(sorted(per_rule.items())),
        seconds=time.perf_counter() - started,
    )


def run_day(project: Project, as_of: date, *, rules: dict[str, Rule] | None = None, stage: Stage = _quiet
            ) -> DayResult:
    """Reconcile `as_of` and store its findings; nothing is written unless every stage succeeded."""
    findings, result = reconcile_day(project, as_of, rules=rules, stage=stage)
    stage("storing the day")
    write_day(findings, project, as_of)
    return result


def run_days(project: Project, days: list[date], *, rules: dict[str, Rule], jobs: int = 1,
             on_day: Callable[[DayResult], None] | None = None) -> list[DayResult]:
    """Reconcile `days`, storing each in date order and stopping at the first that fails.

    Days are independent (the timeline is derived from the stored days), so with `jobs` > 1 they are
    evaluated in parallel processes; the parent still stores them strictly in order, so a bad day leaves
    exactly the days before it stored — as a one-by-one backfill would.
    """
    done = on_day or (lambda result: None)
    results: list[DayResult] = []
    if jobs <= 1 or len(days) < 2:
        for day in days:
            results.append(run_day(project, day, rules=rules))
            done(results[-1])
        return results
    # spawn, not fork: a forked child would inherit the parent's threads and locks half-held.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        try:
            for findings, result in pool.map(partial(reconcile_day, project, rules=rules), days):
                write_day(findings, project, result.as_of)
                results.append(result)
                done(result)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results
