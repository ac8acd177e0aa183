"""Apache Spark as an engine (`engine: spark`, docs/spark.md): the canonical tables and the rules as Spark SQL.

SQL is written once, in DuckDB's dialect, and transpiled with sqlglot (`tieout.engines.spark_sql`, cached per
text). Tables are Spark temporary views of one session of the engine's own (`SparkSession.newSession()`: the
views and settings of a session a job passes in are never touched, and only its tuning is carried over,
`TUNING_CONF`); a `CREATE TABLE ... AS` is a cached DataFrame, a `CREATE VIEW` a plain one, and since a view
cannot be inserted into, an `INSERT` makes the view the union of what it held and the new rows. Money stays
DECIMAL end to end: Parquet into Spark, Arrow out of it.

What it installs: `tieout_div` and `tieout_normalise` are rewritten into Spark SQL at transpile time (never a
Python UDF); the normalised form of names, tax ids and domains comes from DuckDB's normalisers through a lookup
table (`provide_normalise_keys`), and so do entity resolution's natural keys (`natural_keys`: the few values
resolution asks about are collected, keyed by a DuckDB engine on the driver and handed back).

Its lockdown: Spark cannot lock its configuration as DuckDB does, so rule SQL is refused unless it is exactly
one SELECT (sqlglot reads it before Spark sees it: no SET, no CREATE, no ADD JAR), reading files by path from
SQL (`SELECT * FROM parquet.`/x``) is switched off, and a rule may only read the canonical views (the safety
check, before transpiling). What Spark itself may reach — its file systems, its credentials — is the session's.

PySpark is imported only when a session is made, sqlglot only when SQL is transpiled: tieout imports without
either (a command that only reads the store never loads them).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tieout.engines.base import Engine, EngineError, NotOneStatement
from tieout.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from tieout.config import Project
    from tieout.engines.duckdb import DuckDBEngine

INSTALL_HINT = "pip install 'tieout[spark]'"
_SESSION_CONF = {"spark.sql.session.timeZone": "UTC", "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
                 "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED"}
# The settings of a job's session that say how Spark spreads, joins and caches the work, never what it computes:
# carried into the engine's own session, which `newSession()` starts from the SparkContext's configuration (so a
# job's `spark.conf.set("spark.sql.shuffle.partitions", ...)` would otherwise not reach tieout's work). Settings
# that can change an answer (ANSI mode, case sensitivity, the parser's escapes, the time zone) stay the engine's:
# the findings are DuckDB's on any session.
TUNING_CONF = (
    "spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled", "spark.sql.adaptive.coalescePartitions.enabled",
    "spark.sql.adaptive.advisoryPartitionSizeInBytes", "spark.sql.adaptive.skewJoin.enabled",
    "spark.sql.autoBroadcastJoinThreshold", "spark.sql.broadcastTimeout", "spark.sql.files.maxPartitionBytes",
    "spark.sql.files.openCostInBytes", "spark.sql.codegen.wholeStage", "spark.sql.parquet.compression.codec",
    "spark.sql.inMemoryColumnarStorage.batchSize",
)
_HANDED_OVER = count()
# The log4j2 configuration of a session tieout starts: Spark's start-up warnings are not the run's output.
LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")
_JAVA_OPTIONS = "spark.driver.extraJavaOptions"
# The JVM classes PySpark reaches through the gateway's JVM view: by their short names for every column
# expression (`functions`: each F.col, F.lit, F.when...; `PythonUtils`: every list of columns; `Column`,
# `SparkSession`, `SparkSession$`), by their paths for each Java exception converted (`py4j.reflection.TypeUtil`,
# `org.apache.spark.util.Utils`) and each observed total (`org.apache.spark.sql.Observation`). py4j answers each
# look with a round trip, and looks a short name up as a class of its own before it reads the imports: a miss
# that searches all of Spark's ~250 jars (`functions` is found at the seventh look). An engine resolves each once
# by its full name and keeps it on the view (`_remember`), so PySpark's next look is a Python attribute: the same
# class, no round trip (docs/spark.md, "Cost").
_JVM_SHORT_NAMES = {"functions": "org.apache.spark.sql.functions",
                    "PythonUtils": "org.apache.spark.api.python.PythonUtils",
                    "Column": "org.apache.spark.sql.Column", "SparkSession": "org.apache.spark.sql.SparkSession",
                    "SparkSession$": "org.apache.spark.sql.SparkSession$"}
_JVM_PATHS = ("py4j.reflection.TypeUtil", "org.apache.spark.util.Utils", "org.apache.spark.sql.Observation")


def require_pyspark() -> None:
    """Refuse `engine: spark` where PySpark is not installed, saying how to install it."""
    try:
        import pyspark  # noqa: F401
    except ImportError as e:
        raise ConfigError(f"engine: spark needs Apache Spark's Python package: {INSTALL_HINT}") from e


def _remember(jvm: Any) -> None:
    """Keep `_JVM_SHORT_NAMES` and `_JVM_PATHS` on the gateway's JVM view (a py4j `JVMView`, PySpark's
    `SparkContext._jvm`), each resolved once by its full name. Packages are plain names to py4j (no object in the
    JVM, nothing to collect), so the view and its packages hold them as attributes; a name already held is kept."""
    from py4j.java_gateway import JavaPackage

    for short, full in _JVM_SHORT_NAMES.items():
        if short not in vars(jvm):
            setattr(jvm, short, getattr(jvm, full))
    for path in _JVM_PATHS:
        *packages, name = path.split(".")
        node = jvm
        for depth, package in enumerate(packages, start=1):
            if package not in vars(node):
                setattr(node, package, JavaPackage(".".join(packages[:depth]), jvm._gateway_client, jvm._id))
            node = vars(node)[package]
        if name not in vars(node):
            setattr(node, name, getattr(node, name))


def session_for(project: Project) -> SparkSession:
    """The Spark session `project`'s `spark:` settings describe (the process's one, made on first use: a JVM
    takes seconds to start, and a backfill runs many days)."""
    require_pyspark()
    from pyspark.sql import SparkSession

    # Spark starts Python workers with `python3` from PATH unless told: never another interpreter than this one
    # (PySpark refuses a worker of another Python version).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("tieout").master(project.spark.master)
    # The day's dates are calendar dates; timestamps are kept in UTC, as the store keeps them.
    builder = builder.config("spark.sql.session.timeZone", "UTC").config("spark.ui.showConsoleProgress", "false")
    for key, value in session_conf(project.spark.conf).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")  # Spark's own warnings are not the run's output
    return session


def session_conf(conf: Mapping[str, str | int | float | bool]) -> dict[str, str]:
    """A project's `spark.conf` as the session builder takes it, the JVM told to log with `LOG_CONFIG` unless
    the user's own Java options name a log4j2 configuration."""
    out = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in conf.items()}
    java = out.get(_JAVA_OPTIONS, "")
    if "-Dlog4j2.configurationFile=" not in java:
        out[_JAVA_OPTIONS] = f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()} {java}".strip()
    return out


class SparkEngine(Engine):
    name: ClassVar[str] = "spark"
    dialect: ClassVar[str] = "spark"
    functions: ClassVar[Mapping[str, str]] = {
        "tieout_div": "exact division of money: x / y rounded half up to four decimals (whole ten-thousandths)",
        "tieout_normalise": "a registry field's value in the form two systems are compared in (names, tax ids "
                            "and domains by DuckDB's normalisers, through a lookup table)",
    }

    def __init__(self, session: SparkSession, *, staging: Path) -> None:
        _remember(session.sparkContext._jvm)
        # Its own session: temporary views and settings apart from the caller's, one SparkContext shared; the
        # caller's tuning carried over.
        self.spark = session.newSession()
        for key in TUNING_CONF:
            value = session.conf.get(key, None)
            if value is not None:
                self.spark.conf.set(key, value)
        # Timestamps are UTC wall time, as the store keeps them (the exports read on Spark are typed so,
        # `tieout.sources.spark_read`); dates of any year are written and read as they are (no calendar rebase).
        for key, value in _SESSION_CONF.items():
            self.spark.conf.set(key, value)
        self.staging = staging
        self.cached: dict[str, DataFrame] = {}
        self.views: set[str] = set()  # every temporary view it named (its session's catalog holds no other)
        self._normaliser: DuckDBEngine | None = None  # opened when resolution first asks for natural keys

    @classmethod
    def open(cls, project: Project, *, session: SparkSession | None = None) -> SparkEngine:
        """An engine for one day on `session` (else the project's own); tables are handed over through a staging
        folder inside the store."""
        require_pyspark()
        session = session if session is not None else session_for(project)
        project.store_path.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="spark-staging-", dir=project.store_path))
        return cls(session, staging=staging)

    # -- statements ---------------------------------------------------------------------------------------------

    def _df(self, sql: str, params: Any = None) -> DataFrame:
        from pyspark.errors import PySparkException

        try:
            return self.spark.sql(sql, args=dict(params) if params else None)
        except PySparkException as e:
            raise EngineError(str(e).splitlines()[0] if str(e) else repr(e)) from e

    def _query(self, sql: str, params: Any = None) -> DataFrame:
        from tieout.engines.spark_sql import NotOnSpark, to_spark

        try:
            return self._df(to_spark(sql), params)
        except NotOnSpark as e:
            raise EngineError(f"cannot run on spark: {e}") from e

    def _view(self, table: str, df: DataFrame, *, cache: bool) -> None:
        """Name `df` `table`; `cache`: computed now and kept on the executors (a local checkpoint), so whatever
        reads it later plans a scan of it, not the whole lineage again — Spark's planning of a day's nested
        views otherwise costs more than running them."""
        old = self.cached.pop(table, None)
        if cache:
            df = df.localCheckpoint(eager=True)
            self.cached[table] = df
        df.createOrReplaceTempView(table)
        self.views.add(table)
        if old is not None:
            old.unpersist()

    def execute(self, sql: str, params: Any = None) -> None:
        """The statements the run's own SQL uses, as Spark views: CREATE [OR REPLACE] [TEMP] TABLE|VIEW ... AS,
        CREATE TABLE with columns (empty), INSERT INTO ... SELECT, DROP TABLE|VIEW."""
        from tieout.engines.spark_sql import NotOnSpark, statement

        try:
            done = statement(sql)
        except NotOnSpark as e:
            raise EngineError(str(e)) from e
        if done.action in ("table", "view"):
            self._view(done.name, self._df(done.sql, params), cache=done.action == "table")
        elif done.action == "empty":
            # From an RDD of no partitions: a local list would be evaluated by Python worker processes.
            empty = self.spark.sparkContext.emptyRDD()
            self._view(done.name, self.spark.createDataFrame(empty, schema=done.sql), cache=False)
        elif done.action == "insert":
            added = self._df(done.sql, params)
            self._view(done.name, self.spark.table(done.name).union(added), cache=done.name in self.cached)
        else:
            self.cached.pop(done.name, None)
            self.views.discard(done.name)
            self.spark.catalog.dropTempView(done.name)

    def rows(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._query(sql, params).collect()]

    def columns(self, table: str) -> list[str]:
        return list(self.spark.table(table).columns)

    def select_into(self, table: str, select: str, params: Any = None) -> None:
        from tieout.engines.spark_sql import NotOneSelect, NotOnSpark, one_select

        try:
            sql = one_select(select)
        except NotOneSelect as e:
            raise NotOneStatement(e.count) from e
        except NotOnSpark as e:
            raise EngineError(f"cannot run on spark: {e}") from e
        self._view(table, self._df(sql, params), cache=False)

    # -- tables in and out --------------------------------------------------------------------------------------

    def read_table(self, table: str) -> pa.Table:
        """The rows as Arrow, collected on the driver: DECIMAL stays decimal128 with its precision and scale."""
        import pyarrow as pa
        from pyspark.sql.pandas.types import to_arrow_schema

        df = self.spark.table(table)
        # Every column nullable, as DuckDB gives them: Spark's NOT NULL is what it could prove of one query.
        schema = pa.schema([f.with_nullable(True) for f in to_arrow_schema(df.schema)])
        return pa.Table.from_batches([b.cast(schema) for b in df._collect_as_arrow()], schema=schema)

    def write_table(self, table: str, data: pa.Table) -> None:
        import pyarrow.parquet as pq

        path = self.staged(f"{table}.parquet")
        pq.write_table(data, path)
        self.read_parquet(table, path)

    def write_parquet(self, table: str, path: Path) -> None:
        """A Parquet file written on the driver (Spark itself would write a folder of parts)."""
        import pyarrow.parquet as pq

        pq.write_table(self.read_table(table), path)

    def staged(self, name: str) -> Path:
        """A new path in the staging folder for `name` (a file or a folder of parts): never one written before,
        so a table handed over or read twice is written again."""
        return self.staging / f"{next(_HANDED_OVER)}-{name}"

    def read_parquet(self, table: str, path: Path, *, columns: tuple[str, ...] | None = None) -> None:
        """`table` as a view of the Parquet at `path` (a file, or a folder of parts); only `columns` if given."""
        df = self.parquet(path)
        self._view(table, df.select(*columns) if columns is not None else df, cache=False)

    def parquet(self, path: Path) -> DataFrame:
        """The Parquet at `path` (a file, or a folder of parts) as a DataFrame, its schema read from the footer
        where `tieout.engines.spark_schema` maps it: Spark's own inference runs a job per read."""
        from tieout.engines.spark_schema import footer_schema

        ntz = self.spark.conf.get("spark.sql.parquet.inferTimestampNTZ.enabled", "true") == "true"
        schema = footer_schema(path, timestamp_ntz=ntz)
        reader = self.spark.read if schema is None else self.spark.read.schema(schema)
        return reader.parquet(str(path))

    def hand_over(self, source: DuckDBEngine, tables: list[str]) -> None:
        """Copy `tables` from a DuckDB engine (the read, validated exports and their resolution) into Spark."""
        for table in tables:
            path = self.staged(f"{table}.parquet")
            source.write_parquet(table, path)
            self.read_parquet(table, path)

    # -- functions and lockdown ---------------------------------------------------------------------------------

    def install(self) -> None:
        """Nothing to define: `functions` are rewritten into Spark SQL as statements are transpiled."""

    def natural_keys(self, table: str, kind: str, values_sql: str) -> None:
        """The distinct values collected on the driver, keyed there by DuckDB's own normalisers (the Public
        Suffix List, folding to ASCII: the very code the DuckDB engine runs) and handed back as `table`."""
        from tieout.engines.duckdb import DuckDBEngine

        df = self._query(values_sql)
        values = self._collect(df.select(df[0].cast("string").alias("v")).where("v IS NOT NULL").distinct(),
                               [("v", "string")])
        if self._normaliser is None:
            self._normaliser = DuckDBEngine.open()
        self._normaliser.write_table("tieout_natural_values", values)
        self._normaliser.natural_keys(table, kind, "SELECT v FROM tieout_natural_values")
        self.write_table(table, self._normaliser.read_table(table))

    def _collect(self, df: DataFrame, columns: list[tuple[str, str]]) -> pa.Table:
        """`df`'s rows on the driver as Arrow, with `columns` (name, Arrow type name) even when there are none."""
        import pyarrow as pa

        schema = pa.schema([(name, pa.type_for_alias(kind)) for name, kind in columns])
        return pa.Table.from_batches(df._collect_as_arrow(), schema=schema)

    def provide_normalise_keys(self, normaliser: DuckDBEngine, sources: list[tuple[str, str]]) -> None:
        """Fill `NORMALISE_KEYS` with the normalised form of every value of the looked-up kinds (names, tax ids,
        domains) that `sources` hold — each a (table, column) of the canonical tables, with a `kind` column —
        computed by `normaliser`, a DuckDB engine with the natural-key normalisers installed."""
        from tieout.engines.spark_sql import NORMALISE_KEYS, looked_up_kinds

        kinds = ", ".join(f"'{k}'" for k in sorted(looked_up_kinds()))
        union = " UNION ".join(f"SELECT kind, CAST({column} AS STRING) AS v FROM {table} "
                               f"WHERE kind IN ({kinds}) AND {column} IS NOT NULL" for table, column in sources)
        values = self._collect(self.spark.sql(union), [("kind", "string"), ("v", "string")])
        normaliser.install()
        normaliser.write_table("tieout_normalise_in", values)
        normaliser.execute(
            "CREATE OR REPLACE TABLE tieout_normalise_out AS SELECT kind AS tieout_kind, v AS tieout_value, "
            "tieout_normalise(kind, v) AS tieout_key FROM tieout_normalise_in")
        keys = normaliser.read_table("tieout_normalise_out")
        self.write_table(NORMALISE_KEYS, keys)
        self._view(NORMALISE_KEYS, self.spark.table(NORMALISE_KEYS), cache=True)

    def lock_down(self) -> None:
        self.spark.conf.set("spark.sql.runSQLOnFiles", "false")

    def close(self) -> None:
        if self._normaliser is not None:
            self._normaliser.close()
            self._normaliser = None
        for df in self.cached.values():
            df.unpersist()
        self.cached.clear()
        # Its own list, not the catalog's: listing the catalog is a Spark job.
        for table in self.views:
            self.spark.catalog.dropTempView(table)
        self.views.clear()
        shutil.rmtree(self.staging, ignore_errors=True)
