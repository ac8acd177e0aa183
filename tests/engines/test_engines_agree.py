"""The shared engine suite: the same days on DuckDB and on Spark (local mode) give identical findings — rule,
entity, record, field, impact to the cent, severity, team, and the rest of each row — from the demo world over a
stretch of days and from the bench generator at 100 k companies. Spark's half runs in one session per worker
(tests/engines/conftest.py), and its demo days are run once (`spark_stretch`) through each front door: the
engine itself, `tieout.run_day(..., spark=session)` and `tieout run` with `engine: spark` — the tests of those
doors (test_spark_engine.py) read the same runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.conftest import built_once, invoke
from tests.engines.conftest import ENGINE_NAMES, spark_yml
from tieout.config import Project, load_project
from tieout.rules.registry import load_rules
from tieout.run import DayResult, reconcile_day
from tieout.store.days import findings_on
from tieout.store.manifest import ActiveCounts

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

BENCH = Path(__file__).resolve().parents[2] / "bench"
DEMO_START = date(2026, 1, 1)
# A stretch of the demo's days: its first week's end, then days on which its planted cases are open. Together
# they fire every rule the demo plants (the stretch test checks it): on Spark a demo day costs seconds, not 0.4 s.
DEMO_DAYS = [date(2026, 1, 7), date(2026, 2, 4), date(2026, 3, 1)]
# Which front door runs each day on Spark (`spark_stretch`).
ENGINE_DAY, API_DAY, CLI_DAY = DEMO_DAYS


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


_REFERENCE: dict[tuple[str, date], tuple[pa.Table, DayResult]] = {}


def duckdb_day(world: Path, day: date) -> tuple[pa.Table, DayResult]:
    """`day` of `world` on DuckDB, computed once per worker: the reference every Spark run is compared with."""
    key = (str(world), day)
    if key not in _REFERENCE:
        _REFERENCE[key] = reconcile_day(load_project(world), day)
    return _REFERENCE[key]


def duckdb_findings(world: Path, day: date) -> pa.Table:
    return duckdb_day(world, day)[0]


@dataclass
class SparkStretch:
    """The demo stretch run on Spark once, a day per front door; what each door gave back, unchecked."""

    findings: dict[date, pa.Table]  # what Spark found (for the API and CLI days: what the store holds)
    active: dict[date, ActiveCounts | None]
    engine_schema: pa.Schema  # the findings table as the engine returns it (ENGINE_DAY)
    api_world: Path  # a copy of the demo whose tieout.yml says duckdb: the session passed decides
    api_result: DayResult
    cli_world: Path  # a copy of the demo with `engine: spark` in its tieout.yml
    cli_exit: int
    cli_output: str


def run_spark_stretch(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> SparkStretch:
    """The `spark_stretch` fixture's work (tests/engines/conftest.py): one Spark run per demo day, each day
    through another door; a door that fails is recorded, not raised, so that its own test says what failed."""
    import tieout

    demo = _demo(tmp_path_factory)
    folder = tmp_path_factory.mktemp("spark-stretch")
    findings, active = {}, {}
    on_spark, result = reconcile_day(on(load_project(demo), "spark"), ENGINE_DAY)
    findings[ENGINE_DAY], active[ENGINE_DAY] = on_spark, result.active

    api_world = folder / "api"
    shutil.copytree(demo, api_world)
    api_result = tieout.run_day(str(api_world), API_DAY.isoformat(), spark=spark)
    findings[API_DAY], active[API_DAY] = findings_on(load_project(api_world), API_DAY), api_result.active

    cli_world = folder / "cli"
    shutil.copytree(demo, cli_world)
    (cli_world / "tieout.yml").write_text((cli_world / "tieout.yml").read_text() + spark_yml())
    cli = invoke("run", "-p", str(cli_world), "--as-of", CLI_DAY.isoformat(), "--format", "json")
    if cli.exit_code == 0:
        findings[CLI_DAY], active[CLI_DAY] = findings_on(load_project(cli_world), CLI_DAY), None
    return SparkStretch(findings, active, on_spark.schema, api_world, api_result, cli_world, cli.exit_code,
                        cli.output)


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_the_demo_stretch_gives_the_same_findings_on_each_engine(engine: str, request: pytest.FixtureRequest,
                                                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    world = _demo(tmp_path_factory)
    if engine == "spark":
        stretch: SparkStretch = request.getfixturevalue("spark_stretch")
        found, active, schema = stretch.findings, stretch.active, stretch.engine_schema
    else:
        project = on(load_project(world), engine)
        rules = load_rules(project)
        days = {day: reconcile_day(project, day, rules=rules) for day in DEMO_DAYS}
        found = {day: findings for day, (findings, _) in days.items()}
        active = {day: result.active for day, (_, result) in days.items()}
        schema = found[ENGINE_DAY].schema
    assert sorted(found) == DEMO_DAYS, f"{engine} ran no findings for some days (see the CLI test)"
    assert schema == duckdb_findings(world, ENGINE_DAY).schema
    fired: set[str] = set()
    for day in DEMO_DAYS:
        expected, reference = duckdb_day(world, day)
        assert _rows(found[day]) == _rows(expected), f"{engine} differs from duckdb on {day}"
        if active[day] is not None:
            assert active[day] == reference.active
        fired |= set(found[day].column("rule").to_pylist())
    # The stretch exercises the rules the demo plants: a comparison of empty tables would prove nothing.
    assert {"CRM_ACTIVE_BILLING_INACTIVE", "OPS_ACTIVE_BILLING_INACTIVE", "FTE_THRESHOLD_DRIFT",
            "OWNED_FIELD_MISMATCH", "DUPLICATE_SOURCE_RECORD", "UNMAPPED_SOURCE_RECORD",
            "AMBIGUOUS_ENTITY_MATCH"} <= fired


def test_bench_100k_agrees(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The issue's size: the bench generator at 100 k companies (about 3.5 M usage rows) on both engines."""
    world = _bench(tmp_path_factory, 100_000)
    day = _bench_day(world)
    findings, result = reconcile_day(on(load_project(world), "spark"), day)
    expected, reference = duckdb_day(world, day)
    assert findings.num_rows > 1000  # about 1 % of companies carry a planted mismatch
    assert findings.schema == expected.schema
    assert _rows(findings) == _rows(expected)
    assert result.active == reference.active
