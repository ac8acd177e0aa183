"""Read the standard layout's CSV files (contract §3) on Spark (`engine: spark`), checked as DuckDB checks them;
a vendor's CSV export (`sources:`) too, its standard columns made by the format's conversions transpiled
(`tieout.sources.spark_vendor`), then checked alike; and a vendor's JSON Lines (Stripe's), each line parsed
into the fields its conversions read (`tieout.sources.spark_json`), converted and checked alike; and a
column-mapped Parquet table, each column read as the text DuckDB's read makes of it (`tieout.sources.spark_parquet`),
converted and checked alike.

Spark reads each file once: its lines as text, each parsed as one CSV record (`from_csv`, RFC 4180 quotes with
`""` escapes), every cell as text. One pass per file computes, row by row, whether any cell breaks any rule of
`tieout.sources.standard` (forms and casts, money, currency, statuses, required, control characters) or the
record is not what a strict RFC 4180 reader would make of the line; it writes the typed rows as Parquet (typed as
`standard._typed_view` types them) and, through a Spark `Observation` on the same pass, the file's totals. A
second, column-only pass over that Parquet looks for a duplicated primary key.

Spark does not name rows: Spark finds *whether* a file is bad, never *where*. When anything is wrong — or the
file has a shape Spark cannot be trusted with (a line ending other than the header's, a blank line, bytes that
are not UTF-8, a path Spark would read as a pattern) — that one file is read again by DuckDB
(`tieout.sources.read.read_table`), whose refusal names file, row and column: the message is DuckDB's by
construction. Should DuckDB accept the file after all (Spark is stricter in places: a timestamp without seconds,
a quote inside an unquoted cell), DuckDB's read is the day's and is handed to Spark as before.

The checks here are the same rules or stricter, never looser: a file Spark accepts is one DuckDB accepts, with
the same typed values (tests/engines/test_spark_read.py compares them).
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from tieout.config import Project
from tieout.engines.duckdb import DuckDBEngine
from tieout.sources.diagnose import read_first_line
from tieout.sources.layout import (
    CONTRACT_STATUSES,
    INVOICE_STATUSES,
    KIND_TYPES,
    STANDARD_LAYOUT,
    Column,
    ExportFile,
)
from tieout.sources.origin import StandardCsv
from tieout.sources.read import read_day, read_table, standard_file, vendor_rows_view
from tieout.sources.spark_json import BLOCK as _BLOCK
from tieout.sources.spark_json import ROW as _ROW
from tieout.sources.spark_json import input_column, json_lines
from tieout.sources.spark_parquet import parquet_lines
from tieout.sources.spark_vendor import (
    Convert,
    NotOnSparkRead,
    as_written,
    converter,
    related_tables,
    vendor_origin,
)
from tieout.sources.vendor import JsonReader, ParquetReader, VendorTable
from tieout.sql import literal, quote_name
from tieout.systems import CATALOGUE

if TYPE_CHECKING:
    from pyspark.sql import Column as SparkColumn
    from pyspark.sql import DataFrame

    from tieout.engines.spark import SparkEngine

# Each system's record table: copied into the driver's DuckDB in file order, as DuckDB's own read leaves it. The
# large tables (usage, invoices, contracts) stay views of Spark's Parquet there, read once by source history.
RECORD_TABLES = frozenset(s.record_table for s in CATALOGUE)

# Java regular expressions, each the rule of `tieout.sources.standard` or stricter, written into Spark SQL as plain
# literals (`_constant`): no backslash, whose meaning in a literal depends on the session's
# `spark.sql.parser.escapedStringLiterals`, and no quote. `(?s)` lets `.` match a line terminator too, so `(?!.)`
# is the end of the text (`$` would also match before a final line terminator, and Java counts U+2028 and U+0085
# as one); the characters a class names are written as themselves.
_END = "(?!.)"
_FORMS = {
    "date": "(?s)^[0-9]{4}-[0-9]{2}-[0-9]{2}" + _END,
    # Spark's cast is stricter than DuckDB's here (it wants the seconds, refuses hour 24): those fall back.
    "timestamp": ("(?s)^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?"
                  "(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)" + _END),
    "count": "(?s)^[0-9]{1,18}" + _END,
    # DECIMAL(18,4): at most 14 digits before the point, so the cast never overflows.
    "quantity": "(?s)^[0-9]{1,14}([.][0-9]{1,4})?" + _END,
}
_MONEY = "(?s)^-?[0-9]{1,16}([.][0-9]{1,4})?" + _END
_CURRENCY = "(?s)^[A-Za-z]{3}" + _END
_WORD = "(?s)^[A-Za-z]+" + _END
_STATUSES = {"contract_status": CONTRACT_STATUSES, "invoice_status": INVOICE_STATUSES}
_CONTROL = "[\x00-\x08\x0a-\x1f\x7f\ufeff]"
_BLANK = "(?s)^[ \t\xa0\u2000-\u200b\u3000]*" + _END
_FREE_TEXT = ("id", "text")
# Characters of a path that Spark (Hadoop) would read as a pattern or a URI scheme: such a file is read by DuckDB.
_PATTERN_CHARS = set("*?[]{}\\:")
_CORRUPT = "tieout__corrupt"
_QUOTED, _BAD = "tieout__quoted", "tieout__bad"
_KEEP, _UNTRUSTED = "tieout__keep", "tieout__untrusted"


@dataclass
class SparkRead:
    """What a day's read left where: the tables Spark holds (its views, over `parquet`), the others DuckDB's."""

    counts: dict[str, int]
    on_spark: dict[str, Path] = field(default_factory=dict)  # table -> the Parquet folder Spark wrote


def read_day_on_spark(engine: SparkEngine, con: duckdb.DuckDBPyConnection, project: Project, as_of: date
                      ) -> SparkRead:
    """Load every standard table of `as_of` as `read_day` does, the standard layout's files on Spark: each as a
    Spark view and, for DuckDB (resolution, source history), as a table or view over the Parquet Spark wrote.
    A vendor's CSV export (`sources:`) is read so too where Spark can be trusted with it
    (`tieout.sources.spark_vendor`), and a Parquet one (`tieout.sources.spark_parquet`); other sources (databases,
    JSON but JSON Lines, …) are read by DuckDB as ever. Raises
    `InputError` on bad input, with DuckDB's words."""
    folder = project.export_dir(as_of)
    files: dict[ExportFile, StandardCsv | VendorTable] = {}
    for spec in STANDARD_LAYOUT:
        path = standard_file(project, spec, folder)
        found = StandardCsv(spec, path) if path is not None else vendor_origin(con, project, spec, folder, as_of)
        if found is not None:
            files[spec] = found
        if isinstance(found, VendorTable):  # the related tables its conversions look into, as DuckDB loaded them
            engine.hand_over(DuckDBEngine(con), related_tables(project, spec, folder))
    # Spark's part first, the files side by side: each is a few small jobs, and Spark runs jobs of several
    # threads at once. Then the tables in layout order, so that refusals come in `read_day`'s order.
    with ThreadPoolExecutor(max_workers=max(len(files), 1), thread_name_prefix="tieout-spark-read") as pool:
        checked = dict(zip(files, pool.map(lambda spec: _on_spark(engine, project, files[spec], as_of),
                                           files), strict=True))
    done = SparkRead(counts={})

    def read(con: duckdb.DuckDBPyConnection, project: Project, spec: ExportFile, folder: Path, day: date) -> int:
        written = checked.get(spec)
        if written is None:  # DuckDB: another format, or a file to word the refusal of (or to read after all)
            return read_table(con, project, spec, folder, day)
        count, parquet = written
        _to_duckdb(con, spec, parquet)
        engine.read_parquet(spec.table, parquet, columns=spec.column_names)
        done.on_spark[spec.table] = parquet
        source = files[spec]
        if isinstance(source, VendorTable):
            vendor_rows_view(con, project, spec, source)
        return count

    done.counts = read_day(con, project, as_of, read=read)
    return done


def _on_spark(engine: SparkEngine, project: Project, source: StandardCsv | VendorTable, as_of: date
              ) -> tuple[int, Path] | None:
    """Read and check the source's one file on Spark; its record count and the folder of its typed Parquet, or
    None when the file is to be read by DuckDB (something is wrong with it, or Spark cannot be trusted with its
    shape or its conversions)."""
    spec = source.spec
    target = engine.staged(f"read-{spec.table}")
    try:
        # A missing file, column or header cell: DuckDB's read refuses it in its words.
        source.check_shape()
        if isinstance(source, VendorTable):
            convert = converter(source, project.timezone)
            paths = [p.resolve() for p in source.reader.paths]
        else:
            convert, paths = as_written(spec), [source.file.resolve()]
        path = paths[0]
        if any(_PATTERN_CHARS & set(str(p)) for p in paths):
            return None
        if isinstance(source, VendorTable) and isinstance(source.reader, JsonReader):
            lines = Lines(*json_lines(engine, path, source), headers=0)
        elif isinstance(source, VendorTable) and isinstance(source.reader, ParquetReader):
            lines = Lines(*parquet_lines(engine, source, paths), headers=0)
        else:
            header = source.reader.names() if isinstance(source, VendorTable) else source.header
            lines = _csv_parts(engine, paths, header)
        found = _write_typed(engine, spec, lines, target, convert)
        currencies = [c for c in (found.get("currencies") or "").split(",") if c]
        clean = (found["header"] == lines.headers and found["rows"] > 0 and not found["bad"]
                 and found.get("unended", 0) <= lines.unended_allowed
                 and all(project.fx_rate(c, on=as_of) is not None for c in currencies)
                 and not _duplicated_key(engine, spec, target))
    except Exception:  # noqa: BLE001 - whatever Spark made of the file, DuckDB reads it again and says what is wrong
        clean = False
    if not clean:
        shutil.rmtree(target, ignore_errors=True)
        return None
    return int(found["rows"]), target


@dataclass
class Lines:
    """A file's lines as Spark read them: one row per line (`is_header` true on a CSV header line), each input
    of the conversions as a column (`at`: the vendor's column or field -> its Spark column), `_BLOCK` and `_ROW`
    (the file order), and `structure`: true on a line that is not one record Spark reads as DuckDB does."""

    rows: DataFrame
    at: dict[str, str]
    structure: SparkColumn
    headers: int  # header lines a clean file has: 1 for CSV, 0 for JSON Lines
    # In a CRLF file: true on a line without its CR, and how many such lines a clean file has — its last line
    # when the file ends without a line ending (as loaders write), which DuckDB reads as a record; else none.
    unended: SparkColumn | None = None
    unended_allowed: int = 0


# A file's place in a table of several (a loader's parts, `file: Account_*.csv`), above any block offset in it.
_PART = 1 << 48


def _csv_parts(engine: SparkEngine, paths: list[Path], header: list[str]) -> Lines:
    """The lines of a CSV table's files, one after the other as DuckDB reads them (each with its header line);
    parts of one line ending only (their structure and unended checks are one expression)."""
    from pyspark.sql import functions as F

    parts = [_csv_lines(engine, path, header) for path in paths]
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    if any((p.unended is None) != (first.unended is None) for p in parts):
        raise NotOnSparkRead("parts of one table with different line endings")
    rows = first.rows
    for number, part in enumerate(parts[1:], start=1):
        rows = rows.unionByName(part.rows.withColumn(_BLOCK, F.col(_BLOCK) + F.lit(number * _PART)))
    return Lines(rows, first.at, first.structure, headers=len(parts), unended=first.unended,
                 unended_allowed=sum(p.unended_allowed for p in parts))


def _csv_lines(engine: SparkEngine, path: Path, header: list[str]) -> Lines:
    """A CSV file's lines, each parsed as one RFC 4180 record of the header's cells (see the module)."""
    from pyspark.sql import functions as F

    first = read_first_line(path)
    crlf = first.endswith(b"\r\n")
    # The header line as Spark's text reader gives it: its CR kept, a byte order mark left out (Hadoop's line
    # reader skips it); a data line equal to it is a second header, which fails its timestamp or date anyway.
    header_line = first.decode("utf-8-sig").rstrip("\n")
    cells = [input_column(i) for i in range(len(header))]
    at = {name: cells[i] for i, name in enumerate(header)}

    # Lines split at LF only: a CR is then still in the line, so a line ending other than the header's shows. The
    # header line is the file's own text: a literal of its own, never written into SQL.
    line = "CASE WHEN endswith(value, '\r') THEN substring(value, 1, length(value) - 1) ELSE value END" \
        if crlf else "value"
    schema = ", ".join(f"{c} STRING" for c in cells) + f", {_CORRUPT} STRING"
    options = f"map('mode', 'PERMISSIVE', 'columnNameOfCorruptRecord', '{_CORRUPT}', 'sep', ',', 'quote', '\"', " \
              "'escape', '\"')"
    # A line without a quote (most) is split at its commas, an empty cell no value, as DuckDB reads it; only a
    # line with a quote is parsed as CSV, and only there can the parse and the line disagree (_structure_bad).
    # Each step one projection of SQL text: a round trip to the JVM per column, not per function (docs/spark.md).
    parsed = (engine.spark.read.option("lineSep", "\n").text(str(path))
              .select("value", (F.col("value") == F.lit(header_line)).alias("is_header"))
              .selectExpr("value", f"{line} AS line", "is_header", f"input_file_block_start() AS {_BLOCK}",
                          f"monotonically_increasing_id() AS {_ROW}")
              .selectExpr("*", f"instr(line, '\"') > 0 AS {_QUOTED}", "split(line, ',', -1) AS parts")
              .selectExpr("*", f"CASE WHEN {_QUOTED} THEN from_csv(line, '{schema}', {options}) END AS r")
              .selectExpr("value", "line", "is_header", _BLOCK, _ROW, _QUOTED, "size(parts) AS parts",
                          f"r.{_CORRUPT}",
                          *(f"CASE WHEN {_QUOTED} THEN r.{c} ELSE nullif(parts[{i}], '') END AS {c}"
                            for i, c in enumerate(cells))))
    if not crlf:
        return Lines(parsed, at, _structure_bad(cells), headers=1)
    # A CRLF file's lines without their CR: one only, the last, where the file ends in neither LF nor CR (then its
    # last line has no CR, and every other line has one only if none other lacks it: counted, `_on_spark`).
    with path.open("rb") as f:
        f.seek(-1, 2)
        unended_allowed = 0 if f.read(1) in (b"\n", b"\r") else 1
    return Lines(parsed, at, _structure_bad(cells), headers=1, unended=F.expr("NOT endswith(value, '\r')"),
                 unended_allowed=unended_allowed)


def _write_typed(engine: SparkEngine, spec: ExportFile, lines: Lines, target: Path, convert: Convert
                 ) -> dict[str, Any]:
    """One pass over the file's lines: its standard columns made from its cells (`convert`), the typed rows
    written to `target` (Parquet), the file's totals observed."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    parsed = lines.rows
    # The standard columns' text (a standard file's cells, a vendor's converted), then each typed once, beside
    # its text: the checks and the written table read the same value.
    converted = convert(lines.at)
    text = {col.name: f"s{i}" for i, col in enumerate(spec.columns)}
    parsed = parsed.select("*", *(converted.text[name].alias(text[name]) for name in spec.column_names),
                           (converted.keep if converted.keep is not None else F.lit(True)).alias(_KEEP))
    # Whether Spark is trusted with the row, over the text and `keep` computed (each conversion once: a related
    # table's lookup is a join).
    parsed = parsed.select("*", converted.untrusted_with({n: F.col(c) for n, c in text.items()}, F.col(_KEEP))
                           .alias(_UNTRUSTED))
    typed = {col.name: f"t{i}" for i, col in enumerate(spec.columns)}
    parsed = parsed.selectExpr("*", *(f"{_typed(col, text[col.name])} AS {typed[col.name]}" for col in spec.columns))
    cell_bad = " OR ".join(f"({_cell_bad(col, text[col.name], typed[col.name])})" for col in spec.columns)
    # A row `keep` leaves out (a vendor's deleted record) is no record: only its line's structure counts.
    bad = lines.structure | F.expr(f"{_KEEP} AND ({cell_bad})") | F.col(_UNTRUSTED)
    record = f"NOT is_header AND {_KEEP}"
    observation = Observation(f"tieout_read_{spec.table}")
    metrics = ["coalesce(sum(CAST(is_header AS INT)), 0) AS header",
               f"coalesce(sum(CAST({record} AS INT)), 0) AS rows",
               f"coalesce(max(CAST(NOT is_header AND {_BAD} AS INT)), 0) AS bad"]
    if "currency" in spec.column_names:
        # As one text: an observed array comes back as a Java object (codes are checked letters when clean).
        metrics.append(f"concat_ws(',', collect_set(CASE WHEN {record} THEN upper({text['currency']}) END))"
                       " AS currencies")
    observed = [F.expr(m) for m in metrics]
    if lines.unended is not None:
        observed.append(F.coalesce(F.sum(lines.unended.cast("int")), F.lit(0)).alias("unended"))
    # The checks in a projection of their own (compiled), the observed totals over its one flag: an observation
    # evaluates its expressions row by row, uncompiled.
    checked: DataFrame = parsed.select("*", bad.alias(_BAD)).observe(observation, *observed)
    (checked.where(record).selectExpr(*(f"{typed[c]} AS `{c}`" for c in spec.column_names), _BLOCK, _ROW)
     .write.mode("errorifexists").parquet(str(target)))
    return dict(observation.get)


def _structure_bad(cells: list[str]) -> SparkColumn:
    """True on a line that is not one RFC 4180 record of exactly the header's cells, as DuckDB's strict reader
    would read it: a CR left in it, a blank line, bytes that are not UTF-8 (read as U+FFFD), a record of too
    many or too few cells (Spark's corrupt record, or the count of a split line), or cells of a line with quotes
    that do not add up to it — each cell written as itself or quoted with its quotes doubled, one comma between
    two (a quote in an unquoted cell, text after a closing quote or blanks around it fail this).

    One SQL expression rather than a tree of PySpark column calls, each a round trip to the JVM: built as a
    tree, this check took 1,280 round trips for a file of ten columns, two thirds of a read's (docs/spark.md,
    "Cost"). The names are tieout's own; the CR and U+FFFD are written into the literals as themselves, so no
    escape depends on the session's parser settings."""
    from pyspark.sql import functions as F

    def quotes(sql: str) -> str:
        return f"(length({sql}) - length(regexp_replace({sql}, '\"', '')))"

    values = [f"coalesce({c}, '')" for c in cells]
    total = " + ".join(f"length({v})" for v in values)
    inner = " + ".join(quotes(v) for v in values)
    wrapping = f"({quotes('line')} - 2 * ({inner}))"  # two quotes per quoted cell
    # A cell holding a quote was written quoted, its quotes doubled.
    quoted_ok = " AND ".join(
        f"({quotes(v)} = 0 OR contains(line, concat('\"', regexp_replace({v}, '\"', '\"\"'), '\"')))"
        for v in values)
    with_quotes = (f"{_CORRUPT} IS NOT NULL OR {wrapping} < 0 OR {wrapping} % 2 != 0 OR {wrapping} > {2 * len(cells)}"
                   f" OR length(line) != ({total}) - ({inner}) + {quotes('line')} + {len(cells) - 1}"
                   f" OR NOT ({quoted_ok})")
    # A CR left in the line: a stray one, or a CRLF ending in a file whose header ends in LF (a CRLF file's line
    # without its CR is counted apart: `Lines.unended`).
    return F.expr(f"instr(line, '\r') > 0 OR length(line) = 0"
                  f" OR exists(array({', '.join(values)}), v -> instr(v, '\ufffd') > 0)"
                  f" OR CASE WHEN {_QUOTED} THEN {with_quotes} ELSE parts != {len(cells)} END")


def _cell_bad(col: Column, cell: str, typed_cell: str) -> str:
    """SQL true when the cell (column `cell` of the parsed line; `typed_cell` as typed) of `col` breaks a rule of
    `tieout.sources.standard` (or a stricter one here)."""
    v = cell
    present = f"({v} IS NOT NULL AND {v} != '')"
    if col.kind in _FORMS:
        form = f"{v} RLIKE {_constant(_FORMS[col.kind])}"
        if col.kind in ("date", "timestamp"):
            form += f" AND {v} >= '0001'"
        if col.kind == "timestamp":  # within Spark's years (an offset can move 0001-01-01 into year 0)
            form += (f" AND {typed_cell} >= CAST('0001-01-01 00:00:00' AS TIMESTAMP_NTZ)"
                     f" AND {typed_cell} <= CAST('9999-12-31 23:59:59.999999' AS TIMESTAMP_NTZ)")
        bad = f"{present} AND ({typed_cell} IS NULL OR NOT ({form}))"
        if col.required:
            bad = f"({bad}) OR NOT {present}"
        return f"coalesce({bad}, true)"
    checks = []
    if col.required:
        checks.append(f"{v} IS NULL OR {v} RLIKE {_constant(_BLANK)}")
    if col.kind == "money":
        checks.append(f"{v} IS NOT NULL AND NOT {v} RLIKE {_constant(_MONEY)}")
    elif col.kind == "currency":
        checks.append(f"{v} IS NOT NULL AND NOT {v} RLIKE {_constant(_CURRENCY)}")
    elif col.kind in _STATUSES:
        words = ", ".join(_constant(w) for w in _STATUSES[col.kind])
        checks.append(f"{v} IS NOT NULL AND NOT ({v} RLIKE {_constant(_WORD)} AND lower({v}) IN ({words}))")
    if col.kind in _FREE_TEXT:
        checks.append(f"{v} IS NOT NULL AND {v} RLIKE {_constant(_CONTROL)}")
    return f"coalesce({' OR '.join(f'({c})' for c in checks) or 'false'}, true)"


def _constant(text: str) -> str:
    """A constant of this module (a regular expression, a status) as a Spark SQL literal: one without a backslash
    or a quote reads the same whatever the session's `spark.sql.parser.escapedStringLiterals`."""
    assert "\\" not in text and "'" not in text, text
    return f"'{text}'"


def _typed(col: Column, cell: str) -> str:
    """SQL of the cell as `standard._typed_view` types it: statuses lower case, currencies upper case,
    timestamps UTC wall time (the engine's session is in UTC), money DECIMAL(20,4)."""
    if col.kind in _STATUSES:
        return f"lower({cell})"
    if col.kind == "currency":
        return f"upper({cell})"
    if col.kind == "timestamp":
        return f"CAST(try_cast({cell} AS TIMESTAMP) AS TIMESTAMP_NTZ)"
    if col.kind in ("date", "count", "quantity", "money"):
        return f"try_cast({cell} AS {KIND_TYPES[col.kind]})"  # DuckDB's type names, Spark's too
    return cell


def _duplicated_key(engine: SparkEngine, spec: ExportFile, target: Path) -> bool:
    """Whether two rows of the written table share the primary key (the key's columns read alone)."""
    keys = list(spec.primary_key)
    return bool(engine.parquet(target).groupBy(*keys).count().where("count > 1").limit(1).count())


def _to_duckdb(con: duckdb.DuckDBPyConnection, spec: ExportFile, parquet: Path) -> None:
    """`spec.table` on `con` from the Parquet Spark wrote: the record tables copied in file order, the others a
    view (only source history reads them, once)."""
    columns = ", ".join(quote_name(c) for c in spec.column_names)
    files = f"read_parquet({literal(str(parquet / '*.parquet'))})"
    if spec.table in RECORD_TABLES:
        con.execute(f"CREATE OR REPLACE TABLE {spec.table} AS SELECT {columns} FROM {files} "
                    f"ORDER BY {_BLOCK}, {_ROW}")
    else:
        con.execute(f"CREATE OR REPLACE VIEW {spec.table} AS SELECT {columns} FROM {files}")

