"""A `sql` source (contract §3b): one query or table per standard table over a database URL whose `${VAR}` is
read from the environment, against the test session's own PostgreSQL; the URL is never printed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import invoke, new_project, write_day
from tests.sources.warehouse import Warehouse
from tieout.config import load_project
from tieout.sources.read import read_day

DAY = "2026-01-20"
OPS_SQL = """\
sources:
  ops:
    format: sql
    url: ${PRODUCT_DB}
    tables:
      ops_tenants:
        query: product.workspaces
        columns: {tenant_id: id, display_name: workspace, domain: primary_domain, created_on: created_at, status: state}
      ops_usage:
        query: "SELECT tenant_id, day, dau, seats_in_use FROM product.daily_usage WHERE day > DATE '2026-01-01'"
        columns: {tenant_id: tenant_id, date: day, active_users: dau, fte_count: seats_in_use}
"""


@pytest.fixture(scope="module")
def product_db(warehouse: Warehouse) -> Warehouse:
    """The product database as a loader lands it: typed columns (dates, integers), its own names."""
    warehouse.admin(
        "DROP SCHEMA IF EXISTS product CASCADE",
        "CREATE SCHEMA product",
        "CREATE TABLE product.workspaces (id text, workspace text, primary_domain text, created_at date, state text)",
        "INSERT INTO product.workspaces VALUES ('t-1', 'acme-prod', 'acme.com', DATE '2025-06-01', 'active')",
        "CREATE TABLE product.daily_usage (tenant_id text, day date, dau integer, seats_in_use numeric(10, 2))",
        "INSERT INTO product.daily_usage VALUES ('t-1', DATE '2026-01-19', 45, 50), ('t-1', DATE '2026-01-20', 44, 50)",
        "GRANT USAGE ON SCHEMA product TO reader",
        "GRANT SELECT ON ALL TABLES IN SCHEMA product TO reader",
    )
    return warehouse


def _project(tmp_path: Path) -> Path:
    root = new_project(tmp_path / "p", {DAY: {}}, OPS_SQL)
    for name in ("ops_tenants.csv", "ops_usage.csv"):
        (root / "exports" / DAY / name).unlink()
    return root


def _ops(root: Path) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect()
    read_day(con, load_project(root), date.fromisoformat(DAY))
    return {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("ops_tenants", "ops_usage")}


def test_a_database_source_reads_as_the_standard_layout(tmp_path: Path, product_db: Warehouse,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRODUCT_DB", product_db.url)
    assert _ops(_project(tmp_path)) == _ops(new_project(tmp_path / "standard", {DAY: {}}))


def test_a_database_day_reconciles_and_never_prints_the_url(tmp_path: Path, product_db: Warehouse,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    monkeypatch.setenv("PRODUCT_DB", product_db.url)
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 0, result.output
    assert json.loads(invoke("exceptions", "-p", str(root), "--format", "json").output) == []
    monkeypatch.setenv("PRODUCT_DB", product_db.reader_url("not-the-password"))
    refused = invoke("run", "-p", str(root), "--as-of", DAY)
    assert refused.exit_code == 4
    assert "sources.ops.url" in refused.output
    for secret in (product_db.password, "not-the-password", product_db.url):
        assert secret not in refused.output


def test_a_bad_value_in_a_query_result_names_its_row_and_column(tmp_path: Path, product_db: Warehouse,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    yml = (root / "tieout.yml").read_text().replace("dau, seats_in_use FROM", "-dau AS dau, seats_in_use FROM")
    (root / "tieout.yml").write_text(yml)
    monkeypatch.setenv("PRODUCT_DB", product_db.url)
    result = invoke("run", "-p", str(root), "--as-of", DAY)
    assert result.exit_code == 4
    assert ("sources.ops (SELECT tenant_id, day, -dau AS dau, seats_in_use FROM product.daily_usage WHERE day > "
            "DATE '2026-01-01'), row 1 of the result, column 'dau': '-45' is not a whole number that is not "
            "negative") in " ".join(result.output.split())
    assert not (root / ".tieout").exists()


def test_an_unset_variable_is_named_without_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRODUCT_DB", raising=False)
    result = invoke("run", "-p", str(_project(tmp_path)), "--as-of", DAY)
    assert result.exit_code == 3
    assert "PRODUCT_DB" in result.output


def test_date_in_a_query_is_the_as_of_day_and_makes_past_days_readable(tmp_path: Path, product_db: Warehouse,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from tieout.sources.read import past_day_unreadable

    root = _project(tmp_path)
    monkeypatch.setenv("PRODUCT_DB", product_db.url)
    live = past_day_unreadable(load_project(root), date(2026, 1, 19))
    assert live == ("sources.ops reads a database as it is now (not every query names {date}), so 2026-01-19 is "
                    "not read again")
    yml = (root / "tieout.yml").read_text()
    yml = yml.replace("query: product.workspaces",
                      'query: "SELECT * FROM product.workspaces WHERE created_at <= {date}"')
    yml = yml.replace("WHERE day > DATE '2026-01-01'", "WHERE day <= {date}")
    (root / "tieout.yml").write_text(yml)
    for name in ("ops_tenants.csv", "ops_usage.csv"):
        (write_day(root, "2026-01-19") / name).unlink()
    project = load_project(root)
    assert past_day_unreadable(project, date(2026, 1, 19)) is None
    con = duckdb.connect()
    read_day(con, project, date(2026, 1, 19))  # the warehouse as it was that day: one usage row so far
    assert con.sql("SELECT count(*), max(date) FROM ops_usage").fetchall() == [(1, date(2026, 1, 19))]
