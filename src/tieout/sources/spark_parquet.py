"""A column-mapped Parquet export (`format: parquet`, a lakehouse's tables) read on Spark: each column the
conversions read is read by `spark.read.parquet` and written as the text DuckDB's read makes of it, then
converted and checked exactly as a vendor's CSV cells are (`tieout.sources.spark_vendor`, `spark_read`).

DuckDB's read (`tieout.sources.vendor.ParquetReader`) takes every Parquet cell as `CAST(cell AS VARCHAR)`, in a
session in UTC (`tieout.sources.standard.read_export`), and converts that text. Spark gives the same text only for
the Parquet types below, where DuckDB's type and Spark's are each known (the file's footer, read by pyarrow, and
DuckDB's `DESCRIBE` of it) and both engines write the value alike (tests/engines/test_spark_parquet_read.py):

- text (BYTE_ARRAY annotated String), booleans, whole numbers of 8 to 64 bits, signed or not (Spark widens an
  unsigned one losslessly: UINT_64 to DECIMAL(20, 0));
- decimals of at most 38 digits (a row whose decimal Spark writes in scientific notation — a scale over 6, a
  value under 10^-6 in size, 0E-10 — is DuckDB's);
- dates, and timestamps of milliseconds or microseconds, with or without `isAdjustedToUTC` (DuckDB's TIMESTAMP
  WITH TIME ZONE is written in UTC with `+00`); a row of a year outside 0001-9999 is DuckDB's. Dates and
  times are read as they are written (no calendar rebase), as DuckDB reads them.

Anything else read by a conversion leaves the whole table to DuckDB on the driver (`NotOnSparkParquet`): floats
and doubles (Java writes them otherwise: `1.0E20`), binary, INT96, nanosecond timestamps, times, UUIDs, JSON,
decimals of more than 38 digits (DuckDB reads them as DOUBLE), nested columns (lists, structs, maps), several
files whose schemas differ, a column named as another but for its case (Spark matches names regardless of case)
or `_metadata` (Spark's own), or `file_row_number` or `tieout__…` (DuckDB's read adds those, and refuses a
file with its own `file_row_number`). A string of bytes that are not UTF-8 (Spark keeps them as they are) leaves
the file to DuckDB, whose read refuses it in its words, as every refusal is worded (`tieout.sources.spark_read`).

Rows come in DuckDB's order: the files in turn, each in its row order (`_metadata.row_index`: DuckDB's
`file_row_number`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from tieout.sources.spark_json import input_column
from tieout.sources.vendor import ParquetReader, VendorTable
from tieout.sql import literal

if TYPE_CHECKING:
    from pyspark.sql import Column as SparkColumn
    from pyspark.sql import DataFrame

    from tieout.engines.spark import SparkEngine

# The text forms Spark writes alike with DuckDB (Java regular expressions; `\z` is the very end of the text).
_DATE_TEXT = r"^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}\z"
_TIMESTAMP_TEXT = r"^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?\z"


class NotOnSparkParquet(Exception):
    """A Parquet column Spark cannot be trusted to read as DuckDB does; the message names it."""


@dataclass(frozen=True)
class _Read:
    """How one Parquet column is read on Spark: its Spark type, and how its text is made (see `_text`)."""

    spark_type: str  # Spark's DDL type name
    text: str  # "string", "cast", "decimal", "date", "timestamp", "timestamptz"


def parquet_files(table: VendorTable) -> list[Path] | None:
    """The Parquet files Spark may read `table` from (every file there, all of one schema), or None."""
    import pyarrow.parquet as pq

    reader = table.reader
    if not isinstance(reader, ParquetReader) or not reader.paths:
        return None
    try:
        schemas = [pq.ParquetFile(path).schema for path in reader.paths]
    except (OSError, ValueError):  # a file missing or no Parquet: DuckDB's read refuses it in its words
        return None
    if any(not schema.equals(schemas[0]) for schema in schemas[1:]):
        return None
    return list(reader.paths)


def _reads(path: Path, names: list[str]) -> dict[str, _Read]:
    """How each column `names` of the file is read on Spark; raises `NotOnSparkParquet` (see the module)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    arrow = file.schema_arrow
    lowered = [n.lower() for n in arrow.names]
    if "_metadata" in lowered:
        raise NotOnSparkParquet("a column named _metadata")
    # DuckDB's read adds `file_row_number` to the file's columns (and refuses a file that has its own), then its
    # own `tieout__` names.
    if "file_row_number" in lowered or any(n.startswith("tieout__") for n in lowered):
        raise NotOnSparkParquet("a column named as one DuckDB's read adds")
    con = duckdb.connect()
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(str(path))})").fetchall()
    finally:
        con.close()
    duck = {row[0]: str(row[1]) for row in described}
    out = {}
    for name in names:
        if lowered.count(name.lower()) != 1 or arrow.get_field_index(name) < 0:
            raise NotOnSparkParquet(f"{name}: another column of its name but for its case")
        if pa.types.is_nested(arrow.field(name).type):
            raise NotOnSparkParquet(f"{name}: a nested column")
        leaves = [c for c in file.schema if c.path == name and c.max_repetition_level == 0]
        if len(leaves) != 1 or name not in duck:
            raise NotOnSparkParquet(f"{name}: not one top-level column")
        read = _read(leaves[0], duck[name])
        if read is None:
            raise NotOnSparkParquet(f"{name}: Parquet {leaves[0].physical_type} {leaves[0].logical_type}, "
                                    f"DuckDB's {duck[name]}")
        out[name] = read
    return out


def _read(column: Any, duck: str) -> _Read | None:
    """The Spark read of a Parquet column (pyarrow's `ColumnSchema`) that DuckDB reads as `duck`, where Spark writes
    its values as DuckDB's CAST(… AS VARCHAR) does; else None."""
    import json

    physical, logical = column.physical_type, json.loads(column.logical_type.to_json())
    kind = logical.get("Type")
    if physical == "BYTE_ARRAY" and kind == "String" and duck == "VARCHAR":
        return _Read("string", "string")
    if physical == "BOOLEAN" and kind == "None" and duck == "BOOLEAN":
        return _Read("boolean", "cast")
    if physical in ("INT32", "INT64") and kind in ("None", "Int"):
        bits = logical.get("bitWidth", 32 if physical == "INT32" else 64)
        signed = logical.get("isSigned", True)
        spark = {(8, True): "tinyint", (16, True): "smallint", (32, True): "int", (64, True): "bigint",
                 (8, False): "smallint", (16, False): "int", (32, False): "bigint", (64, False): "decimal(20,0)"}
        expected = {(8, True): "TINYINT", (16, True): "SMALLINT", (32, True): "INTEGER", (64, True): "BIGINT",
                    (8, False): "UTINYINT", (16, False): "USMALLINT", (32, False): "UINTEGER",
                    (64, False): "UBIGINT"}
        if expected.get((bits, signed)) == duck:
            return _Read(spark[(bits, signed)], "cast")
        return None
    if kind == "Decimal" and physical in ("INT32", "INT64", "FIXED_LEN_BYTE_ARRAY", "BYTE_ARRAY"):
        precision, scale = logical["precision"], logical["scale"]
        if precision <= 38 and duck == f"DECIMAL({precision},{scale})":
            return _Read(f"decimal({precision},{scale})", "decimal")
        return None
    if physical == "INT32" and kind == "Date" and duck == "DATE":
        return _Read("date", "date")
    if physical == "INT64" and kind == "Timestamp" and logical.get("timeUnit") in ("milliseconds", "microseconds"):
        if logical.get("isAdjustedToUTC") and duck == "TIMESTAMP WITH TIME ZONE":
            return _Read("timestamp", "timestamptz")
        if not logical.get("isAdjustedToUTC") and duck == "TIMESTAMP":
            return _Read("timestamp_ntz", "timestamp")
    return None


def _text(column: SparkColumn, read: _Read) -> tuple[SparkColumn, SparkColumn]:
    """The column's text as DuckDB's read writes it, and a column true on a row Spark writes otherwise."""
    from pyspark.sql import functions as F

    if read.text == "string":
        # Spark keeps a string's bytes as they are, UTF-8 or not; DuckDB refuses bytes that are not (its words).
        # Decoded and encoded again (bytes that are not UTF-8 become U+FFFD), they differ.
        return column, F.coalesce(F.encode(column, "UTF-8") != column.cast("binary"), F.lit(False))
    text = column.cast("string")
    if read.text == "cast":
        return text, F.lit(False)
    if read.text == "decimal":  # Java's BigDecimal.toString: 1E-10 and 0E-10 for what DuckDB writes plainly
        return text, F.coalesce(F.instr(text, "E") > 0, F.lit(False))
    form = _DATE_TEXT if read.text == "date" else _TIMESTAMP_TEXT
    untrusted = F.coalesce(~text.rlike(form), F.lit(False))
    if read.text == "timestamptz":  # an instant, written in the session's zone (UTC) as DuckDB writes it in UTC
        return F.concat(text, F.lit("+00")), untrusted
    return text, untrusted


def _spark_type(name: str) -> Any:
    """The PySpark type of a `_Read.spark_type` name (`decimal(p,s)` or a simple type's)."""
    import re

    from pyspark.sql import types as T

    decimal = re.fullmatch(r"decimal\((\d+),(\d+)\)", name)
    if decimal:
        return T.DecimalType(int(decimal.group(1)), int(decimal.group(2)))
    return {"string": T.StringType, "boolean": T.BooleanType, "tinyint": T.ByteType, "smallint": T.ShortType,
            "int": T.IntegerType, "bigint": T.LongType, "date": T.DateType, "timestamp": T.TimestampType,
            "timestamp_ntz": T.TimestampNTZType}[name]()


def parquet_lines(engine: SparkEngine, table: VendorTable, paths: list[Path]
                  ) -> tuple[DataFrame, dict[str, str], SparkColumn]:
    """The files' rows in DuckDB's order (`BLOCK` the file's place, `ROW` the row's in it), each input of the
    conversions as the text DuckDB's read makes of it (`at`: input -> column), and the column true on a row Spark
    is not trusted with (see the module); raises `NotOnSparkParquet`."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructField, StructType

    from tieout.sources.spark_json import BLOCK, ROW

    if engine.spark.conf.get("spark.sql.session.timeZone") != "UTC":
        raise NotOnSparkParquet("a session not in UTC")
    inputs = table.inputs()
    reads = _reads(paths[0], inputs)
    schema = StructType([StructField(name, _spark_type(reads[name].spark_type)) for name in inputs])
    at = {name: input_column(i) for i, name in enumerate(inputs)}
    frames = []
    for number, path in enumerate(paths):
        # Only the columns read (another column of a type Spark cannot read is never looked at); dates and times
        # as written, as DuckDB reads them.
        rows = (engine.spark.read.schema(schema).option("datetimeRebaseMode", "CORRECTED").parquet(str(path))
                .select(*(F.col(f"`{name.replace('`', '``')}`").alias(at[name]) for name in inputs),
                        F.col("_metadata.row_index").alias(ROW)))
        frames.append(rows.select(F.lit(number).cast("long").alias(BLOCK), "*"))
    rows = frames[0]
    for more in frames[1:]:
        rows = rows.unionByName(more)
    texts, untrusted = [], F.lit(False)
    for name in inputs:
        text, bad = _text(F.col(at[name]), reads[name])
        texts.append(text.alias(at[name]))
        untrusted = untrusted | bad
    rows = rows.select(F.lit(False).alias("is_header"), BLOCK, ROW, *texts, untrusted.alias("tieout__untyped"))
    return rows, at, F.col("tieout__untyped")
