"""Every source record to its canonical entity on one as-of date (contract §4), in SQL.

Order: the entity map on D; then, for records it does not cover, natural keys against the keys of the
records it does cover, one key kind at a time: tax id, registrable domain, legal name. The first kind with
any candidate decides (one entity: resolved; several: ambiguous). Keys are computed only for the kinds
still needed, so the everyday case (the map covers everything) is one anti-join and no normalising.

Output `source_records` (one row per CRM account, billing customer and ops tenant):

    source_system VARCHAR   crm | billing | ops
    source_id     VARCHAR
    canonical_id  VARCHAR   NULL unless resolved
    resolved_by   VARCHAR   map | tax_id | domain | legal_name; NULL unless resolved
    status        VARCHAR   resolved | ambiguous | unmapped
    candidates    VARCHAR[] sorted canonical ids the deciding key found; [] when unmapped, NULL by map
    matched_key   VARCHAR   the normalised key that decided; NULL by map or unmapped
"""

from __future__ import annotations

from datetime import date

import duckdb

from .sql import fold_non_ascii, install_normalisers, registrable_domains_sql

SOURCE_RECORDS_DDL = """
CREATE OR REPLACE TABLE source_records (
    source_system VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    canonical_id VARCHAR,
    resolved_by VARCHAR,
    status VARCHAR NOT NULL,
    candidates VARCHAR[],
    matched_key VARCHAR
)
"""

# The raw key columns of each system. Ops display names are workspace names, not legal names (§3).
_RECORDS = """
SELECT 'crm' AS sys, account_id AS sid, legal_name AS name, domain AS dom, tax_id AS tax FROM crm_accounts
UNION ALL
SELECT 'billing', customer_id, name, email, tax_id FROM billing_customers
UNION ALL
SELECT 'ops', tenant_id, NULL, domain, NULL FROM ops_tenants
"""

# key kind -> SQL of the normalised key over tieout_keyed(sys, sid, name, dom, tax [, host])
_KEY_EXPR = {
    "tax_id": "tieout_tax_id(tax)",
    "legal_name": "tieout_legal_name(name)",
}


def resolve(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """Build `source_records` for `as_of` from the three source tables and `entity_map` on `con`."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE tieout_records AS {_RECORDS}")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE tieout_mapped AS
        SELECT r.*, m.canonical_id
        FROM tieout_records r
        JOIN entity_map m ON m.source_system = r.sys AND m.source_id = r.sid
        WHERE m.effective_from <= ?::DATE AND (m.effective_to IS NULL OR m.effective_to >= ?::DATE)
        """,
        [as_of, as_of],
    )
    con.execute("""
        CREATE OR REPLACE TEMP TABLE tieout_pending AS
        SELECT r.* FROM tieout_records r ANTI JOIN tieout_mapped m ON m.sys = r.sys AND m.sid = r.sid
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE tieout_decided (
            sys VARCHAR, sid VARCHAR, kind VARCHAR, key VARCHAR, candidates VARCHAR[])
    """)
    if _count(con, "tieout_pending"):
        install_normalisers(con)
        for kind in ("tax_id", "domain", "legal_name"):
            if not _count(con, "tieout_pending"):
                break
            _decide(con, kind)

    con.execute(SOURCE_RECORDS_DDL)
    con.execute("""
        INSERT INTO source_records
        SELECT sys, sid, canonical_id, 'map', 'resolved', NULL, NULL FROM tieout_mapped
        UNION ALL
        SELECT sys, sid,
               CASE WHEN len(candidates) = 1 THEN candidates[1] END,
               CASE WHEN len(candidates) = 1 THEN kind END,
               CASE WHEN len(candidates) = 1 THEN 'resolved' ELSE 'ambiguous' END,
               candidates, key
        FROM tieout_decided
        UNION ALL
        SELECT sys, sid, NULL, NULL, 'unmapped', []::VARCHAR[], NULL FROM tieout_pending
        ORDER BY 1, 2
    """)
    for table in ("tieout_records", "tieout_mapped", "tieout_pending", "tieout_decided"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _decide(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """Move the pending records with candidates for `kind` into tieout_decided."""
    if kind == "domain":
        _domain_keys(con)
    else:
        if kind == "legal_name":
            fold_non_ascii(con, "SELECT name FROM tieout_pending UNION ALL SELECT name FROM tieout_mapped")
        for side in ("pending", "mapped"):
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE tieout_{side}_key AS "
                f"SELECT sys, sid, {_KEY_EXPR[kind]} AS key"
                + (", canonical_id" if side == "mapped" else "")
                + f" FROM tieout_{side}"
                + (" WHERE name IS NOT NULL" if kind == "legal_name" else "")
            )
    con.execute(
        """
        INSERT INTO tieout_decided
        SELECT p.sys, p.sid, ?, p.key, list_sort(list(DISTINCT m.canonical_id))
        FROM tieout_pending_key p
        JOIN (SELECT DISTINCT key, canonical_id FROM tieout_mapped_key WHERE key IS NOT NULL) m
          ON m.key = p.key
        WHERE p.key IS NOT NULL
        GROUP BY p.sys, p.sid, p.key
        """,
        [kind],
    )
    con.execute("""
        DELETE FROM tieout_pending p
        WHERE EXISTS (SELECT 1 FROM tieout_decided d WHERE d.sys = p.sys AND d.sid = p.sid)
    """)
    con.execute("DROP TABLE IF EXISTS tieout_pending_key")
    con.execute("DROP TABLE IF EXISTS tieout_mapped_key")


def _domain_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Registrable domains of both sides, each distinct host reduced once (`sql.registrable_domains_sql`)."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE tieout_dom_raw AS
        SELECT DISTINCT dom FROM (SELECT dom FROM tieout_pending UNION ALL SELECT dom FROM tieout_mapped)
        WHERE dom IS NOT NULL
    """)
    fold_non_ascii(con, "SELECT dom FROM tieout_dom_raw")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE tieout_dom_host AS
        SELECT dom, tieout_host(dom) AS host FROM tieout_dom_raw
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_dom_key AS
        SELECT h.dom, CASE WHEN strlen(h.dom) <> length(h.dom) THEN f.domain ELSE r.domain END AS key
        FROM tieout_dom_host h
        LEFT JOIN ({registrable_domains_sql("tieout_dom_host", "host")}) r ON r.host = h.host
        LEFT JOIN tieout_fold f ON f.src = h.dom
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE tieout_pending_key AS
        SELECT p.sys, p.sid, k.key FROM tieout_pending p JOIN tieout_dom_key k ON k.dom = p.dom
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE tieout_mapped_key AS
        SELECT m.sys, m.sid, k.key, m.canonical_id FROM tieout_mapped m JOIN tieout_dom_key k ON k.dom = m.dom
    """)
    for table in ("tieout_dom_raw", "tieout_dom_host", "tieout_dom_key"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
