"""A vendor's JSON Lines export (Stripe's `customers.jsonl`, `invoices.jsonl`) read on Spark: each line one
record, parsed into the fields its conversions read (`tieout.sources.spark_vendor`, the same SQL DuckDB runs).

Which files (`json_lines_file`): one file of JSON Lines of records (`tieout.sources.vendor.JsonReader`: its
first line a whole object that is no API list), nothing to unwrap, no byte order mark. A list object, a JSON
array, pages in several files, a webhook event to unwrap: DuckDB's, as before.

Spark reads the lines as text and parses each with `from_json` into the fields wanted (`lines.data[*].period.start`
a list with one value per line item), every value as text — as DuckDB's `json_transform` gives it. A line is read
on Spark only where both parsers are known to give the same values (`structure`); any other line leaves the
file to DuckDB, whose read (or refusal) is then the day's:

- the line is one JSON object, `{` to `}` with nothing around it (no CR, no blank line, no second value: Spark
  would ignore it, DuckDB refuses the line) and valid UTF-8, that Spark parses whole into the fields' shapes (a
  list where an object belongs, or text where a list does, is Spark's corrupt record);
- no object on the way to a field holds a key twice (DuckDB reads the first, Spark the last) or a key that differs
  from a field's only in case;
- no number with a fraction or an exponent, and no `-0`, anywhere in the line (each parser writes those back
  as text in its own way: 1.50 and 1e5); no escaped UTF-16 surrogate (`\\ud83d`);
- a field read as text (not only on refusal) holds no object or list (each parser writes those back
  differently).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tieout.sources.vendor import JsonReader, VendorTable, field_segments, records_by_line

if TYPE_CHECKING:
    from pyspark.sql import Column as SparkColumn
    from pyspark.sql import DataFrame

    from tieout.engines.spark import SparkEngine

# The file order of a line: its block's start and its id in the block (`monotonically_increasing_id`).
BLOCK, ROW = "tieout__block", "tieout__row"


def input_column(i: int) -> str:
    """The name of a file's `i`-th input on Spark: positional, so any header text is safe, and tieout's own, so a
    related table's subquery never takes a column of its own (a `c0`) for this row's."""
    return f"tieout__c{i}"


_FIELDS, _CORRUPT = "tieout__fields", "tieout__corrupt"
# Java regular expressions over a whole line (`\z`: the very end of the text).
_OBJECT_LINE = r"^\{.*\}\z"
_FLOAT = r"[\[:,]\s*-?[0-9]+[.eE]|[\[:,]\s*-0"
_SURROGATE = r"\\u[dD][89a-fA-F]"

# A field's shape: its text ("string"), an object (a dict of its keys' shapes), or a list of either ([shape]).
Node = Any
Tree = dict[str, Node]


def json_lines_file(table: VendorTable) -> Path | None:
    """The one JSON Lines file of records Spark reads `table` from, or None (DuckDB reads it)."""
    reader = table.reader
    if not isinstance(reader, JsonReader) or reader.unwrap or len(reader.paths) != 1:
        return None
    path = reader.paths[0]
    if not path.is_file() or not records_by_line(path):
        return None
    with path.open("rb") as f:
        if f.read(3) == b"\xef\xbb\xbf":
            return None
    return path


class NotOnSparkJson(Exception):
    """A field Spark cannot be trusted to read as DuckDB does (a path of another form, read as text where
    another path reads into it)."""


def json_lines(engine: SparkEngine, path: Path, table: VendorTable
               ) -> tuple[DataFrame, dict[str, str], SparkColumn]:
    """The file's lines, each record's inputs as the columns `at` names (field -> column), and the column true on
    a line Spark is not trusted with (see the module)."""
    from pyspark.sql import functions as F

    inputs = table.inputs()
    computed = {inputs[i] for i in table.computed_inputs()}
    fields = {name: segments for name in inputs if (segments := field_segments(name)) is not None}
    if set(computed) - set(fields):
        raise NotOnSparkJson(f"fields of another form: {sorted(set(computed) - set(fields))}")
    tree = _tree([fields[n] for n in computed])
    at, columns = {}, []
    for i, name in enumerate(inputs):
        at[name] = input_column(i)
        # An input read only on refusal (a culprit's) is never computed on Spark.
        value = _access(F.col(_FIELDS), fields[name]) if name in computed else F.lit(None).cast("string")
        columns.append(value.alias(at[name]))
    value = F.col("value")
    # Strict JSON, as DuckDB reads it: Spark would also take 'single quotes' and NaN.
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT, "allowSingleQuotes": "false",
               "allowNonNumericNumbers": "false"}
    lines = (engine.spark.read.option("lineSep", "\n").text(str(path))
             .select(value, F.lit(False).alias("is_header"), F.input_file_block_start().alias(BLOCK),
                     F.monotonically_increasing_id().alias(ROW),
                     F.from_json(value, _record_ddl(tree), options).alias(_FIELDS)))
    rows = lines.select("value", "is_header", BLOCK, ROW, F.col(f"{_FIELDS}.{_CORRUPT}").alias(_CORRUPT), *columns)
    structure = (~value.rlike(_OBJECT_LINE) | (F.instr(value, "\r") > 0) | (F.instr(value, "\ufffd") > 0)
                 | value.rlike(_FLOAT) | value.rlike(_SURROGATE) | F.col(_CORRUPT).isNotNull()
                 | _more_than_one(value) | _keys_bad(value, tree))
    for name in computed:
        column = F.col(at[name])
        if "[*]" in name:
            structure = structure | F.coalesce(F.exists(column, _structured), F.lit(False))
        else:
            structure = structure | _structured(column)
    return rows, at, F.coalesce(structure, F.lit(True))


def _more_than_one(line: SparkColumn) -> SparkColumn:
    """True where the line holds more than one JSON value (`{…} {…}`, `{…}],[{…}`): Spark parses the first and
    ignores the rest, DuckDB refuses the file. Inside a list, the next value must follow a comma; as an object's
    member, a key and a colon: whatever follows the first object breaks one of the two parses."""
    from pyspark.sql import functions as F

    in_list = F.from_json(F.concat(F.lit("["), line, F.lit("]")), "ARRAY<STRING>")
    in_object = F.from_json(F.concat(F.lit('{"x":'), line, F.lit("}")), "x STRING").getField("x")
    return F.coalesce(F.size(in_list) != 1, F.lit(True)) | in_object.isNull()


def _structured(v: SparkColumn) -> SparkColumn:
    """True where a value read as text is (or may be) an object or a list written back as JSON."""
    from pyspark.sql import functions as F

    return F.coalesce(v.startswith("{") | v.startswith("["), F.lit(False))


def _tree(paths: list[tuple[tuple[str, str | None], ...]]) -> Tree:
    """The fields' shapes as one tree; a key read both as text and into (an object, a list) is refused."""
    tree: Tree = {}
    for segments in paths:
        node: Tree = tree
        for depth, (key, index) in enumerate(segments):
            last = depth == len(segments) - 1
            want: Node = "string" if last and index is None else (
                ["string"] if last else [{}]) if index is not None else {}
            have: Node = node.setdefault(key, want)
            if type(have) is not type(want) or (isinstance(have, list) and type(have[0]) is not type(want[0])):
                raise NotOnSparkJson(f"{key} read both as text and as what it holds")
            if last:
                break
            node = have[0] if isinstance(have, list) else have
    return tree


def _record_ddl(tree: Tree) -> str:
    """The schema `from_json` parses a line into: the fields' tree, and the corrupt record's text."""
    return ", ".join([*(f"`{key}` {_ddl(child)}" for key, child in tree.items()), f"{_CORRUPT} STRING"])


def _ddl(node: Node) -> str:
    if node == "string":
        return "STRING"
    if isinstance(node, list):
        return f"ARRAY<{_ddl(node[0])}>"
    assert isinstance(node, dict)
    return "STRUCT<" + ", ".join(f"`{key}`: {_ddl(child)}" for key, child in node.items()) + ">"


def _access(column: SparkColumn, segments: tuple[tuple[str, str | None], ...]) -> SparkColumn:
    """A field of the parsed record: keys, list elements (`[0]` the first, NULL past the end, as DuckDB's
    `list_extract`) and every element (`[*]`: a list)."""
    from pyspark.sql import functions as F

    for i, (key, index) in enumerate(segments):
        column = column.getField(key)
        if index == "*":
            rest = segments[i + 1:]
            return F.transform(column, each(_access, rest)) if rest else column
        if index is not None:
            column = column.getItem(int(index))
    return column


def each(f: Callable[[SparkColumn, Any], SparkColumn], arg: Any) -> Callable[[SparkColumn], SparkColumn]:
    """`f(element, arg)` as a one-argument function of a list's element (PySpark reads a lambda's parameters)."""
    def of(element: SparkColumn) -> SparkColumn:
        return f(element, arg)

    return of


def _keys_bad(text: SparkColumn, node: Tree) -> SparkColumn:
    """True where the object `text`, or one inside it on the way to a field, holds a key twice, or a key that is
    a field's but for its case."""
    from pyspark.sql import functions as F

    keys = F.json_object_keys(text)
    wanted = list(node)
    lowered = F.array(*(F.lit(k.lower()) for k in wanted))
    bad = (F.size(F.array_distinct(keys)) != F.size(keys)) | F.exists(
        keys, lambda k: F.array_contains(lowered, F.lower(k)) & ~k.isin(*wanted))
    inside = {key: child for key, child in node.items() if child != "string" and child != ["string"]}
    if inside:
        schema = ", ".join(f"`{key}` {'ARRAY<STRING>' if isinstance(child, list) else 'STRING'}"
                           for key, child in inside.items())
        parsed = F.from_json(text, schema)
        for key, child in inside.items():
            value = parsed.getField(key)
            if isinstance(child, list):
                bad = bad | F.exists(value, each(_keys_bad, child[0]))
            else:
                bad = bad | _keys_bad(value, child)
    return F.coalesce(bad, F.lit(False))
