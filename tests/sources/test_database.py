"""The `sql` source's reader (`tieout.sources.database`): a table or one SELECT, every value as exact text, and a
database URL whose secret never shows in an error.

Most tests read the realdata vendor tables from a real PostgreSQL the suite starts itself
(tests/sources/warehouse.py); the query checks refuse before any connection and need no server.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import traceback
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pytest
import sqlalchemy

from tests.sources.warehouse import COLUMN_TYPES, REALDATA, SOURCES, Warehouse, column_type, read_csv, realdata_file
from tieout.errors import ConfigError, InputError
from tieout.sources import database
from tieout.sources.database import expand_url, fetch

KEY = "sources.billing.url"
# Nothing listens here: a test that got as far as connecting would see an InputError, not a ConfigError.
NOWHERE = "postgresql+psycopg://reader:n0t-THE-s3cret@127.0.0.1:1/warehouse"


def texts(table: pa.Table, column: str) -> list[str | None]:
    return table.column(column).to_pylist()


def assert_secret_kept(error: BaseException, *secrets: str) -> None:
    """Neither the message nor the whole traceback (chained errors included) shows any of `secrets`."""
    shown = "".join(traceback.format_exception(error))
    for secret in secrets:
        assert secret not in str(error)
        assert secret not in shown
    # The driver's own error, which may quote the URL, is neither the cause nor shown as the context.
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


# ---- realdata, read back from the warehouse ----


def test_a_bare_table_name_reads_every_row_and_column_as_text(warehouse_url: str) -> None:
    header, rows = read_csv(realdata_file("zuora", "account"))
    table = fetch(warehouse_url, "zuora.account", key=KEY)
    assert table.column_names == header
    assert all(field.type == pa.string() for field in table.schema)
    assert table.num_rows == len(rows) == 5
    # Row order as the database returns it (a fresh table: as loaded); text columns exactly as exported.
    assert texts(table, "id") == [row[0] for row in rows]
    assert texts(table, "account_number") == ["A00000021", "A00000025", "A00000020_1826345d632", "A00000012",
                                              "A00000017"]
    # numeric, boolean, timestamp (its zero microseconds dropped), empty -> null
    assert texts(table, "balance") == ["0", "0", "-15", "1634835.21", "106953453"]
    assert texts(table, "mrr") == ["49", None, None, "43279.17", "2726666.67"]
    assert texts(table, "_fivetran_deleted") == ["false", "false", "true", "false", "false"]
    assert texts(table, "_fivetran_synced")[0] == "2023-02-20 09:33:15.662000"
    assert texts(table, "created_date")[0] == "2018-12-06 12:07:17"


def test_every_realdata_table_comes_back_as_loaded(warehouse: Warehouse, warehouse_url: str) -> None:
    naive = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?")
    aware = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?Z")
    assert len(warehouse.loaded) == sum(len(tables) for _, _, tables in SOURCES.values())
    for name in warehouse.loaded:
        schema, table_name = name.split(".")
        header, rows = read_csv(realdata_file(schema, table_name))
        table = fetch(warehouse_url, name, key=KEY)
        assert table.column_names == header, name
        assert table.num_rows == len(rows), name
        for i, column in enumerate(header):
            kind = column_type(schema, table_name, column)
            got, cells = texts(table, column), [row[i] or None for row in rows]
            assert [g is None for g in got] == [c is None for c in cells], (name, column)
            values = [g for g in got if g is not None]
            if kind in ("text", "numeric", "bigint", "date"):
                assert got == cells, (name, column)  # what the loader was given, digit for digit
            elif kind == "boolean":
                assert got == [c.lower() if c else None for c in cells], (name, column)
            elif kind == "timestamp":
                assert all(naive.fullmatch(v) for v in values), (name, column, values)
            else:
                assert kind == "timestamptz" and all(aware.fullmatch(v) for v in values), (name, column, values)


def test_timestamps_with_and_without_a_zone(warehouse_url: str) -> None:
    company = fetch(warehouse_url, "hubspot.company", key=KEY)
    assert texts(company, "_fivetran_synced")[:2] == ["2020-12-30 03:15:52", "2020-12-30 03:15:53"]  # was `3:15:52`
    prop = fetch(warehouse_url, "hubspot.property", key=KEY)
    assert texts(prop, "created_at")[0] == "2023-05-03T08:51:08.199000Z"  # loaded as `… 08:51:08.199000 UTC`


def test_one_select(warehouse_url: str) -> None:
    query = """
        SELECT a.currency, count(*) AS accounts, sum(a.balance) AS balance, bool_or(a._fivetran_deleted) AS deleted
        FROM zuora.account a
        GROUP BY a.currency
        ORDER BY a.currency DESC
    """
    table = fetch(warehouse_url, query, key=KEY)
    assert table.column_names == ["currency", "accounts", "balance", "deleted"]
    assert table.to_pylist() == [
        {"currency": "USD", "accounts": "4", "balance": "1634820.21", "deleted": "true"},
        {"currency": "JPY", "accounts": "1", "balance": "106953453", "deleted": "false"},
    ]


def test_a_select_over_a_join_keeps_the_databases_column_names_and_order(warehouse_url: str) -> None:
    query = ('SELECT c."property_hs_all-funky-a9384-syntax" AS "Funky", c.id, i.invoice_number, i.invoice_date '
             "FROM hubspot.company c CROSS JOIN zuora.invoice i "
             "WHERE c.id = '2182162682' ORDER BY i.invoice_date LIMIT 2;")
    table = fetch(warehouse_url, query, key=KEY)
    assert table.column_names == ["Funky", "id", "invoice_number", "invoice_date"]
    assert table.to_pylist() == [
        {"Funky": "23", "id": "2182162682", "invoice_number": "INV00000014", "invoice_date": "2015-02-15"},
        {"Funky": "23", "id": "2182162682", "invoice_number": "INV00000024", "invoice_date": "2015-07-15"},
    ]


def test_comments_and_a_final_semicolon_are_the_users_own(warehouse_url: str) -> None:
    query = "-- the accounts\nSELECT account_number /* number */ FROM zuora.account WHERE mrr > 1000 ; -- done"
    assert texts(fetch(warehouse_url, query, key=KEY), "account_number") == ["A00000012", "A00000017"]


def test_table_names_that_are_reserved_words_are_quoted(warehouse_url: str) -> None:
    assert fetch(warehouse_url, "salesforce.order", key=KEY).num_rows == 10
    assert fetch(warehouse_url, " salesforce.user ", key=KEY).num_rows == 10


# ---- exact text, whatever the database's type ----


def test_values_become_exact_text(warehouse: Warehouse) -> None:
    query = """
        SELECT 1234.5600::numeric AS amount, -0.0100::numeric(12, 4) AS small, 1e-7::numeric AS tiny,
               12345678901234567890.123456789::numeric AS wide, 42 AS count, 9007199254740993::bigint AS big,
               1.5::float8 AS ratio, true AS yes, false AS no, NULL::numeric AS nothing, '' AS blank,
               DATE '2026-01-31' AS day,
               TIMESTAMP '2026-01-31 23:00:00' AS naive, TIMESTAMP '2026-01-31 23:00:00.5' AS naive_fraction,
               TIMESTAMPTZ '2026-01-31 23:00:00+02' AS aware, TIMESTAMPTZ '2026-01-31 23:00:00.123456Z' AS utc,
               TIME '07:30:00' AS clock, '%d :name %%' AS literal, 'Zürich ☃' AS unicode
    """
    row = fetch(warehouse.url, query, key=KEY).to_pylist()
    assert row == [{
        "amount": "1234.5600", "small": "-0.0100", "tiny": "0.0000001", "wide": "12345678901234567890.123456789",
        "count": "42", "big": "9007199254740993", "ratio": "1.5", "yes": "true", "no": "false", "nothing": None,
        "blank": "", "day": "2026-01-31", "naive": "2026-01-31 23:00:00",
        "naive_fraction": "2026-01-31 23:00:00.500000",
        "aware": "2026-01-31T21:00:00Z", "utc": "2026-01-31T23:00:00.123456Z", "clock": "07:30:00",
        "literal": "%d :name %%", "unicode": "Zürich ☃",
    }]


def test_an_aware_timestamp_keeps_its_offset() -> None:
    # What a driver hands over for a column with a zone (psycopg: in the session's zone): the instant as given.
    india = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert database._text(dt.datetime(2026, 2, 1, 4, 30, tzinfo=india)) == "2026-02-01T04:30:00+05:30"
    assert database._text(dt.datetime(2026, 1, 31, 23, 0, 0, 1, tzinfo=dt.UTC)) == "2026-01-31T23:00:00.000001Z"


def test_an_empty_result_keeps_its_columns(warehouse_url: str) -> None:
    table = fetch(warehouse_url, "SELECT id, balance FROM zuora.account WHERE false", key=KEY)
    assert table.num_rows == 0
    assert table.schema == pa.schema([("id", pa.string()), ("balance", pa.string())])


@pytest.fixture(scope="module")
def scratch(warehouse: Warehouse) -> Iterator[str]:
    """A 50 000-row table and a sequence in schema `scratch`, readable by the warehouse's reader."""
    warehouse.admin(
        "CREATE SCHEMA scratch",
        "CREATE TABLE scratch.large AS SELECT n AS id, 'customer ' || n AS name, (n * 1.25)::numeric(12, 2) AS amount,"
        " TIMESTAMP '2026-01-01' + n * INTERVAL '1 second' AS updated_at, n % 2 = 0 AS even"
        " FROM generate_series(1, 50000) AS n ORDER BY n",
        "CREATE SEQUENCE scratch.counter",
        "GRANT USAGE ON SCHEMA scratch TO reader",
        "GRANT SELECT, USAGE ON ALL SEQUENCES IN SCHEMA scratch TO reader",
        "GRANT SELECT ON ALL TABLES IN SCHEMA scratch TO reader",
    )
    yield "scratch"
    warehouse.admin("DROP SCHEMA scratch CASCADE")


def test_a_large_table_streams_in_batches(warehouse: Warehouse, scratch: str) -> None:
    table = fetch(warehouse.url, f"{scratch}.large", key=KEY)
    assert table.num_rows == 50_000
    assert table.column("id").num_chunks == 50_000 // database.BATCH_ROWS  # one Arrow batch per fetched batch
    assert table.slice(49_999).to_pylist() == [
        {"id": "50000", "name": "customer 50000", "amount": "62500.00", "updated_at": "2026-01-01 13:53:20",
         "even": "true"}]
    assert texts(table, "id")[:3] == ["1", "2", "3"]


def test_the_session_only_reads(warehouse: Warehouse, scratch: str) -> None:
    # nextval() writes; SET TRANSACTION READ ONLY refuses it although the check lets a SELECT through.
    with pytest.raises(InputError, match="read-only transaction"):
        fetch(warehouse.url, f"SELECT nextval('{scratch}.counter')", key=KEY)


# ---- ${VAR} in the URL ----


def test_variables_in_the_url_come_from_the_environment(warehouse: Warehouse, warehouse_url: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_PASSWORD", quote(warehouse.password, safe=""))
    monkeypatch.setenv("WAREHOUSE_USER", "reader")
    url = (f"postgresql+psycopg://${{WAREHOUSE_USER}}:${{WAREHOUSE_PASSWORD}}@/warehouse"
           f"?host={warehouse.cluster.socket_dir}&port={warehouse.cluster.port}")
    assert expand_url(url, key=KEY).startswith(f"postgresql+psycopg://reader:{quote(warehouse.password, safe='')}@/")
    assert fetch(url, "zuora.product", key=KEY).num_rows == 5


def test_only_braced_names_are_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A", "x")
    assert expand_url("db://u:$A${A}$${A}${A-}@h/d", key=KEY) == "db://u:$Ax$x${A-}@h/d"


def test_a_missing_variable_is_a_config_error_naming_key_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_USER", "s3cret-user")
    monkeypatch.delenv("WAREHOUSE_PASSWORD", raising=False)
    url = "postgresql+psycopg://${WAREHOUSE_USER}:${WAREHOUSE_PASSWORD}@127.0.0.1:1/warehouse"
    with pytest.raises(ConfigError) as caught:
        fetch(url, "zuora.account", key=KEY)  # refused before connecting: nothing listens there
    assert caught.value.exit_code == 3
    assert str(caught.value) == (f"{KEY}: environment variable WAREHOUSE_PASSWORD is not set "
                                 "(the URL names it as ${WAREHOUSE_PASSWORD})")
    assert "s3cret-user" not in "".join(traceback.format_exception(caught.value))


# ---- errors never show the URL or its password ----


def test_a_wrong_password_is_an_input_error_without_the_secret(warehouse: Warehouse) -> None:
    if not warehouse.passwords_checked:
        pytest.skip("this cluster accepts any password (its pg_hba.conf could not be rewritten)")
    wrong = "Wr0ng-p@ss/word%"
    url = warehouse.reader_url(wrong)
    with pytest.raises(InputError) as caught:
        fetch(url, "zuora.account", key=KEY)
    error = caught.value
    assert error.exit_code == 4
    assert error.file == KEY
    assert error.problem.startswith("connecting to the database failed: ")
    assert 'password authentication failed for user "reader"' in str(error)
    assert_secret_kept(error, wrong, quote(wrong, safe=""), url, warehouse.password)


def test_the_secret_is_cut_out_of_whatever_the_database_says(warehouse: Warehouse) -> None:
    # A driver message that quotes the login: here the user name is the password itself.
    secret = "Hunter2-s3cret"
    url = (f"postgresql+psycopg://{secret}:{secret}@/warehouse"
           f"?host={warehouse.cluster.socket_dir}&port={warehouse.cluster.port}")
    with pytest.raises(InputError) as caught:
        fetch(url, "zuora.account", key=KEY)
    assert "connecting to the database failed" in str(caught.value)
    assert 'for user "***"' in str(caught.value) or 'role "***"' in str(caught.value)
    assert_secret_kept(caught.value, secret, url)


def test_a_variable_holding_the_whole_url_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_URL", NOWHERE)
    with pytest.raises(InputError) as caught:
        fetch("${WAREHOUSE_URL}", "zuora.account", key=KEY)
    assert "connecting to the database failed" in str(caught.value)
    assert "Connection refused" in str(caught.value)
    assert_secret_kept(caught.value, NOWHERE, "n0t-THE-s3cret", "reader:n0t-THE-s3cret@127.0.0.1:1")


def test_an_unreachable_host_is_an_input_error_without_the_secret(warehouse: Warehouse) -> None:
    url = (f"postgresql+psycopg://reader:{quote(warehouse.password, safe='')}@/warehouse"
           f"?host={warehouse.cluster.socket_dir}-gone&port={warehouse.cluster.port}")
    with pytest.raises(InputError) as caught:
        fetch(url, "zuora.account", key=KEY)
    assert caught.value.problem.startswith("connecting to the database failed: ")
    assert_secret_kept(caught.value, warehouse.password, quote(warehouse.password, safe=""), url)


def test_a_missing_table_is_an_input_error_without_the_secret(warehouse: Warehouse) -> None:
    with pytest.raises(InputError) as caught:
        fetch(warehouse.url, "zuora.no_such_table", key=KEY)
    assert str(caught.value) == (f'{KEY}: reading table zuora.no_such_table failed: '
                                 'relation "zuora.no_such_table" does not exist')
    assert_secret_kept(caught.value, warehouse.password, quote(warehouse.password, safe=""), warehouse.url)


def test_a_failing_query_says_what_the_database_said(warehouse: Warehouse, warehouse_url: str) -> None:
    with pytest.raises(InputError) as caught:
        fetch(warehouse_url, "SELECT no_such_column FROM zuora.account", key=KEY)
    assert str(caught.value).startswith(f'{KEY}: running the query failed: column "no_such_column" does not exist')
    assert "CURSOR" not in str(caught.value)  # the server-side cursor this reader declared is not the user's SQL
    assert_secret_kept(caught.value, warehouse.password, warehouse_url)


def test_a_database_the_reader_may_not_read_is_an_input_error(warehouse: Warehouse) -> None:
    url = warehouse.url.replace("/warehouse?", "/postgres?")
    with pytest.raises(InputError) as caught:
        fetch(url, "pg_catalog.pg_authid", key=KEY)
    assert "permission denied" in str(caught.value)
    assert_secret_kept(caught.value, warehouse.password, url)


# ---- refused before connecting (no server needed) ----


@pytest.fixture
def no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a refused query must not reach the database")

    monkeypatch.setattr(sqlalchemy, "create_engine", refuse)


@pytest.mark.parametrize(("query", "why"), [
    ("DELETE FROM zuora.account", "it is DELETE, not SELECT"),
    ("SELECT 1; SELECT 2", "it holds 2 statements"),
    ("SELECT * FROM zuora.account; DROP TABLE zuora.account", "it holds 2 statements"),
    ("WITH gone AS (DELETE FROM zuora.account RETURNING *) SELECT * FROM gone", "it holds DELETE"),
    ("SELECT * INTO copied FROM zuora.account", "it holds SELECT … INTO"),
    ("SELECT * FROM zuora.account FOR UPDATE", "it holds FOR UPDATE / FOR SHARE"),
    ("UPDATE zuora.account SET name = 'x'", "it is UPDATE, not SELECT"),
    ("COPY zuora.account TO '/tmp/x.csv'", "it is COPY, not SELECT"),
    ("TRUNCATE zuora.account", "it is TRUNCATE"),
    ("SET ROLE tieout", "it is SET, not SELECT"),
    ("EXPLAIN ANALYZE DELETE FROM zuora.account", "it is EXPLAIN, not SELECT"),
    ("", "it is empty"),
    (" ; ", "it is empty"),
    ("-- nothing but a comment", "it is empty"),
    ("SELECT 1 /* a /* b */ c */", "a comment inside a /* comment */"),
    ("SELECT FROM WHERE (", "it is not SQL that can be read"),
    ('"zuora"."account"', "a table name is letters, digits"),
])
def test_anything_but_one_select_is_refused_before_connecting(query: str, why: str, no_connection: None) -> None:
    with pytest.raises(ConfigError) as caught:
        fetch(NOWHERE, query, key=KEY)
    assert caught.value.exit_code == 3
    assert str(caught.value).startswith(f"{KEY}: the query is refused: ")
    assert why in str(caught.value)
    assert_secret_kept(caught.value, "n0t-THE-s3cret")


def test_a_url_that_cannot_be_read_is_a_config_error_without_the_secret() -> None:
    for url in ("not a url with s3cret-pw in it", "nosuchdialect://reader:s3cret-pw@db.example.com/warehouse"):
        with pytest.raises(ConfigError) as caught:
            fetch(url, "zuora.account", key=KEY)
        assert str(caught.value).startswith(f"{KEY}: ")
        assert_secret_kept(caught.value, "s3cret-pw", url)


# ---- any database SQLAlchemy reaches (no server needed) ----


def test_any_sqlalchemy_database(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "w.db"
    with sqlite3.connect(path) as connection:
        connection.execute('CREATE TABLE "order" (id TEXT, amount NUMERIC, paid BOOLEAN, note TEXT)')
        connection.executemany('INSERT INTO "order" VALUES (?, ?, ?, ?)',
                               [("o1", 12.5, True, None), ("o2", 3, False, "x")])
    url = f"sqlite:///{path}"
    table = fetch(url, "order", key=KEY)
    assert table.to_pylist() == [{"id": "o1", "amount": "12.5", "paid": "1", "note": None},
                                 {"id": "o2", "amount": "3", "paid": "0", "note": "x"}]
    assert fetch(url, "SELECT id FROM \"order\" WHERE paid", key=KEY).to_pylist() == [{"id": "o1"}]


def test_the_type_map_names_real_columns() -> None:
    # A typo in COLUMN_TYPES would silently leave a column text: every entry must name a loaded column.
    if not REALDATA.is_dir():
        pytest.skip(f"{REALDATA} is not here (../shared/realdata)")
    columns = set()
    for schema, (_, _, tables) in SOURCES.items():
        for table in tables:
            header, _ = read_csv(realdata_file(schema, table))
            columns |= {name for c in header for name in (f"{schema}.{table}.{c}", f"{schema}.{c}", c)}
    assert set(COLUMN_TYPES) <= columns


def test_no_log_line_holds_the_secret(warehouse: Warehouse, caplog: pytest.LogCaptureFixture) -> None:
    # Even with every logger at DEBUG (SQLAlchemy then logs its pool and each statement).
    for name in (None, "sqlalchemy", "psycopg"):
        caplog.set_level(logging.DEBUG, logger=name)
    fetch(warehouse.url, "SELECT 1 AS one", key=KEY)
    with pytest.raises(InputError):
        fetch(warehouse.reader_url(warehouse.password + "x"), "SELECT 1", key=KEY)
    with pytest.raises(InputError):
        fetch(warehouse.url, "SELECT * FROM no_such_table", key=KEY)
    assert caplog.records  # logging was on
    for secret in (warehouse.password, quote(warehouse.password, safe=""), warehouse.url):
        assert secret not in caplog.text
