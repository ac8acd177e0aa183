"""A Parquet file's schema read from its footer (`tieout.engines.spark_schema`) is the one Spark's own inference
gives — for the files DuckDB, pyarrow and Spark itself write — and a read given it runs no Spark job; an engine
drops the views it named without listing the catalog (another job)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tieout.engines import SparkEngine
from tieout.engines.spark_schema import footer_schema
from tieout.sql import literal

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

# Every type a handed-over table holds, and names that need quoting anywhere they go.
_DUCKDB_MAPPED = (
    "SELECT 'a' AS s, 1::INTEGER AS i, 2::BIGINT AS b, 3::SMALLINT AS sm, 4::TINYINT AS ti, true AS bo, "
    "1.5::DOUBLE AS d, 1.5::FLOAT AS f, DATE '2026-01-01' AS dt, 12.34::DECIMAL(18,2) AS dec, "
    "1.2::DECIMAL(38,10) AS dec38, 3::DECIMAL(4,1) AS dec4, TIMESTAMP '2026-01-01 10:00:00' AS ts, "
    "TIMESTAMPTZ '2026-01-01 10:00:00+00' AS tstz, ['x', NULL] AS ls, [1, 2] AS li, [DATE '2026-01-01'] AS ld, "
    "'x' AS \"we ird`name\", 'y' AS \"a'b\", NULL::VARCHAR AS empty, 'a'::ENUM('a', 'b') AS en"
)
# Types Spark infers otherwise than by a plain mapping, or refuses: left to Spark's inference.
_DUCKDB_UNMAPPED = {"unsigned": "5::UBIGINT", "struct": "{'a': 1}", "blob": "'x'::BLOB", "null": "NULL",
                    "unsigned int": "6::UINTEGER"}
_GROUPS = count()


@pytest.fixture
def engine(spark: Any, tmp_path: Path) -> Iterator[Any]:
    made = SparkEngine(spark, staging=tmp_path)
    yield made
    made.close()


def _duckdb_file(path: Path, select: str) -> Path:
    duckdb.connect().execute(f"COPY ({select}) TO {literal(str(path))} (FORMAT parquet)")
    return path


def _inferred(spark: Any, path: Path) -> Any:
    return spark.read.parquet(str(path)).schema


def test_a_file_duckdb_writes_has_the_schema_spark_infers(spark: Any, tmp_path: Path) -> None:
    path = _duckdb_file(tmp_path / "duck.parquet", _DUCKDB_MAPPED)
    schema = footer_schema(path, timestamp_ntz=True)
    assert schema is not None
    assert schema == _inferred(spark, path)
    assert schema["ts"].dataType.simpleString() == "timestamp_ntz"  # the mapping was not all strings
    assert schema["tstz"].dataType.simpleString() == "timestamp"


def test_a_file_pyarrow_writes_has_the_schema_spark_infers(spark: Any, tmp_path: Path) -> None:
    table = pa.table({
        "s": pa.array(["a", None]), "large": pa.array(["a", "b"], pa.large_string()),
        "coded": pa.array(["a", "a"]).dictionary_encode(), "i": pa.array([1, None], pa.int32()),
        "ts": pa.array([datetime(2026, 1, 1), None], pa.timestamp("us")),
        "ms": pa.array([datetime(2026, 1, 1), None], pa.timestamp("ms")),
        "utc": pa.array([datetime(2026, 1, 1), None], pa.timestamp("us", tz="UTC")),
        "d": pa.array([date(2026, 1, 1), None]), "money": pa.array([Decimal("1.20"), None], pa.decimal128(20, 4)),
    })
    required = pa.schema([*table.schema, pa.field("kept", pa.int64(), nullable=False)])
    table = table.append_column("kept", pa.array([1, 2], pa.int64())).cast(required)
    pq.write_table(table, tmp_path / "arrow.parquet")
    assert footer_schema(tmp_path / "arrow.parquet", timestamp_ntz=True) == _inferred(spark, tmp_path / "arrow.parquet")


def test_a_folder_spark_writes_has_the_schema_spark_infers(spark: Any, tmp_path: Path) -> None:
    source = _duckdb_file(tmp_path / "duck.parquet", _DUCKDB_MAPPED)
    # Spark writes a zoned timestamp as INT96 (its default), which pyarrow reads as nanoseconds: not mapped.
    spark.read.parquet(str(source)).write.parquet(str(tmp_path / "int96"))
    assert footer_schema(tmp_path / "int96", timestamp_ntz=True) is None
    spark.read.parquet(str(source)).drop("tstz").write.parquet(str(tmp_path / "parts"))
    assert footer_schema(tmp_path / "parts", timestamp_ntz=True) == _inferred(spark, tmp_path / "parts")


@pytest.mark.parametrize("kind", sorted(_DUCKDB_UNMAPPED))
def test_a_type_not_mapped_is_left_to_sparks_inference(kind: str, tmp_path: Path) -> None:
    path = _duckdb_file(tmp_path / "odd.parquet", f"SELECT 'a' AS s, {_DUCKDB_UNMAPPED[kind]} AS odd")
    assert footer_schema(path, timestamp_ntz=True) is None


def test_a_timestamp_without_zone_is_inferred_by_spark_when_the_session_reads_it_otherwise(tmp_path: Path) -> None:
    path = _duckdb_file(tmp_path / "ts.parquet", "SELECT TIMESTAMP '2026-01-01 10:00:00' AS ts")
    assert footer_schema(path, timestamp_ntz=False) is None


def test_a_folder_with_no_part_is_left_to_sparks_inference(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert footer_schema(tmp_path / "empty", timestamp_ntz=True) is None
    assert footer_schema(tmp_path / "missing-folder", timestamp_ntz=True) is None


def _jobs_of(spark: Any, read: Any) -> int:
    """How many Spark jobs `read()` started (a job group of its own: the tracker keeps a group's old jobs)."""
    group = f"tieout-schema-probe-{next(_GROUPS)}"
    spark.sparkContext.setJobGroup(group, "a Parquet read", interruptOnCancel=False)
    try:
        read()
        return len(spark.sparkContext.statusTracker().getJobIdsForGroup(group))
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)


def test_a_read_given_the_footers_schema_runs_no_job(engine: Any, spark: Any, tmp_path: Path) -> None:
    path = _duckdb_file(tmp_path / "duck.parquet", _DUCKDB_MAPPED)
    before = _jobs_of(spark, lambda: spark.read.parquet(str(path)))
    assert before >= 1  # Spark's inference: a job to read the footer
    assert _jobs_of(engine.spark, lambda: engine.read_parquet("t", path)) == 0
    assert engine.read_table("t").to_pylist() == pq.read_table(path).to_pylist()


def test_closing_an_engine_drops_every_view_it_named(spark: Any, tmp_path: Path) -> None:
    engine = SparkEngine(spark, staging=tmp_path)
    engine.write_table("handed", pa.table({"a": [1]}))
    engine.execute("CREATE TABLE kept AS SELECT a FROM handed")
    engine.execute("CREATE VIEW seen AS SELECT a FROM kept")
    engine.execute("DROP VIEW seen")
    assert {t.name for t in engine.spark.catalog.listTables() if t.isTemporary} == {"handed", "kept"}
    engine.close()
    assert [t.name for t in engine.spark.catalog.listTables() if t.isTemporary] == []
