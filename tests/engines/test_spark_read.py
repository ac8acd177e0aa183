"""The standard layout read and checked on Spark (`tieout.sources.spark_read`): a bad export is refused with
exactly DuckDB's message (file, row, column) and the store is left as it was; a good one gives the very tables
DuckDB's read gives — on DuckDB's side (resolution, source history) and on Spark's; the demo's files are read
by Spark, not handed over from DuckDB.

Each case is one tiny project and one call: `tieout.run_day(..., spark=session)` for a refusal (it stops at the
read, before any Spark SQL of the day), `read_day_on_spark` for a good day.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.conftest import HEALTHY_DAY, new_project, tree_digest, write_day
from tests.engines.test_engines_agree import API_DAY, SparkStretch, _demo
from tests.test_bad_input import CASES
from tieout.config import load_project
from tieout.db import connect
from tieout.engines import SparkEngine
from tieout.errors import InputError
from tieout.sources.layout import STANDARD_LAYOUT
from tieout.sources.read import read_day
from tieout.sources.spark_read import RECORD_TABLES, SparkRead, read_day_on_spark

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

STORED, DAY = "2026-01-20", "2026-01-21"
ACCOUNTS = HEALTHY_DAY["crm_accounts.csv"]
INVOICES = HEALTHY_DAY["billing_invoices.csv"]
TENANTS = HEALTHY_DAY["ops_tenants.csv"]

# The hostile exports, with those of tests/test_bad_input.py that test what Spark itself could misread
# (the structure of a line, its bytes, its ending). Each: files replaced, the file and phrase of the refusal.
REFUSED: dict[str, Refusal] = {
    **{case: (files, filename, phrase) for case, (files, filename, _, phrase) in CASES.items() if case in (
        "unparsable date", "amount with too many decimals", "empty required id", "duplicate primary key",
        "duplicate composite key", "NUL in a name", "too many cells", "truncated file", "not UTF-8",
        "mixed CRLF and LF", "timestamp without a time zone", "header only", "missing column")},
    "a quoted line break": ({"crm_accounts.csv": ACCOUNTS.replace("Acme Analytics Inc.", '"Acme\nAnalytics Inc."')},
                            "crm_accounts.csv", "control character"),
    "a currency with no rate": ({"billing_invoices.csv": INVOICES.replace(",USD,", ",EUR,")},
                                "billing_invoices.csv", "no rate into the reporting currency"),
    "text after a closing quote": ({"ops_tenants.csv": TENANTS.replace(",acme-prod,", ',"acme"-prod,')},
                                   "ops_tenants.csv", "unterminated quote"),
    "a line ending in CRLF after a quoted cell": (
        {"ops_tenants.csv": TENANTS.replace(",active\n", ',"active"\r\n') + "t-2,b,b.com,2025-06-01,x\n"},
        "ops_tenants.csv", "quote"),
    "mixed CRLF and LF, the last line without either": (
        {"crm_accounts.csv": ACCOUNTS.replace("\n", "\r\n", 1) + "A2,Foo,foo.com,,bo,2026-01-20T23:00:00Z"},
        "crm_accounts.csv", "line endings"),
    "a minute 60": ({"crm_accounts.csv": ACCOUNTS.replace("T23:00:00Z", "T23:60:00Z")},
                    "crm_accounts.csv", "with its time zone"),
    "a byte order mark inside a cell": ({"ops_tenants.csv": TENANTS.replace("acme-prod", "acme\ufeffprod")},
                                        "ops_tenants.csv", "control character"),
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny project with one day stored (on DuckDB: the refusals are of the next day)."""
    from tieout.run import run_day

    root = new_project(tmp_path_factory.mktemp("spark-read") / "project", {STORED: {}})
    run_day(load_project(root), date.fromisoformat(STORED))
    return root


def _duckdb_refusal(project: Path) -> str:
    con = connect()
    try:
        read_day(con, load_project(project), date.fromisoformat(DAY))
    except InputError as e:
        return str(e)
    finally:
        con.close()
    raise AssertionError("DuckDB accepted the day")


def assert_refused_as_on_duckdb(project: Path, spark: Any, *named: tuple[str, str]) -> None:
    """`tieout.run_day` on Spark refuses `project`'s DAY with exactly DuckDB's message, in which each (file,
    phrase) of `named` is one problem's, and leaves the store as it was."""
    import tieout

    expected = _duckdb_refusal(project)
    before = tree_digest(project / ".tieout")
    with pytest.raises(InputError) as refused:
        tieout.run_day(str(project), DAY, spark=spark)
    assert str(refused.value) == expected
    problems = expected.lower().splitlines()
    for filename, phrase in named:
        assert any(filename.lower() in p and phrase.lower() in p for p in problems), (filename, phrase, expected)
    assert tree_digest(project / ".tieout") == before  # the staging folder is gone, nothing else was written


Refusal = tuple[dict[str, str | bytes], str, str]  # the files a case replaces, the file and phrase refusing it


def in_days(cases: dict[str, Refusal]) -> list[list[str]]:
    """`cases` in groups that replace no file twice, in order: each group is one day, whose refusal names each
    of its cases (a day's refusal names every bad export: `read_day`). One read on Spark a group rather than a
    case: each read is a few seconds of Spark jobs starting."""
    groups: list[tuple[list[str], set[str]]] = []
    for case, (files, _, _) in cases.items():
        group = next((g for g in groups if not g[1] & set(files)), None)
        if group is None:
            groups.append(group := ([], set()))
        group[0].append(case)
        group[1].update(files)
    return [names for names, _ in groups]


@pytest.mark.parametrize("day", in_days(REFUSED), ids=" + ".join)
def test_a_bad_export_is_refused_on_spark_with_duckdbs_words(day: list[str], stored: Path, spark: Any,
                                                             tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(stored, project)
    write_day(project, DAY, {name: body for case in day for name, body in REFUSED[case][0].items()})
    assert_refused_as_on_duckdb(project, spark, *(REFUSED[case][1:] for case in day))


def test_every_bad_export_of_a_day_is_named_on_spark_as_on_duckdb(stored: Path, spark: Any, tmp_path: Path) -> None:
    import tieout

    project = tmp_path / "project"
    shutil.copytree(stored, project)
    write_day(project, DAY, {"crm_accounts.csv": ACCOUNTS + "A1,Again,acme.com,,bo,\n",
                             "billing_invoices.csv": INVOICES.replace("10000.00", "10000.00001"),
                             "ops_tenants.csv": TENANTS.replace("2025-06-01", "2025-6-1")})
    expected = _duckdb_refusal(project)
    with pytest.raises(InputError) as refused:
        tieout.run_day(str(project), DAY, spark=spark)
    assert str(refused.value) == expected
    assert "3 problems in the exports" in expected


# A good day with what an export may hold: a BOM, CRLF endings (the last line without), quoted commas and
# doubled quotes, quoted empty cells, blanks kept around text, statuses and currencies in any case, signed money at
# its widest, timestamps with offsets, fractions and a space.
RICH_DAY = {
    "crm_accounts.csv": (b"\xef\xbb\xbf" + (
        "account_id,legal_name,domain,tax_id,owner,updated_at\r\n"
        'A1,"Acme, ""Analytics"" Inc.",acme.com,12-3456789,ana,2026-01-20T23:00:00Z\r\n'
        'A2," Zoë  Ltd ","",,"bo",2026-01-20 23:00:00.5+05:30\r\n'
        "A3,Ω Corp,omega.io,99,cy,2024-02-29T00:00:00-14:00\r\n"
        "A4,Late,late.io,,dee,0001-01-01T00:00:00-14").encode()),  # no line ending at the end, as loaders write
    "billing_invoices.csv": (
        "invoice_id,customer_id,period_start,period_end,issued_on,status,amount,currency,billed_fte,updated_at\n"
        "in_1,cus_1,2026-01-01,2026-01-31,2026-01-01,PAID,10000.00,usd,50,2026-01-20T23:00:00Z\n"
        "in_2,cus_1,2026-01-01,2026-01-31,,Void,-1234567890123456.1234,USD,0.0001,\n"
        'in_3,cus_1,2026-01-01,2026-01-31,,"open",0,Usd,12345678901234.5,2026-01-20T23:00:00.123456+0530\n'),
}


def _read_both(project: Path, engine: SparkEngine) -> tuple[SparkRead, Any, Any]:
    loaded = load_project(project)
    reference, on_spark = connect(), connect()
    read_day(reference, loaded, date.fromisoformat(DAY))
    return read_day_on_spark(engine, on_spark, loaded, date.fromisoformat(DAY)), reference, on_spark


def _assert_same_tables(read: SparkRead, reference: Any, on_spark: Any, engine: SparkEngine) -> None:
    for spec in STANDARD_LAYOUT:
        expected = reference.sql(f"SELECT * FROM {spec.table}").to_arrow_table()
        duck = on_spark.sql(f"SELECT * FROM {spec.table}").to_arrow_table()
        assert duck.schema == expected.schema, spec.table
        if spec.table in RECORD_TABLES:  # in file order, as resolution reads them
            assert duck.to_pylist() == expected.to_pylist(), spec.table
        else:
            assert sorted(map(repr, duck.to_pylist())) == sorted(map(repr, expected.to_pylist())), spec.table
        spark_rows = engine.read_table(spec.table)
        assert spark_rows.schema == pa.schema([f.with_nullable(True) for f in expected.schema]), spec.table
        assert sorted(map(repr, spark_rows.to_pylist())) == sorted(map(repr, expected.to_pylist())), spec.table


def test_a_good_day_read_on_spark_gives_duckdbs_tables(stored: Path, spark: Any, tmp_path: Path) -> None:
    project = new_project(tmp_path / "project", {DAY: RICH_DAY})
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert sorted(read.on_spark) == sorted(f.table for f in STANDARD_LAYOUT)  # none fell back to DuckDB
        assert read.counts == {"crm_accounts": 4, "crm_contracts": 1, "billing_customers": 1, "billing_invoices": 3,
                               "ops_tenants": 1, "ops_usage": 2}
        _assert_same_tables(read, reference, on_spark, engine)
        names = [r[0] for r in on_spark.execute("SELECT legal_name FROM crm_accounts").fetchall()]
        assert names == ['Acme, "Analytics" Inc.', " Zoë  Ltd ", "Ω Corp", "Late"]
        again, _, _ = _read_both(project, engine)  # one engine reads a day twice: its staged files are new ones
        assert sorted(again.on_spark) == sorted(read.on_spark) and again.counts == read.counts
    finally:
        engine.close()


def test_what_spark_is_stricter_about_is_read_by_duckdb(spark: Any, tmp_path: Path) -> None:
    """A quote inside an unquoted cell, a timestamp without seconds: DuckDB accepts them, Spark leaves the file to
    DuckDB's read, which is then the day's — handed to Spark as before."""
    project = new_project(tmp_path / "project", {DAY: {
        "ops_tenants.csv": TENANTS.replace("acme-prod", 'acme"prod'),
        "crm_accounts.csv": ACCOUNTS.replace("T23:00:00Z", "T23:00Z"),
    }})
    engine = SparkEngine.open(load_project(project), session=spark)
    try:
        read, reference, on_spark = _read_both(project, engine)
        assert "ops_tenants" not in read.on_spark and "crm_accounts" not in read.on_spark
        assert "ops_usage" in read.on_spark
        for table in ("ops_tenants", "crm_accounts"):
            assert (on_spark.sql(f"SELECT * FROM {table}").to_arrow_table()
                    == reference.sql(f"SELECT * FROM {table}").to_arrow_table())
    finally:
        engine.close()


def test_the_demos_files_are_read_by_spark(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    world = _demo(tmp_path_factory)
    project = load_project(world)
    engine = SparkEngine.open(project, session=spark)
    try:
        on_spark = connect()
        read = read_day_on_spark(engine, on_spark, project, API_DAY)
        assert sorted(read.on_spark) == sorted(f.table for f in STANDARD_LAYOUT)
        reference = connect()
        assert read.counts == read_day(reference, project, API_DAY)
        for table in RECORD_TABLES:
            assert (on_spark.sql(f"SELECT * FROM {table}").to_arrow_table()
                    == reference.sql(f"SELECT * FROM {table}").to_arrow_table()), table
    finally:
        engine.close()


def test_source_history_from_sparks_read_is_duckdbs(spark_stretch: SparkStretch, tmp_path: Path) -> None:
    """The API day of the shared stretch was read on Spark and stored; the same day on DuckDB stores the same
    source history (the big tables reach it as Spark's Parquet)."""
    from tieout.run import run_day
    from tieout.store.history_files import history_path, scan

    world = tmp_path / "duckdb"
    shutil.copytree(spark_stretch.api_world, world)
    shutil.rmtree(world / ".tieout")
    run_day(load_project(world), API_DAY)
    on_spark = history_path(load_project(spark_stretch.api_world), API_DAY)
    on_duckdb = history_path(load_project(world), API_DAY)
    con = connect()

    def rows(path: Path) -> list[str]:
        return sorted(map(repr, con.sql(f"SELECT * FROM {scan([path])}").fetchall()))  # a baseline's tables

    spark_rows = rows(on_spark)
    assert len(spark_rows) > 100  # a baseline: every record of the day
    assert spark_rows == rows(on_duckdb)
