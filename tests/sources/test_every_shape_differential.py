"""Issue 12's differential for the shapes the vendor demo does not write: one generated world, backfilled in the
standard layout, and the same days in two projects that together read every other shape through `sources:`

- HubSpot's tables (CRM), Chargebee's CSV export (billing) and Parquet files (ops);
- JSON list objects (CRM), a PostgreSQL warehouse that keeps each day's billing tables, read by `sql` queries
  naming `{date}` (so a past day is read again as it was), and JSON Lines (ops);

each gives exactly the standard world's findings over the backfill: every exception with every field, the
timeline, and the entities of the last day. The renderers are the format tests' own (`*_shape.py`)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg import sql

from tests.conftest import built_once, invoke
from tests.sources.chargebee_shape import as_chargebee
from tests.sources.generic_shape import Typed, renamed, write_json, write_parquet
from tests.sources.hubspot_shape import HUBSPOT, render_hubspot
from tests.sources.warehouse import DATABASE, READER, Warehouse
from tests.sources.zuora_shape import standard_rows
from tests.state.pg import SUPERUSER
from tieout.config import load_project
from tieout.demo import MIN_COMPANIES, MIN_DAYS, generate_world
from tieout.sources.read import past_day_unreadable

pytestmark = pytest.mark.slow

# Two weeks of the smallest world in which planted cases open, resolve (as timing) and reopen.
FIRST, LAST = date(2026, 2, 1), date(2026, 2, 14)
DAYS = [(FIRST + timedelta(days=n)).isoformat() for n in range((LAST - FIRST).days + 1)]
BILLING_FILES = ("billing_customers.csv", "billing_invoices.csv")

# The systems' own column names (standard column -> theirs).
ACCOUNTS = {"account_id": "id", "legal_name": "name", "domain": "website_domain", "tax_id": "tax_number",
            "owner": "owner", "updated_at": "modified_at"}
CONTRACTS = {"contract_id": "id", "account_id": "account", "status": "state", "start_date": "starts",
             "end_date": "ends", "annual_value": "arr", "currency": "currency", "contracted_fte": "seats",
             "updated_at": "modified_at"}
TENANTS = {"tenant_id": "workspace_id", "display_name": "workspace", "domain": "primary_domain",
           "created_on": "created_at", "status": "state"}
USAGE = {"tenant_id": "workspace_id", "date": "day", "active_users": "dau", "fte_count": "seats_in_use"}
CUSTOMERS = {"customer_id": "id", "name": "company", "email": "billing_email", "tax_id": "vat_number",
             "updated_at": "updated"}
INVOICES = {"invoice_id": "id", "customer_id": "customer", "period_start": "service_start",
            "period_end": "service_end", "issued_on": "issued", "status": "state", "amount": "total",
            "currency": "currency", "billed_fte": "seats", "updated_at": "updated"}
NUMBER: Typed = {"arr": json.loads, "seats": json.loads, "dau": json.loads, "seats_in_use": json.loads}  # JSON numbers
PARQUET: Typed = {"created_at": date.fromisoformat, "day": date.fromisoformat, "dau": int, "seats_in_use": Decimal}

# The warehouse's billing tables: one copy of each table per day (`as_of`), typed as a loader types them.
SCHEMA = "billing_daily"
WAREHOUSE_TABLES = {
    "customers": (CUSTOMERS, {"updated": "timestamptz"}),
    "invoices": (INVOICES, {"service_start": "date", "service_end": "date", "issued": "date", "total": "numeric(14, 2)",
                            "seats": "numeric(10, 2)", "updated": "timestamptz"}),
}


def _backfill(project: Path) -> None:
    result = invoke("backfill", "-p", str(project), "--from", DAYS[0], "--to", DAYS[-1])
    assert result.exit_code == 0, result.output


def _json(project: Path, *args: str) -> Any:
    result = invoke(*args, "-p", str(project), "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _findings(project: Path) -> dict[str, Any]:
    return {"exceptions": _json(project, "exceptions", "--status", "all"), "timeline": _json(project, "timeline"),
            "entities": _json(project, "entities", "--as-of", DAYS[-1])}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The world in the standard layout, backfilled over DAYS, and its findings."""
    def build(folder: Path) -> None:
        generate_world(folder, companies=MIN_COMPANIES, days=MIN_DAYS)
        _backfill(folder)

    root = built_once(tmp_path_factory, "every-shape-standard-world", build)
    found = _findings(root)
    assert found["exceptions"], "the window raises exceptions"
    assert {e["status"] for e in found["exceptions"]} >= {"open", "resolved"}
    return root, found


def _rows(world: Path, day: str, name: str) -> list[dict[str, str]]:
    return standard_rows((world / "exports" / day / name).read_text(encoding="utf-8"))


def _shaped(world: Path, root: Path, sources: dict[str, Any], render: Callable[[Path, Path], None]) -> Path:
    """A project of `world`'s entity map and DAYS, each day's folder written by `render(standard, folder)`."""
    root.mkdir()
    config = (world / "tieout.yml").read_text(encoding="utf-8")
    (root / "tieout.yml").write_text(config + yaml.safe_dump({"sources": sources}, sort_keys=False), encoding="utf-8")
    shutil.copyfile(world / "entity_map.csv", root / "entity_map.csv")
    for day in DAYS:
        folder = root / "exports" / day
        folder.mkdir(parents=True)
        render(world / "exports" / day, folder)
    assert past_day_unreadable(load_project(root), FIRST) is None  # every day is read again as it was
    return root


def _files(fmt: str, tables: dict[str, tuple[str, dict[str, str]]]) -> dict[str, Any]:
    return {"format": fmt, "path": fmt,
            "tables": {table: {"file": file, "columns": columns} for table, (file, columns) in tables.items()}}


def _assert_same_findings(shaped: Path, expected: dict[str, Any]) -> None:
    _backfill(shaped)
    got = _findings(shaped)
    assert got["exceptions"] == expected["exceptions"]
    assert got["timeline"] == expected["timeline"]
    assert got["entities"] == expected["entities"]


def test_hubspot_chargebee_and_parquet_give_the_standard_findings(
        world: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    standard, expected = world
    sources = {
        "crm": yaml.safe_load(HUBSPOT)["sources"]["crm"],
        "billing": {"format": "chargebee"},
        "ops": _files("parquet", {"ops_tenants": ("tenants.parquet", TENANTS), "ops_usage": ("usage.parquet", USAGE)}),
    }

    def render(day: Path, folder: Path) -> None:
        render_hubspot(day, folder / "hubspot")
        for name in BILLING_FILES:
            shutil.copyfile(day / name, folder / name)
        as_chargebee(folder)  # replaces them
        for name, columns in (("tenants", TENANTS), ("usage", USAGE)):
            rows = standard_rows((day / f"ops_{name}.csv").read_text(encoding="utf-8"))
            write_parquet(folder / "parquet" / f"{name}.parquet", renamed(rows, columns, PARQUET))

    _assert_same_findings(_shaped(standard, tmp_path / "shaped", sources, render), expected)


def _load_billing_days(warehouse: Warehouse, world: Path) -> None:
    """Every day's billing tables of `world` into the warehouse, under their own names, with the day."""
    with psycopg.connect(host=str(warehouse.cluster.socket_dir), port=warehouse.cluster.port, user=SUPERUSER,
                         dbname=DATABASE, autocommit=True) as connection:
        schema = sql.Identifier(SCHEMA)
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema))
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
        for table, (columns, types) in WAREHOUSE_TABLES.items():
            names, kinds = ["as_of", *columns.values()], {"as_of": "date", **types}
            name = sql.Identifier(SCHEMA, table)
            connection.execute(sql.SQL("CREATE TABLE {} ({})").format(name, sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(kinds.get(c, "text"))) for c in names)))
            copy = sql.SQL("COPY {} ({}) FROM STDIN").format(name, sql.SQL(", ").join(map(sql.Identifier, names)))
            with connection.cursor().copy(copy) as writer:
                for day in DAYS:
                    for record in renamed(_rows(world, day, f"billing_{table}.csv"), columns):
                        writer.write_row([day, *record.values()])
        connection.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, sql.Identifier(READER)))
        connection.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
            schema, sql.Identifier(READER)))


def test_json_and_a_warehouse_keeping_each_day_give_the_standard_findings(
        world: tuple[Path, dict[str, Any]], tmp_path: Path, warehouse: Warehouse) -> None:
    standard, expected = world
    _load_billing_days(warehouse, standard)
    queries = {f"billing_{table}": {
        "query": f"SELECT {', '.join(columns.values())} FROM {SCHEMA}.{table} WHERE as_of = {{date}}",
        "columns": columns} for table, (columns, _) in WAREHOUSE_TABLES.items()}
    sources = {
        "crm": _files("json", {"crm_accounts": ("accounts.json", ACCOUNTS),
                               "crm_contracts": ("contracts.json", CONTRACTS)}),
        "billing": {"format": "sql", "url": warehouse.url, "tables": queries},
        "ops": {**_files("json", {"ops_tenants": ("tenants.jsonl", TENANTS), "ops_usage": ("usage.jsonl", USAGE)}),
                "path": "product"},
    }

    def render(day: Path, folder: Path) -> None:
        for name, file, columns, shape in (("crm_accounts", "json/accounts.json", ACCOUNTS, "list"),
                                           ("crm_contracts", "json/contracts.json", CONTRACTS, "list"),
                                           ("ops_tenants", "product/tenants.jsonl", TENANTS, "lines"),
                                           ("ops_usage", "product/usage.jsonl", USAGE, "lines")):
            rows = standard_rows((day / f"{name}.csv").read_text(encoding="utf-8"))
            write_json(folder / file, renamed(rows, columns, NUMBER), shape)

    _assert_same_findings(_shaped(standard, tmp_path / "shaped", sources, render), expected)
