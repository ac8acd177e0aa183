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

One SQL text, any engine (`tieout.engines.Engine`): the statements are DuckDB's SQL, which the Spark engine
transpiles; the only step that needs the natural-key normalisers (the Public Suffix List, folding to ASCII)
is `Engine.natural_keys`, asked only about the distinct pending values and the mapped values the prefilters
let through. The tax-id key is plain SQL (`sql.tax_id_sql`), so every mapped tax id is keyed where it lies.
On DuckDB this is the same work as before; on Spark the map join and the prefilters over every record run
on the executors, and only those few values go to DuckDB on the driver and back (`SparkEngine.natural_keys`).

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
from typing import TYPE_CHECKING

import duckdb

import tieout.entities.normalise as n
from tieout.engines.duckdb import DuckDBEngine
from tieout.sql import literal

from .sql import ASCII, KEY_KINDS, tax_id_sql

if TYPE_CHECKING:
    from tieout.engines.base import Engine

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
    "tieout_dom_cand", "tieout_name_cand", "tieout_key",
)  # fmt: skip


def _sql_list(words) -> str:
    return "(" + ", ".join(literal(w) for w in sorted(words)) + ")"


# Every word of a legal form, and the forms that are one word (see `_mapped_names`).
_FORM_WORDS = _sql_list({w for form in n.LEGAL_FORMS for w in form.split(" ")})
_ONE_WORD_FORMS = _sql_list({form for form in n.LEGAL_FORMS if " " not in form})
# The pending keys as a join's side (not `IN (SELECT ...)`: Spark plans that, within an OR, as a join on the whole
# key expression, computing the regular expressions again for the join; a join on a column it computes once).
_PENDING_KEYS = "SELECT DISTINCT key AS pending FROM tieout_pending_key"


def resolve(target: Engine | duckdb.DuckDBPyConnection, as_of: date) -> None:
    """Build `source_records` for `as_of` from the three source tables and `entity_map` on `target`, an
    engine holding them (a DuckDB connection is taken as the DuckDB engine on it)."""
    engine = DuckDBEngine(target) if isinstance(target, duckdb.DuckDBPyConnection) else target
    day = f"DATE {literal(as_of.isoformat())}"
    # One LEFT JOIN yields both the mapped records and the pending ones: the same rows as a JOIN plus an
    # ANTI JOIN, in one pass over the map.
    engine.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_records AS
        SELECT r.*, m.canonical_id, m.source_id IS NOT NULL AS mapped
        FROM ({_RECORDS}) r
        LEFT JOIN entity_map m
          ON m.source_system = r.sys AND m.source_id = r.sid
         AND m.effective_from <= {day} AND (m.effective_to IS NULL OR m.effective_to >= {day})
    """)
    engine.execute("""
        CREATE OR REPLACE TEMP TABLE tieout_pending AS
        SELECT sys, sid, name, dom, tax FROM tieout_records WHERE NOT mapped
    """)
    engine.execute("""
        CREATE OR REPLACE TEMP TABLE tieout_decided (
            sys VARCHAR, sid VARCHAR, kind VARCHAR, key VARCHAR, candidates VARCHAR[])
    """)
    for kind in KEY_KINDS:
        if not _count(engine, "tieout_pending"):
            break
        _decide(engine, kind)

    # Made by its DDL (the columns' NOT NULL, as a stored day opens it: `tieout.store.open`), then filled.
    engine.execute(SOURCE_RECORDS_DDL)
    engine.execute("""
        INSERT INTO source_records
        SELECT sys, sid, canonical_id, 'map', 'resolved', NULL, NULL FROM tieout_records WHERE mapped
        UNION ALL
        SELECT sys, sid,
               CASE WHEN array_length(candidates) = 1 THEN candidates[1] END,
               CASE WHEN array_length(candidates) = 1 THEN kind END,
               CASE WHEN array_length(candidates) = 1 THEN 'resolved' ELSE 'ambiguous' END,
               candidates, key
        FROM tieout_decided
        UNION ALL
        SELECT sys, sid, NULL, NULL, 'unmapped', CAST([] AS VARCHAR[]), NULL FROM tieout_pending
    """)  # unordered: sorting 3 M rows costs a second and every reader groups or sorts on its own
    for table in _TEMP_TABLES:
        engine.execute(f"DROP TABLE IF EXISTS {table}")


def _count(engine: Engine, table: str) -> int:
    found = engine.one(f"SELECT count(*) FROM {table}")
    return int(found[0]) if found else 0


def _decide(engine: Engine, kind: str) -> None:
    """Move the pending records with candidates for `kind` into tieout_decided.

    Builds tieout_pending_key(sys, sid, key) and, when it holds any, tieout_mapped_key(key, canonical_id),
    which needs to hold only the mapped keys equal to some pending key.
    """
    if kind == "tax_id":
        engine.execute(f"""
            CREATE OR REPLACE TEMP TABLE tieout_pending_key AS
            SELECT sys, sid, key FROM (SELECT sys, sid, {tax_id_sql("tax")} AS key FROM tieout_pending) p
            WHERE key IS NOT NULL
        """)
    else:
        column = "dom" if kind == "domain" else "name"
        engine.natural_keys("tieout_key", kind, f"SELECT {column} FROM tieout_pending")
        engine.execute(f"""
            CREATE OR REPLACE TEMP TABLE tieout_pending_key AS
            SELECT p.sys, p.sid, k.key FROM tieout_pending p JOIN tieout_key k ON k.v = p.{column}
        """)
    if not _count(engine, "tieout_pending_key"):
        return  # no pending record has a key of this kind, so none is decided by it
    if kind == "tax_id":
        # A regular expression per mapped tax id, but only one.
        _mapped_keys(engine, f"SELECT {tax_id_sql('tax')} AS key, canonical_id FROM tieout_records WHERE mapped")
    elif kind == "domain":
        _mapped_domains(engine)
    else:
        _mapped_names(engine)
    engine.execute(f"""
        INSERT INTO tieout_decided
        SELECT p.sys, p.sid, {literal(kind)}, p.key, list_sort(list(DISTINCT m.canonical_id))
        FROM tieout_pending_key p
        JOIN (SELECT DISTINCT key, canonical_id FROM tieout_mapped_key) m ON m.key = p.key
        GROUP BY p.sys, p.sid, p.key
    """)
    # What is left pending (a table made anew: not every engine deletes rows).
    engine.execute("""
        CREATE OR REPLACE TEMP TABLE tieout_pending AS
        SELECT * FROM tieout_pending p
        WHERE NOT EXISTS (SELECT 1 FROM tieout_decided d WHERE d.sys = p.sys AND d.sid = p.sid)
    """)


def _mapped_keys(engine: Engine, keyed_sql: str) -> None:
    """tieout_mapped_key from `keyed_sql` (key, canonical_id): only the keys some pending record has."""
    engine.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_mapped_key AS
        SELECT k.key, k.canonical_id FROM ({keyed_sql}) k JOIN ({_PENDING_KEYS}) p ON p.pending = k.key
    """)


def _labels(key: str) -> str:
    """SQL: how many labels the domain `key` has (its dots and one)."""
    return f"(length({key}) - length(replace({key}, '.', '')) + 1)"


def _mapped_domains(engine: Engine) -> None:
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
    label_counts = [int(r[0]) for r in engine.rows(
        f"SELECT DISTINCT {_labels('key')} AS k FROM tieout_pending_key ORDER BY k")]
    tails = ", ".join(f"lower({_last_labels(k)}) AS tail{k}" for k in label_counts)
    joins = " ".join(
        f"LEFT JOIN ({_PENDING_KEYS} WHERE {_labels('key')} = {k}) p{k} ON p{k}.pending = t.tail{k}"
        for k in label_counts
    )
    plausible = " OR ".join(f"t.tail{k} = '' OR p{k}.pending IS NOT NULL" for k in label_counts)
    engine.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_dom_cand AS
        SELECT t.dom, t.canonical_id FROM (
            SELECT dom, canonical_id, {tails} FROM tieout_records WHERE mapped AND dom IS NOT NULL
        ) t {joins}
        WHERE NOT {ASCII.format("t.dom")}
           OR contains(t.dom, ':') OR contains(t.dom, '/') OR contains(t.dom, '?') OR contains(t.dom, '#')
           OR {plausible}
    """)
    engine.natural_keys("tieout_key", "domain", "SELECT dom FROM tieout_dom_cand")
    _mapped_keys(engine, "SELECT k.key, c.canonical_id FROM tieout_dom_cand c JOIN tieout_key k ON k.v = c.dom")


def _last_labels(k: int) -> str:
    """SQL: the last (at most) k host labels of `dom`, as written; '' when `dom` does not end in one.

    Unanchored at the start, the leftmost match wins (RE2 and Java alike): the longest tail of at most k
    labels. `\\z` is the very end in both (Java's `$` would match before a final line break too).
    """
    label = "[A-Za-z0-9_-]+"
    return f"regexp_extract(dom, '{label}(?:\\.{label}){{0,{k - 1}}}\\z')"


def _mapped_names(engine: Engine) -> None:
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
    engine.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_name_cand AS
        WITH texts AS (
            SELECT name, canonical_id, t, split_part(t, ' ', -1) AS w1, split_part(t, ' ', -2) AS w2
            FROM (
                SELECT name, canonical_id,
                       trim(regexp_replace(lower(name), {literal(n.NAME_DROP)}, ' ', 'g'), ' ') AS t
                FROM tieout_records WHERE mapped AND name IS NOT NULL AND {ASCII.format("name")}
            ) r
        ), guessed AS (
            SELECT name, canonical_id,
                   CASE WHEN w1 NOT IN {_FORM_WORDS} THEN t
                        WHEN w1 IN {_ONE_WORD_FORMS} AND w2 <> '' AND w2 NOT IN {_FORM_WORDS}
                        THEN left(t, length(t) - length(w1) - 1)
                   END AS key
            FROM texts
        )
        SELECT g.name, g.canonical_id FROM guessed g LEFT JOIN ({_PENDING_KEYS}) p ON p.pending = g.key
        WHERE g.key IS NULL OR p.pending IS NOT NULL
        UNION ALL
        SELECT name, canonical_id FROM tieout_records
        WHERE mapped AND name IS NOT NULL AND NOT {ASCII.format("name")}
    """)
    engine.natural_keys("tieout_key", "legal_name", "SELECT name FROM tieout_name_cand")
    _mapped_keys(engine, "SELECT k.key, c.canonical_id FROM tieout_name_cand c JOIN tieout_key k ON k.v = c.name")
