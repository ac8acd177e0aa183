"""Every source record to its canonical entity on one as-of date (contract §4), in SQL.

Order: the entity map on D; then, for records it does not cover, natural keys against the keys of the
records it does cover, one key kind at a time: tax id, registrable domain, legal name. The first kind with
any candidate decides (one entity: resolved; several: ambiguous). Keys are computed only for the kinds
still needed, so the everyday case (the map covers everything) is one join and no normalising.

Cost follows the pending records, not the map. The map covers millions of records and a handful are
pending, so the pending keys are computed first, and a mapped record's key is computed only if a cheap
necessary condition says it could equal one of them (a hash semi-join on a cheaply extracted part of the
raw value, see `_mapped_domains` and `_mapped_names`). The prefilters only ever let too much through,
never too little; `tests/entities/test_resolver_prefilter.py` checks the result against a brute-force
resolver built on `normalise.py`.

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

import tieout.entities.normalise as n
from tieout.sql import literal

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

_TEMP_TABLES = (
    "tieout_records", "tieout_pending", "tieout_decided", "tieout_pending_key", "tieout_mapped_key",
    "tieout_dom_cand", "tieout_dom_key", "tieout_name_cand",
)  # fmt: skip


def _sql_list(words) -> str:
    return "(" + ", ".join(literal(w) for w in sorted(words)) + ")"


# Every word of a legal form, and the forms that are one word (see `_mapped_names`).
_FORM_WORDS = _sql_list({w for form in n.LEGAL_FORMS for w in form.split(" ")})
_ONE_WORD_FORMS = _sql_list({form for form in n.LEGAL_FORMS if " " not in form})
_WS_SQL = " || ".join(f"chr({ord(c)})" for c in n.WHITESPACE)


def resolve(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """Build `source_records` for `as_of` from the three source tables and `entity_map` on `con`."""
    # One LEFT JOIN yields both the mapped records and the pending ones: the same rows as a JOIN plus an
    # ANTI JOIN, in one pass over the map.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE tieout_records AS
        SELECT r.*, m.canonical_id, m.source_id IS NOT NULL AS mapped
        FROM ({_RECORDS}) r
        LEFT JOIN entity_map m
          ON m.source_system = r.sys AND m.source_id = r.sid
         AND m.effective_from <= ?::DATE AND (m.effective_to IS NULL OR m.effective_to >= ?::DATE)
        """,
        [as_of, as_of],
    )
    con.execute("""
        CREATE OR REPLACE TEMP TABLE tieout_pending AS
        SELECT sys, sid, name, dom, tax FROM tieout_records WHERE NOT mapped
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
        SELECT sys, sid, canonical_id, 'map', 'resolved', NULL, NULL FROM tieout_records WHERE mapped
        UNION ALL
        SELECT sys, sid,
               CASE WHEN len(candidates) = 1 THEN candidates[1] END,
               CASE WHEN len(candidates) = 1 THEN kind END,
               CASE WHEN len(candidates) = 1 THEN 'resolved' ELSE 'ambiguous' END,
               candidates, key
        FROM tieout_decided
        UNION ALL
        SELECT sys, sid, NULL, NULL, 'unmapped', []::VARCHAR[], NULL FROM tieout_pending
    """)  # unordered: sorting 3 M rows costs a second and every reader groups or sorts on its own
    for table in _TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _decide(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """Move the pending records with candidates for `kind` into tieout_decided.

    Builds tieout_pending_key(sys, sid, key) and then tieout_mapped_key(key, canonical_id), which needs to
    hold only the mapped keys equal to some pending key.
    """
    if kind == "tax_id":
        con.execute("""
            CREATE OR REPLACE TEMP TABLE tieout_pending_key AS
            SELECT sys, sid, tieout_tax_id(tax) AS key FROM tieout_pending WHERE tieout_tax_id(tax) IS NOT NULL
        """)
        # A regular expression per mapped tax id, but only one, and only when a pending record has one.
        _mapped_keys(con, "SELECT tieout_tax_id(tax) AS key, canonical_id FROM tieout_records WHERE mapped")
    elif kind == "domain":
        _domain_keys(con, "SELECT DISTINCT dom FROM tieout_pending")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE tieout_pending_key AS
            SELECT p.sys, p.sid, k.key FROM tieout_pending p JOIN tieout_dom_key k ON k.dom = p.dom
            WHERE k.key IS NOT NULL
        """)
        _mapped_domains(con)
    else:
        fold_non_ascii(con, "SELECT name FROM tieout_pending")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE tieout_pending_key AS
            SELECT sys, sid, tieout_legal_name(name) AS key FROM tieout_pending
            WHERE tieout_legal_name(name) IS NOT NULL
        """)
        _mapped_names(con)
    con.execute(
        """
        INSERT INTO tieout_decided
        SELECT p.sys, p.sid, ?, p.key, list_sort(list(DISTINCT m.canonical_id))
        FROM tieout_pending_key p
        JOIN (SELECT DISTINCT key, canonical_id FROM tieout_mapped_key) m ON m.key = p.key
        GROUP BY p.sys, p.sid, p.key
        """,
        [kind],
    )
    con.execute("""
        DELETE FROM tieout_pending p
        WHERE EXISTS (SELECT 1 FROM tieout_decided d WHERE d.sys = p.sys AND d.sid = p.sid)
    """)


def _mapped_keys(con: duckdb.DuckDBPyConnection, keyed_sql: str) -> None:
    """tieout_mapped_key from `keyed_sql` (key, canonical_id): only the keys some pending record has."""
    if not _count(con, "tieout_pending_key"):
        con.execute("CREATE OR REPLACE TEMP TABLE tieout_mapped_key (key VARCHAR, canonical_id VARCHAR)")
        return
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_mapped_key AS
        SELECT key, canonical_id FROM ({keyed_sql}) WHERE key IN (SELECT key FROM tieout_pending_key)
    """)


def _domain_keys(con: duckdb.DuckDBPyConnection, doms_sql: str) -> None:
    """tieout_dom_key(dom, key): the registrable domain of each value of `doms_sql` (distinct values).

    Each distinct host is reduced once (`sql.registrable_domains_sql`); non-ASCII values through Python.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_dom_key AS
        SELECT dom, tieout_host(dom) AS host FROM ({doms_sql}) WHERE dom IS NOT NULL
    """)
    fold_non_ascii(con, "SELECT dom FROM tieout_dom_key")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_dom_key AS
        SELECT h.dom, CASE WHEN strlen(h.dom) <> length(h.dom) THEN f.domain ELSE r.domain END AS key
        FROM tieout_dom_key h
        LEFT JOIN ({registrable_domains_sql("tieout_dom_key", "host")}) r ON r.host = h.host
        LEFT JOIN tieout_fold f ON f.src = h.dom
    """)


def _mapped_domains(con: duckdb.DuckDBPyConnection) -> None:
    """tieout_mapped_key for domains, computing the registrable domain only of plausible mapped values.

    A registrable domain p of k labels is the last k labels of its host. For an ASCII value without any of
    `:/?#`, the host steps of `normalise.host` reduce to: trim, keep what follows the last `@`, lower-case,
    drop trailing dots, check the shape. So if such a value has a domain p, it ends with p's labels (any
    case), and `_last_labels(k)` extracts exactly them (it cannot reach back across an `@`; a host of
    fewer labels gives fewer labels, which equal no p). Values with `:/?#` (URLs, ports) and non-ASCII
    values are rare and always kept, and so is a value `_last_labels` cannot read (trailing dots or
    spaces: ''). One hash semi-join per
    distinct k then drops all others.
    """
    label_counts = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT len(string_split(key, '.')) FROM tieout_pending_key ORDER BY 1"
        ).fetchall()
    ]
    if not label_counts:
        _mapped_keys(con, "SELECT NULL::VARCHAR AS key, NULL::VARCHAR AS canonical_id WHERE false")
        return
    tails = ", ".join(f"lower({_last_labels(k)}) AS tail{k}" for k in label_counts)
    plausible = " OR ".join(
        f"tail{k} = '' OR tail{k} IN (SELECT key FROM tieout_pending_key WHERE len(string_split(key, '.')) = {k})"
        for k in label_counts
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_dom_cand AS
        SELECT dom, canonical_id FROM (
            SELECT dom, canonical_id, {tails} FROM tieout_records WHERE mapped AND dom IS NOT NULL
        )
        WHERE strlen(dom) <> length(dom)
           OR contains(dom, ':') OR contains(dom, '/') OR contains(dom, '?') OR contains(dom, '#')
           OR {plausible}
    """)
    _domain_keys(con, "SELECT DISTINCT dom FROM tieout_dom_cand")
    _mapped_keys(
        con, "SELECT k.key, c.canonical_id FROM tieout_dom_cand c JOIN tieout_dom_key k ON k.dom = c.dom"
    )


def _last_labels(k: int) -> str:
    """SQL: the last (at most) k host labels of `dom`, as written; '' when `dom` does not end in one.

    Unanchored at the start, RE2 takes the leftmost match: the longest tail of at most k labels.
    """
    label = "[A-Za-z0-9_-]+"
    return f"regexp_extract(dom, '{label}(?:\\.{label}){{0,{k - 1}}}$')"


def _mapped_names(con: duckdb.DuckDBPyConnection) -> None:
    """tieout_mapped_key for legal names, computing the full key only of plausible mapped names.

    The full key is several regular expressions, the last a long alternation. For an ASCII name, one cheap
    pass gives the name text t (`normalise.name_text`, one regular expression) and its last two words
    w1, w2. Then the key is exactly
      - t, when w1 is no word of any legal form (nothing trailing can be removed, t is not all forms);
      - t without w1, when w1 is a one-word form and w2 exists and is no word of any form (the only way
        to split the tail into forms is " w1");
    and unknown otherwise. Names with a known key not among the pending keys are dropped; the rest (and
    every non-ASCII name, rare) get the full key.
    """
    if not _count(con, "tieout_pending_key"):
        _mapped_keys(con, "SELECT NULL::VARCHAR AS key, NULL::VARCHAR AS canonical_id WHERE false")
        return
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_name_cand AS
        WITH texts AS (
            SELECT name, canonical_id, t, split_part(t, ' ', -1) AS w1, split_part(t, ' ', -2) AS w2
            FROM (
                SELECT name, canonical_id,
                       trim(regexp_replace(lower(name), {literal(n.NAME_DROP)}, ' ', 'g'), ' ') AS t
                FROM tieout_records WHERE mapped AND name IS NOT NULL AND strlen(name) = length(name)
            )
        ), guessed AS (
            SELECT name, canonical_id,
                   CASE WHEN w1 NOT IN {_FORM_WORDS} THEN t
                        WHEN w1 IN {_ONE_WORD_FORMS} AND w2 <> '' AND w2 NOT IN {_FORM_WORDS}
                        THEN left(t, length(t) - length(w1) - 1)
                   END AS key
            FROM texts
        )
        SELECT name, canonical_id FROM guessed
        WHERE key IS NULL OR key IN (SELECT key FROM tieout_pending_key)
        UNION ALL
        SELECT name, canonical_id FROM tieout_records
        WHERE mapped AND name IS NOT NULL AND strlen(name) <> length(name)
    """)
    fold_non_ascii(con, "SELECT name FROM tieout_name_cand")
    _mapped_keys(con, "SELECT tieout_legal_name(name) AS key, canonical_id FROM tieout_name_cand")
