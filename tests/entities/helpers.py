"""Builders of the small typed tables the entity tests run on."""

from __future__ import annotations

import duckdb

from tests.conftest import BRIEF_TIMING as EXAMPLE

__all__ = ["EXAMPLE", "make_map", "make_sources"]


def make_sources(con: duckdb.DuckDBPyConnection, crm=(), billing=(), ops=()) -> None:
    """Typed source tables from tuples: crm (id, legal_name, domain, tax_id), billing (id, name, email,
    tax_id), ops (id, display_name, domain)."""
    con.execute("""CREATE OR REPLACE TABLE crm_accounts (account_id VARCHAR, legal_name VARCHAR,
        domain VARCHAR,         tax_id VARCHAR, owner VARCHAR, updated_at TIMESTAMPTZ)""")
    con.execute("""CREATE OR REPLACE TABLE billing_customers (customer_id VARCHAR, name VARCHAR,
        email VARCHAR,         tax_id VARCHAR, updated_at TIMESTAMPTZ)""")
    con.execute("""CREATE OR REPLACE TABLE ops_tenants (tenant_id VARCHAR, display_name VARCHAR,
        domain VARCHAR,         created_on DATE, status VARCHAR)""")
    for row in crm:
        con.execute("INSERT INTO crm_accounts VALUES (?, ?, ?, ?, NULL, NULL)", list(row))
    for row in billing:
        con.execute("INSERT INTO billing_customers VALUES (?, ?, ?, ?, NULL)", list(row))
    for row in ops:
        con.execute("INSERT INTO ops_tenants VALUES (?, ?, ?, NULL, 'active')", list(row))


def make_map(con: duckdb.DuckDBPyConnection, rows) -> None:
    """entity_map from (canonical_id, system, source_id, from, to) tuples."""
    con.execute("""CREATE OR REPLACE TABLE entity_map (canonical_id VARCHAR, source_system VARCHAR,
        source_id VARCHAR, effective_from DATE, effective_to DATE, notes VARCHAR)""")
    for row in rows:
        con.execute("INSERT INTO entity_map VALUES (?, ?, ?, ?, ?, NULL)", list(row))
