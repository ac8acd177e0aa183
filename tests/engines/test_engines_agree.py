"""The shared engine suite: the same days on DuckDB and on Spark (local mode) give identical findings — rule,
entity, record, field, impact to the cent, severity, team, and the rest of each row — from the demo world over a
stretch of days and from the bench generator. Spark's half runs in one session per worker (tests/engines/conftest.py).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.conftest import built_once
from tests.engines.conftest import ENGINE_NAMES, spark_yml
from tieout.config import Project, load_project
from tieout.rules.registry import load_rules
from tieout.run import reconcile_day

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

BENCH = Path(__file__).resolve().parents[2] / "bench"
DEMO_START = date(2026, 1, 1)
# A stretch of the demo's days: its first week's end, then days on which its planted cases are open.
DEMO_DAYS = [date(2026, 1, 7), date(2026, 1, 21), date(2026, 2, 4), date(2026, 2, 18), date(2026, 3, 1)]
BENCH_COMPANIES = 3000  # always on; the 100 k is `test_bench_100k_agrees` below


def _demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tieout.demo import MIN_COMPANIES, generate_world

    return built_once(tmp_path_factory, "engines-demo",
                      lambda folder: generate_world(folder, companies=MIN_COMPANIES, days=60, start=DEMO_START))


def _bench(tmp_path_factory: pytest.TempPathFactory, companies: int) -> Path:
    def build(folder: Path) -> None:
        subprocess.run([sys.executable, str(BENCH / "generate.py"), str(folder), "--companies", str(companies)],
                       check=True, capture_output=True)

    return built_once(tmp_path_factory, f"engines-bench-{companies}", build)


def _bench_day(world: Path) -> date:
    return date.fromisoformat(next((world / "exports").iterdir()).name)


def on(project: Project, engine: str) -> Project:
    """`project` set to run on `engine` (Spark with the tests' small settings)."""
    if engine == "duckdb":
        return project.model_copy(update={"engine": "duckdb"})
    import yaml

    settings = yaml.safe_load(spark_yml())
    return project.model_copy(update={"engine": "spark",
                                      "spark": project.spark.model_validate(settings["spark"])})


def _rows(findings: pa.Table) -> list[dict[str, Any]]:
    return findings.to_pylist()


_REFERENCE: dict[tuple[str, date], pa.Table] = {}


def duckdb_findings(world: Path, day: date) -> pa.Table:
    key = (str(world), day)
    if key not in _REFERENCE:
        _REFERENCE[key] = reconcile_day(load_project(world), day)[0]
    return _REFERENCE[key]


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_the_demo_stretch_gives_the_same_findings_on_each_engine(engine: str, spark: Any,
                                                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    world = _demo(tmp_path_factory)
    project = on(load_project(world), engine)
    rules = load_rules(project)
    fired: set[str] = set()
    for day in DEMO_DAYS:
        findings, result = reconcile_day(project, day, rules=rules)
        expected = duckdb_findings(world, day)
        assert findings.schema == expected.schema
        assert _rows(findings) == _rows(expected), f"{engine} differs from duckdb on {day}"
        assert result.active == reconcile_day(load_project(world), day, rules=rules)[1].active
        fired |= set(findings.column("rule").to_pylist())
    # The stretch exercises the rules the demo plants: a comparison of empty tables would prove nothing.
    assert {"CRM_ACTIVE_BILLING_INACTIVE", "OPS_ACTIVE_BILLING_INACTIVE", "FTE_THRESHOLD_DRIFT",
            "OWNED_FIELD_MISMATCH", "DUPLICATE_SOURCE_RECORD", "UNMAPPED_SOURCE_RECORD",
            "AMBIGUOUS_ENTITY_MATCH"} <= fired


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_the_bench_day_gives_the_same_findings_on_each_engine(engine: str, spark: Any,
                                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    world = _bench(tmp_path_factory, BENCH_COMPANIES)
    day = _bench_day(world)
    findings, _ = reconcile_day(on(load_project(world), engine), day)
    expected = duckdb_findings(world, day)
    assert findings.num_rows > BENCH_COMPANIES // 100  # about 1 % of companies carry a planted mismatch
    assert _rows(findings) == _rows(expected)


def test_bench_100k_agrees(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The issue's size: 100 k companies (about 3.5 M usage rows) on both engines."""
    world = _bench(tmp_path_factory, 100_000)
    day = _bench_day(world)
    findings, _ = reconcile_day(on(load_project(world), "spark"), day)
    expected = duckdb_findings(world, day)
    assert findings.num_rows > 1000
    assert _rows(findings) == _rows(expected)
