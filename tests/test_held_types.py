"""Counts and FTEs are loaded in narrower types first (`tieout.sources.standard._HELD`, for the memory of a large
usage export); a file with a value too large for them is loaded again in the kinds' own types. Either way a
reader sees the kinds' own types and every value exactly as written, and a bad cell is refused where it is."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tieout.errors import InputError
from tieout.sources.layout import BY_TABLE
from tieout.sources.origin import StandardCsv
from tieout.sources.standard import read_export

USAGE = BY_TABLE["ops_usage"]
HEADER = "tenant_id,date,active_users,fte_count\n"


def _read(tmp_path: Path, rows: str) -> duckdb.DuckDBPyConnection:
    path = tmp_path / "ops_usage.csv"
    path.write_text(HEADER + rows)
    con = duckdb.connect()
    read_export(con, USAGE, StandardCsv(USAGE, path))
    return con


def _usage(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute("SELECT tenant_id, active_users, fte_count FROM ops_usage ORDER BY tenant_id").fetchall()


def test_small_values_are_held_narrow_and_read_in_the_kinds_types(tmp_path: Path) -> None:
    con = _read(tmp_path, "t-1,2026-01-20,12,99999.9999\nt-2,2026-01-20,2147483647,\n")
    assert _usage(con) == [("t-1", 12, Decimal("99999.9999")), ("t-2", 2147483647, None)]
    held = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                            "WHERE table_name = 'ops_usage__raw'").fetchall())
    assert (held["active_users"], held["fte_count"]) == ("INTEGER", "DECIMAL(9,4)")
    seen = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                            "WHERE table_name = 'ops_usage'").fetchall())
    assert (seen["active_users"], seen["fte_count"]) == ("BIGINT", "DECIMAL(18,4)")


@pytest.mark.parametrize("rows, expected", [
    ("t-1,2026-01-20,3000000000,5\n", ("t-1", 3000000000, Decimal("5"))),
    ("t-1,2026-01-20,7,123456.5\n", ("t-1", 7, Decimal("123456.5"))),
    ("t-1,2026-01-20," + "9" * 18 + ",12345678901234.9999\n",
     ("t-1", int("9" * 18), Decimal("12345678901234.9999"))),
])
def test_a_value_too_large_to_hold_narrow_is_read_exactly(tmp_path: Path, rows: str, expected: tuple) -> None:
    con = _read(tmp_path, "t-0,2026-01-20,1,1\n" + rows)
    assert _usage(con) == [("t-0", 1, Decimal("1")), expected]
    seen = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                            "WHERE table_name = 'ops_usage'").fetchall())
    assert (seen["active_users"], seen["fte_count"]) == ("BIGINT", "DECIMAL(18,4)")


def test_a_bad_cell_beside_a_large_value_is_refused_where_it_is(tmp_path: Path) -> None:
    with pytest.raises(InputError) as refused:
        _read(tmp_path, "t-1,2026-01-20,3000000000,5\nt-2,2026-01-20,+4,5\n")
    message = str(refused.value)
    assert "ops_usage.csv, row 3, column 'active_users'" in message and "'+4'" in message, message


def test_a_table_handed_to_another_engine_has_the_kinds_types(tmp_path: Path) -> None:
    # What Spark is handed (`SparkEngine.hand_over`: the DuckDB engine's Parquet of the typed table) is typed
    # as the contract says, whatever the loaded table holds.
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tieout.engines.duckdb import DuckDBEngine

    con = _read(tmp_path, "t-1,2026-01-20,12,1.5\n")
    DuckDBEngine(con).write_parquet("ops_usage", tmp_path / "handed.parquet")
    schema = pq.read_schema(tmp_path / "handed.parquet")
    assert schema.field("active_users").type == pa.int64()
    assert schema.field("fte_count").type == pa.decimal128(18, 4)
