"""One as-of day end to end: read the exports, resolve entities, build the canonical tables, run the
rules, store the day. Nothing is written unless every step before the write succeeded.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

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


def run_day(project: Project, as_of: date, *, rules: dict[str, Rule] | None = None, stage: Stage = _quiet
            ) -> DayResult:
    """Reconcile `as_of` and store its findings; nothing is written unless every stage succeeded."""
    started = time.perf_counter()
    con, records = evaluate_day(project, as_of, rules=rules, stage=stage)
    stage("storing the day")
    findings: pa.Table = con.sql("SELECT * FROM findings").to_arrow_table()
    write_day(findings, project, as_of)
    severities = Counter(findings.column("severity").to_pylist())
    per_rule = Counter(findings.column("rule").to_pylist())
    con.close()
    return DayResult(
        as_of=as_of,
        records=records,
        findings=findings.num_rows,
        by_severity=dict(severities),
        by_rule=dict(sorted(per_rule.items())),
        seconds=time.perf_counter() - started,
    )
