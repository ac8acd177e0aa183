from __future__ import annotations

import datetime as dt

import pytest

from tieout.entities.entity_map import load_entity_map
from tieout.errors import InputError

HEADER = "canonical_id,source_system,source_id,effective_from,effective_to,notes\n"


def _write(tmp_path, body: str | bytes, header: str = HEADER):
    path = tmp_path / "entity_map.csv"
    data = header.encode() + (body if isinstance(body, bytes) else body.encode())
    path.write_bytes(data)
    return path


def test_loads_typed(con, tmp_path):
    path = _write(
        tmp_path,
        "A,crm,1,2025-01-01,,\nA,billing,c1,2025-01-01,2025-06-30,closed\nB,billing,c1,2025-07-01,,merged\n",
    )
    load_entity_map(con, path)
    rows = con.execute("SELECT * FROM entity_map ORDER BY source_system, effective_from").fetchall()
    assert rows[0] == ("A", "billing", "c1", dt.date(2025, 1, 1), dt.date(2025, 6, 30), "closed")
    assert rows[1][4] is None and rows[1][3] == dt.date(2025, 7, 1)
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'entity_map'"
        ).fetchall()
    )
    assert types["effective_from"] == "DATE" and types["effective_to"] == "DATE"


@pytest.mark.parametrize(
    ("body", "row", "column", "words"),
    [
        ("A,crm,1,2025-01-01,,\n,crm,2,2025-01-01,,\n", 3, "canonical_id", "empty canonical_id"),
        ("A,crm,1,2025-01-01,,\nA,crm, ,2025-01-01,,\n", 3, "source_id", "empty source_id"),
        ("A,crm,1,2025-01-01,,\nA,erp,2,2025-01-01,,\nA,crm,3,2025-01-01,,\n", 3, "source_system", "unknown"),
        (
            "A,crm,1,2025-01-01,,\nA,crm,2,2025-01-01,,\nA,crm,3,01/02/2025,,\n",
            4,
            "effective_from",
            "not a date",
        ),
        ("A,crm,1,2025-02-30,,\n", 2, "effective_from", "not a date"),
        ("A,crm,1,2025-01-01,2025-13-01,\n", 2, "effective_to", "not a date"),
        ("A,crm,1,2025-01-01,2024-12-31,\n", 2, "effective_to", "before"),
        ("A,crm,1,2025-01-01,2025-06-30,\nB,crm,1,2025-06-30,,\n", 3, "effective_from", "overlapping"),
        (
            "A,crm,1,2025-01-01,,\nB,ops,9,2025-01-01,,\nB,crm,1,2026-01-01,,\n",
            4,
            "effective_from",
            "overlapping",
        ),
        # Issue 11: control characters, year 0 and a byte order mark were accepted.
        ("A,crm,1,2025-01-01,,\nA\x00B,crm,2,2025-01-01,,\n", 3, "canonical_id", "control character"),
        ("A,crm,1,2025-01-01,,\x1b[2J\n", 2, "notes", "control character"),
        ("A,crm,\ufeff1,2025-01-01,,\n", 2, "source_id", "control character"),
        ("A,crm,1,0000-01-01,,\n", 2, "effective_from", "not a date"),
        ("A,crm,1,2025-01-01,0000-12-31,\n", 2, "effective_to", "not a date"),
    ],
)
def test_refusals_name_file_row_column(con, tmp_path, body, row, column, words):
    path = _write(tmp_path, body)
    with pytest.raises(InputError) as info:
        load_entity_map(con, path)
    err = info.value
    assert (err.file, err.row, err.column) == (str(path), row, column)
    message = str(err)
    assert str(path) in message and f"row {row}" in message and repr(column) in message and words in message


def test_missing_file(con, tmp_path):
    with pytest.raises(InputError, match="does not exist") as info:
        load_entity_map(con, tmp_path / "nope.csv")
    assert info.value.file.endswith("nope.csv")


def test_missing_column(con, tmp_path):
    path = _write(
        tmp_path, "A,crm,1,2025-01-01\n", header="canonical_id,source_system,source_id,effective_from\n"
    )
    with pytest.raises(InputError, match="missing column") as info:
        load_entity_map(con, path)
    assert info.value.column == "effective_to"


def test_not_utf8_names_row_and_column(con, tmp_path):
    path = _write(tmp_path, b"A,crm,1,2025-01-01,,\nA,crm,2,2025-01-01,,M\xfcller\n")
    with pytest.raises(InputError, match="not UTF-8") as info:
        load_entity_map(con, path)
    assert (info.value.row, info.value.column) == (3, "notes")


def test_empty_file(con, tmp_path):
    path = tmp_path / "entity_map.csv"
    path.write_text("")
    with pytest.raises(InputError, match="empty"):
        load_entity_map(con, path)


def test_example_map_loads(con):
    from .helpers import EXAMPLE

    if not (EXAMPLE / "entity_map.csv").exists():
        pytest.skip("the shared worked example is not on this machine")
    load_entity_map(con, EXAMPLE / "entity_map.csv")
    assert con.execute("SELECT count(*) FROM entity_map").fetchall() == [(8,)]


@pytest.mark.parametrize(
    ("data", "row", "words"),
    [
        (HEADER.replace("\n", "\r") + "A,crm,1,2025-01-01,,\r", 1, "carriage return only"),
        (HEADER.replace("\n", "\r\n") + "A,crm,1,2025-01-01,,\n", 2, "line endings must be the same"),
        (HEADER + "A,crm,1,2025-01-01,,\r\nA,crm,2,2025-01-01,,\n", 2, "line endings must be the same"),
    ],
)
def test_line_endings_are_lf_or_crlf_throughout(con, tmp_path, data, row, words):
    """Issue 11: CR-only endings were a traceback elsewhere; DuckDB's sniffer read a mix without a word."""
    path = tmp_path / "entity_map.csv"
    path.write_bytes(data.encode())
    with pytest.raises(InputError) as err:
        load_entity_map(con, path)
    assert (err.value.row, err.value.column) == (row, "notes")
    assert words in str(err.value)


def test_a_duplicated_header_column_is_refused(con, tmp_path):
    path = _write(tmp_path, "A,crm,1,2025-01-01,,,x\n", header=HEADER.replace("notes", "notes,notes"))
    with pytest.raises(InputError) as err:
        load_entity_map(con, path)
    assert (err.value.row, err.value.column) == (1, "notes")
    assert "appears twice" in str(err.value)
