"""A test warehouse: the realdata vendor tables loaded into PostgreSQL the way a loader (Fivetran) lands them.

The server is the state suite's throwaway cluster (`tests/state/pg.py`). On it, one database `warehouse` holds
schemas `zuora`, `hubspot`, `stripe` and `salesforce`, one table per realdata CSV, read in place from
`../shared/realdata/` (never copied into the repository). Columns are text, except the few a loader gives a
real type (COLUMN_TYPES), so reading them back exercises the text conversion of `tieout.sources.database`.

The tests read as `reader`, a login with a password and SELECT rights only. The cluster trusts every local
connection (`-A trust`); where its pg_hba.conf can be rewritten (our own cluster), `reader` must give its
password, so a wrong one is refused as it would be by a real warehouse.
"""

from __future__ import annotations

import csv
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from tests.conftest import SHARED
from tests.state.pg import SUPERUSER, Cluster

REALDATA = SHARED / "realdata"

# schema -> (folder inside realdata, file name pattern with {table}, tables)
SOURCES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "zuora": ("zuora", "zuora_{table}_data.csv",
              ("account", "subscription", "rate_plan", "rate_plan_charge", "invoice", "invoice_item", "product")),
    "hubspot": ("hubspot", "fivetran_{table}_data.csv",
                ("company", "deal", "deal_company", "deal_pipeline", "deal_pipeline_stage", "property")),
    "stripe": ("stripe", "fivetran_{table}_data.csv",
               ("customer", "invoice", "invoice_line_item", "subscription", "price", "plan")),
    "salesforce": ("salesforce", "fivetran_sf_{table}_data.csv", ("account", "opportunity", "order", "user")),
}

# The column types a loader gives; every other column is text. Looked up as `schema.table.column`, then
# `schema.column`, then `column` (the first found wins).
COLUMN_TYPES: dict[str, str] = {
    "_fivetran_synced": "timestamp",
    "_fivetran_deleted": "boolean",
    "is_deleted": "boolean",
    "created_date": "timestamp",
    "updated_date": "timestamp",
    "property_createdate": "timestamp",
    "amount": "numeric",
    "balance": "numeric",
    "credit_balance": "numeric",
    "mrr": "numeric",
    "tax_amount": "numeric",
    "payment_amount": "numeric",
    "charge_amount": "numeric",
    "total_amount": "numeric",
    "property_amount": "numeric",
    "zuora.invoice.invoice_date": "date",
    "zuora.invoice.due_date": "date",
    "stripe.amount": "bigint",  # minor units, a whole number
    # This table's loader wrote its times with their zone ("2023-11-11 08:18:16.519000 UTC").
    "hubspot.property._fivetran_synced": "timestamptz",
    "hubspot.property.created_at": "timestamptz",
    "hubspot.property.updated_at": "timestamptz",
}

DATABASE = "warehouse"
READER = "reader"


def column_type(schema: str, table: str, column: str) -> str:
    for name in (f"{schema}.{table}.{column}", f"{schema}.{column}", column):
        if name in COLUMN_TYPES:
            return COLUMN_TYPES[name]
    return "text"


def realdata_file(schema: str, table: str) -> Path:
    folder, pattern, _ = SOURCES[schema]
    return REALDATA / folder / pattern.format(table=table)


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a realdata CSV, as text."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}, row {number}: {len(row)} cells for {len(header)} columns")
    return header, rows


@dataclass(frozen=True)
class Warehouse:
    cluster: Cluster
    password: str
    passwords_checked: bool  # False where the cluster could not be told to check them (then any password works)
    loaded: tuple[str, ...]  # the `schema.table` names loaded from realdata; empty when it is absent

    @property
    def url(self) -> str:
        """The reader's SQLAlchemy URL (password included, percent-encoded)."""
        return self.reader_url(self.password)

    def reader_url(self, password: str) -> str:
        return URL.create("postgresql+psycopg", username=READER, password=password, database=DATABASE,
                          query={"host": str(self.cluster.socket_dir), "port": str(self.cluster.port)},
                          ).render_as_string(hide_password=False)

    @property
    def admin_url(self) -> str:
        return self.cluster.url(DATABASE)

    def admin(self, *statements: str) -> None:
        """Run statements in the warehouse database as the superuser (one transaction)."""
        with psycopg.connect(host=str(self.cluster.socket_dir), port=self.cluster.port, user=SUPERUSER,
                             dbname=DATABASE) as connection:
            for statement in statements:
                connection.execute(statement)  # type: ignore[arg-type]


def build(cluster: Cluster) -> Warehouse:
    """Create the warehouse database and its reader on `cluster`; load realdata when it is here."""
    # Characters a URL must percent-encode, so a redaction that only knows the decoded form is caught out.
    password = f"p@ss/{secrets.token_urlsafe(12)}%:"
    cluster.admin(f'CREATE DATABASE "{DATABASE}"')
    # Warehouses keep UTC; a timestamptz then comes back as `…Z` whatever the machine's zone.
    cluster.admin(f"ALTER DATABASE \"{DATABASE}\" SET timezone = 'UTC'")
    with psycopg.connect(host=str(cluster.socket_dir), port=cluster.port, user=SUPERUSER, dbname=DATABASE,
                         autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(READER), sql.Literal(password)))
        loaded = _load_realdata(connection) if REALDATA.is_dir() else ()
    return Warehouse(cluster, password, _require_passwords(cluster, password), loaded)


def _load_realdata(connection: psycopg.Connection) -> tuple[str, ...]:
    loaded = []
    for schema, (_, _, tables) in SOURCES.items():
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        for table in tables:
            path = realdata_file(schema, table)
            if not path.is_file():
                continue
            header, rows = read_csv(path)
            name = sql.Identifier(schema, table)
            columns = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(column_type(schema, table, c))) for c in header)
            connection.execute(sql.SQL("CREATE TABLE {} ({})").format(name, columns))
            # COPY with the values bound by the driver: an empty cell is NULL, as a loader lands it.
            copy = sql.SQL("COPY {} ({}) FROM STDIN").format(name, sql.SQL(", ").join(map(sql.Identifier, header)))
            with connection.cursor().copy(copy) as writer:
                for row in rows:
                    writer.write_row([cell if cell != "" else None for cell in row])
            loaded.append(f"{schema}.{table}")
        connection.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
            sql.Identifier(schema), sql.Identifier(READER)))
        connection.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
            sql.Identifier(schema), sql.Identifier(READER)))
    return tuple(loaded)


def _require_passwords(cluster: Cluster, password: str) -> bool:
    """Make the cluster check `reader`'s password (the superuser stays trusted); False where it cannot be."""
    with psycopg.connect(host=str(cluster.socket_dir), port=cluster.port, user=SUPERUSER, dbname="postgres",
                         autocommit=True) as connection:
        row = connection.execute("SHOW hba_file").fetchone()
        assert row is not None
        hba = Path(row[0])
        try:
            hba.write_text(f"local all {SUPERUSER} trust\nlocal all all scram-sha-256\n")
        except OSError:
            return False
        connection.execute("SELECT pg_reload_conf()")
    # The server rereads pg_hba.conf on a signal: wait until a wrong password is refused.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            psycopg.connect(host=str(cluster.socket_dir), port=cluster.port, user=READER, dbname=DATABASE,
                            password=password + "-wrong").close()
        except psycopg.OperationalError as e:
            if "password authentication failed" in str(e):
                return True
        time.sleep(0.05)
    return False

