"""The Spark engine on its own and through the front doors: exact money, its lockdown, one SELECT per rule,
`engine: spark` in tieout.yml, a rule Spark cannot run refused before the run, `tieout run` on Spark and
`tieout.run_day(..., spark=session)`."""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.conftest import invoke
from tests.engines.conftest import SPARK_CONF, spark_yml
from tests.engines.test_engines_agree import API_DAY, CLI_DAY, SparkStretch, _demo, duckdb_findings
from tieout.config import load_project
from tieout.engines import DuckDBEngine, EngineError, NotOneStatement, SparkEngine
from tieout.errors import ConfigError
from tieout.store.days import findings_on

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]


@pytest.fixture
def engine(spark: Any, tmp_path: Path) -> Any:
    made = SparkEngine(spark, staging=tmp_path)
    yield made
    made.close()


# (x, y): money and FTEs as the rules divide them, with halves and negatives where rounding could go wrong
_DIVISIONS = [("1.00", "3.00"), ("2.00", "3.00"), ("0.0001", "2.0"), ("-7.0000", "2.0000"), ("12345.6789", "7.5"),
              ("99999999.9999", "0.0003"), ("1.5", "-4")]


def test_tieout_div_is_exact_and_rounds_as_duckdb_does(engine: Any) -> None:
    values = ", ".join(f"tieout_div(CAST({x} AS DECIMAL(20, 4)), CAST({y} AS DECIMAL(20, 4)))" for x, y in _DIVISIONS)
    on_spark = engine.rows(f"SELECT {values}")[0]
    duck = DuckDBEngine.open()
    duck.install()
    assert on_spark == duck.rows(f"SELECT {values}")[0]
    assert on_spark[:3] == (Decimal("0.3333"), Decimal("0.6667"), Decimal("0.0001"))
    assert all(isinstance(v, Decimal) for v in on_spark)


def test_money_keeps_its_precision_and_scale_through_spark(engine: Any) -> None:
    data = pa.table({"id": ["a", "b", "c"],
                     "amount": pa.array([Decimal("1234567890123456.1234"), Decimal("-0.0001"), None],
                                        pa.decimal128(20, 4))})
    engine.write_table("money", data)
    engine.execute("CREATE OR REPLACE TABLE doubled AS SELECT id, CAST(amount * 2 AS DECIMAL(20, 4)) AS amount "
                   "FROM money")
    assert engine.read_table("money").equals(data)
    back = engine.read_table("doubled")
    assert back.schema.field("amount").type == pa.decimal128(20, 4)
    assert back.column("amount").to_pylist() == [Decimal("2469135780246912.2468"), Decimal("-0.0002"), None]


def test_arg_min_and_arg_max_skip_a_null_value_as_duckdb_does(engine: Any) -> None:
    """A rule's `arg_min(v, k)`/`arg_max(v, k)`: DuckDB skips rows whose `v` is NULL (Spark's `min_by` would take
    them), and rows whose `k` is NULL; each group's orderings are distinct, so the answer is one value."""
    rng = random.Random(17)
    rows = [(f"g{rng.randint(0, 30)}", None if rng.random() < 0.3 else f"v{i}",
             None if rng.random() < 0.1 else rng.randint(-50, 50) * 1000 + i) for i in range(600)]
    data = pa.table({"g": [r[0] for r in rows], "v": [r[1] for r in rows], "k": pa.array([r[2] for r in rows],
                                                                                       pa.int64())})
    sql = ("SELECT g, arg_min(v, k) AS lo, arg_max(v, k) AS hi, arg_min(v, k) FILTER (WHERE k > 0) AS lo_pos "
           "FROM drawn GROUP BY g ORDER BY g")
    duck = DuckDBEngine.open()
    duck.write_table("drawn", data)
    engine.write_table("drawn", data)
    expected = duck.rows(sql)
    assert engine.rows(sql) == expected
    # the NULL values were there to be taken: Spark's own min_by takes some of them
    raw = engine.spark.sql("SELECT g, min_by(v, k) AS lo FROM drawn GROUP BY g ORDER BY g").collect()
    assert [r["lo"] for r in raw] != [e[1] for e in expected]


def test_a_rule_is_exactly_one_select(engine: Any) -> None:
    engine.execute("CREATE OR REPLACE TABLE keep AS SELECT 1 AS x")
    with pytest.raises(NotOneStatement, match="it holds 2 statements"):
        engine.select_into("out", "SELECT 1 AS x; DROP TABLE keep")
    for statement in ("SET spark.sql.runSQLOnFiles = true", "CREATE TABLE t AS SELECT 1 AS x", "DROP TABLE keep"):
        with pytest.raises(EngineError):
            engine.select_into("out", statement)
    assert engine.rows("SELECT x FROM keep") == [(1,)]
    engine.select_into("out", "SELECT $n + 1 AS x", {"n": 41})
    assert engine.rows("SELECT x FROM out") == [(42,)]


def test_the_lockdown_closes_reading_files_by_path(engine: Any, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "secret.parquet"
    pq.write_table(pa.table({"x": [1]}), path)
    sql = f'SELECT * FROM parquet."{path}"'
    assert engine.rows(sql) == [(1,)]  # Spark reads a file named in SQL until the lockdown
    engine.lock_down()
    with pytest.raises(EngineError):
        engine.select_into("out", sql)


def test_engine_spark_is_a_setting_of_tieout_yml(project: Path) -> None:
    assert load_project(project).engine == "duckdb"
    yml = project / "tieout.yml"
    base = yml.read_text()
    yml.write_text(base + spark_yml())
    loaded = load_project(project)
    assert (loaded.engine, loaded.spark.master, loaded.spark.conf["spark.sql.shuffle.partitions"]) == (
        "spark", "local[2]", SPARK_CONF["spark.sql.shuffle.partitions"])
    for bad, named in (("engine: oracle\n", "engine"), ("spark: {master: ''}\n", "spark.master"),
                       ("spark: {conf: {shuffle.partitions: 4}}\n", "not a Spark configuration key")):
        yml.write_text(base + bad)
        result = invoke("run", "-p", str(project), "--as-of", "2026-01-20")
        assert result.exit_code == 3 and named in result.output, result.output


def test_spark_without_pyspark_says_how_to_install_it(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "tieout.yml").write_text((project / "tieout.yml").read_text() + "engine: spark\n")
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if not installed
    result = invoke("run", "-p", str(project), "--as-of", "2026-01-20")
    assert result.exit_code == 3
    assert "pip install 'tieout[spark]'" in result.output
    assert not (project / ".tieout").exists()


def test_a_rule_spark_cannot_run_is_refused_before_the_run(project: Path, spark: Any) -> None:
    (project / "tieout.yml").write_text((project / "tieout.yml").read_text() + spark_yml())
    (project / "rules").mkdir()
    (project / "rules" / "ALL_GROUPS.sql").write_text("SELECT canonical_id, 0 AS impact FROM entities GROUP BY ALL\n")
    (project / "rules" / "ALL_GROUPS.yml").write_text("description: every entity\n")
    result = invoke("run", "-p", str(project), "--as-of", "2026-01-20")
    assert result.exit_code == 3, result.output
    assert "rule ALL_GROUPS" in result.output and "spark engine" in result.output
    assert "GROUP BY ALL" in result.output
    assert not (project / ".tieout").exists()  # refused before anything was read or stored


def test_tieout_run_on_spark_stores_the_duckdb_findings(spark_stretch: SparkStretch,
                                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    # `tieout run` with `engine: spark` in tieout.yml ran CLI_DAY of the shared stretch (tests/engines/conftest.py).
    world = spark_stretch.cli_world
    assert spark_stretch.cli_exit == 0, spark_stretch.cli_output
    stored = findings_on(load_project(world), CLI_DAY)
    assert stored.num_rows > 0
    assert stored.to_pylist() == duckdb_findings(_demo(tmp_path_factory), CLI_DAY).to_pylist()
    queue = invoke("exceptions", "-p", str(world), "--format", "json")
    assert queue.exit_code == 0 and '"rule"' in queue.output  # the queue reads what Spark found


def test_the_python_api_runs_a_day_in_the_session_it_is_given(spark: Any, spark_stretch: SparkStretch,
                                                               tmp_path_factory: pytest.TempPathFactory,
                                                               tmp_path: Path) -> None:
    import tieout

    # tieout.run_day(world, API_DAY, spark=spark) ran in the shared stretch; its world's tieout.yml says duckdb.
    assert load_project(spark_stretch.api_world).engine == "duckdb"
    result = spark_stretch.api_result
    expected = duckdb_findings(_demo(tmp_path_factory), API_DAY)
    assert result.as_of == API_DAY and result.findings == expected.num_rows
    assert findings_on(load_project(spark_stretch.api_world), API_DAY).to_pylist() == expected.to_pylist()
    assert spark.sql("SELECT 1").collect()[0][0] == 1  # the job's session is left running
    with pytest.raises(ConfigError):
        tieout.run_day(tmp_path / "nowhere", API_DAY, spark=spark)


def test_a_jobs_tuning_reaches_the_engines_session_and_its_other_settings_do_not(spark: Any,
                                                                                 tmp_path: Path) -> None:
    """`newSession()` starts from the SparkContext's configuration: a job's `spark.conf.set` of how to split the
    work is carried into the engine's session; a setting that could change an answer is not, and the job's
    session keeps all of its own."""
    job = spark.newSession()  # the job's session (the shared one stays as the other tests expect it)
    set_by_job = {"spark.sql.shuffle.partitions": "3", "spark.sql.autoBroadcastJoinThreshold": "1234",
                  "spark.sql.ansi.enabled": "true", "spark.sql.session.timeZone": "America/New_York",
                  "spark.sql.caseSensitive": "true"}
    for key, value in set_by_job.items():
        job.conf.set(key, value)
    made = SparkEngine(job, staging=tmp_path)
    try:
        own = made.spark.conf
        assert own.get("spark.sql.shuffle.partitions") == "3"
        assert own.get("spark.sql.autoBroadcastJoinThreshold") == "1234"
        assert own.get("spark.sql.ansi.enabled") == "false"
        assert own.get("spark.sql.session.timeZone") == "UTC"
        assert own.get("spark.sql.caseSensitive") == "false"
        # and the work is split as the job said: three partitions after a shuffle (no adaptive coalescing)
        grouped = made.spark.sql("SELECT id % 5 AS k, count(*) AS n FROM range(20) GROUP BY id % 5")
        assert grouped.rdd.getNumPartitions() == 3
    finally:
        made.close()
    assert {key: job.conf.get(key) for key in set_by_job} == set_by_job


def test_the_names_pyspark_reaches_through_the_jvm_view_are_kept_on_it(engine: Any, spark: Any,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """py4j answers every look through the JVM view with a round trip, a short name first looked up as a class
    of its own (a search of all Spark's jars): an engine keeps the names every column expression reaches on the
    view, so PySpark's next look makes no round trip (docs/spark.md, "Cost") — and finds the class py4j finds."""
    from py4j.java_gateway import JavaPackage, JVMView

    from tieout.engines.spark import _JVM_PATHS, _JVM_SHORT_NAMES

    jvm = spark.sparkContext._jvm
    sent: list[str] = []
    send = jvm._gateway_client.send_command
    monkeypatch.setattr(jvm._gateway_client, "send_command", lambda command, *a, **k: sent.append(command)
                        or send(command, *a, **k))
    held = {short: getattr(jvm, short) for short in _JVM_SHORT_NAMES}
    for path in _JVM_PATHS:
        node = jvm
        for name in path.split("."):
            node = getattr(node, name)
        held[path] = node
    assert sent == []  # every look answered on the Python side
    for short, full in _JVM_SHORT_NAMES.items():
        assert held[short]._fqn == JVMView.__getattr__(jvm, short)._fqn == full  # py4j's own look agrees
    for path in _JVM_PATHS:
        package, name = path.rsplit(".", 1)
        assert held[path]._fqn == JavaPackage.__getattr__(JavaPackage(package, jvm._gateway_client, jvm._id),
                                                          name)._fqn == path
    assert len(sent) == len(_JVM_SHORT_NAMES) + len(_JVM_PATHS)
