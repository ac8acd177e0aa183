"""One Spark session for the whole test run of a worker (a JVM takes seconds to start), small: two cores at
most and settings for small data, because the machine's cores are shared."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.engines.test_engines_agree import SparkStretch

# What the shared engine suite runs on (Ibis style: every test of it once per engine).
ENGINE_NAMES = ("duckdb", "spark")
# Measured on the demo days (JVM CPU seconds of two days, docs/spark.md): one shuffle partition, no adaptive
# re-planning and no whole-stage code generation — at a few thousand rows, planning and compiling cost more than
# they save.
SPARK_CONF = {"spark.sql.shuffle.partitions": 1, "spark.sql.adaptive.enabled": False,
              "spark.sql.codegen.wholeStage": False, "spark.ui.enabled": False, "spark.default.parallelism": 2}
# The JVM's own flags, for the session the tests start (not in SPARK_CONF: a JVM starts once, and a project's
# tieout.yml cannot change it). Measured (docs/testing.md): about half of a warmed-up demo day's JVM CPU was the
# C2 compiler's, compiling Spark's planner and generated classes anew for each day's few thousand rows; with C1
# only a day costs ~30 % less and the first ~55 % less. C1 alone defaults to a 48 MB code cache, which Spark
# fills: the JIT then stops for good (`CodeCache is full. Compiler has been disabled`) and the 100 k day runs
# interpreted — hence 256 MB (about the tiered default). The serial collector: G1's concurrent threads cost
# more CPU than they save on a few hundred MB of heap (tests/engines/test_spark_read.py, two interleaved pairs:
# 165/144 → 146/130 JVM CPU s, docs/testing.md).
JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m -XX:+UseSerialGC"


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    # Not skipped when missing: `make test` installs the spark extra (requirements-spark.lock).
    from pyspark.sql import SparkSession

    # The tests' own DataFrames of Python rows are read by Python workers: this interpreter, not PATH's python3.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master("local[2]").appName("tieout-tests")
    for key, value in {**SPARK_CONF, "spark.sql.session.timeZone": "UTC",
                       "spark.driver.extraJavaOptions": JVM_OPTIONS}.items():
        builder = builder.config(key, str(value).lower() if isinstance(value, bool) else str(value))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def spark_yml() -> str:
    """The tieout.yml lines that put a project on Spark with the tests' small settings."""
    conf = ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in SPARK_CONF.items())
    return f"engine: spark\nspark:\n  master: \"local[2]\"\n  conf: {{{conf}}}\n"


@pytest.fixture(scope="session")
def spark_stretch(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> SparkStretch:
    """The demo stretch on Spark, run once for the parity suite and the front doors' tests alike."""
    from tests.engines.test_engines_agree import run_spark_stretch

    return run_spark_stretch(spark, tmp_path_factory)
