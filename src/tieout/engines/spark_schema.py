"""The schema Spark would infer for a Parquet file tieout wrote, read from its footer on the driver.

`spark.read.parquet(path)` without a schema runs a Spark job to read one footer (Spark's schema inference reads
footers in a job even for one file): on a day of a few thousand rows that job costs about what the table's own
work does, and a Spark day hands over dozens of tables. Given the schema, Spark runs no job. Only the Arrow types
below are mapped, each to what Spark's own inference gives for it (tests/engines/test_spark_schema.py holds the
two equal); a file with any other type is left to Spark's inference. Every column is nullable: Spark reads a
file's columns as nullable whatever its footer says.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql.types import DataType, StructType


def _data_file(path: Path) -> Path | None:
    """The file whose footer stands for `path`: itself, or the first data part of a folder Spark wrote."""
    if path.is_file():
        return path
    parts = sorted(p for p in path.glob("*.parquet") if not p.name.startswith(("_", ".")))
    return parts[0] if parts else None


def footer_schema(path: Path, *, timestamp_ntz: bool) -> StructType | None:
    """What `spark.read.parquet(path)` infers, or None where a type is not one this module maps.
    `timestamp_ntz`: the session's `spark.sql.parquet.inferTimestampNTZ.enabled` (a timestamp without a time
    zone is read as TIMESTAMP_NTZ only then)."""
    import pyarrow.parquet as pq
    from pyspark.sql.types import StructField, StructType

    file = _data_file(path)
    if file is None:
        return None
    fields = []
    for field in pq.read_schema(file):
        kind = _spark_type(field.type, timestamp_ntz=timestamp_ntz)
        if kind is None:
            return None
        fields.append(StructField(field.name, kind, nullable=True))
    return StructType(fields)


def _spark_type(arrow: pa.DataType, *, timestamp_ntz: bool) -> DataType | None:
    import pyarrow as pa
    from pyspark.sql import types as T

    if pa.types.is_dictionary(arrow):
        arrow = arrow.value_type
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return T.StringType()
    if pa.types.is_decimal128(arrow):
        return T.DecimalType(arrow.precision, arrow.scale)
    if pa.types.is_timestamp(arrow) and arrow.unit in ("ms", "us"):
        if arrow.tz is not None:
            return T.TimestampType()
        return T.TimestampNTZType() if timestamp_ntz else None
    if pa.types.is_list(arrow):
        element = _spark_type(arrow.value_type, timestamp_ntz=timestamp_ntz)
        return T.ArrayType(element, containsNull=True) if element is not None else None
    plain = {pa.bool_(): T.BooleanType, pa.int8(): T.ByteType, pa.int16(): T.ShortType, pa.int32(): T.IntegerType,
             pa.int64(): T.LongType, pa.float32(): T.FloatType, pa.float64(): T.DoubleType, pa.date32(): T.DateType}
    made = plain.get(arrow)
    return made() if made is not None else None
