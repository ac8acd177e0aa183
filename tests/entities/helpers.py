"""Builders of the small typed tables the entity tests run on."""

from __future__ import annotations

import duckdb
from hypothesis import strategies as st

from tests.conftest import BRIEF_TIMING as EXAMPLE
from tieout.entities import normalise as n

__all__ = ["DOMAINS", "EXAMPLE", "NAME_WORDS", "TAXES", "WORLDS", "brute_force", "make_map", "make_sources",
           "make_world", "world_records"]

# Raw key values that collide in many ways (subdomains, e-mails, URLs, trailing dots, legal forms, punctuation,
# the Public Suffix List's wildcards and exceptions, free mail, non-ASCII): the resolver's test worlds.


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


NAME_WORDS = ["Acme", "ACME,", "acme", "Globex", "Müller", "S.A.", "Inc", "inc.", "L.L.C.", "Co", "co", "sa",
              "GmbH", "&", "A", "s", "Corp.", "Labs", "-", "ÆRØ", "Ltd"]  # fmt: skip
DOMAINS = ["acme.com", "ACME.com.", "www.acme.com", "billing.acme.co.uk", "ap@acme.co.uk", "x@b.Acme.co.uk",
           "acme.co.uk", "co.uk", "https://www.acme.com/x.y", "acme.com:8080", "a.acme.com/x@y.org", "gmail.com",
           "u@gmail.com", "müller.de", "xn--mller-kva.de", " acme.com", "acme.com\n", "a b@acme.com", "localhost",
           "foo.github.io", "bar.github.io", "x.city.kawasaki.jp", "a.b.kawasaki.jp", "globex.io", "ap@globex.io",
           "mailto:ap@globex.io", "a@b@globex.io", "", "@"]  # fmt: skip
TAXES = ["12-3", "123", " 1 2 3", "ab", "AB", "-", "ß1"]

_names = st.one_of(st.none(), st.lists(st.sampled_from(NAME_WORDS), min_size=0, max_size=4).map(" ".join))
_domains = st.one_of(st.none(), st.sampled_from(DOMAINS))
_taxes = st.one_of(st.none(), st.sampled_from(TAXES))
_entities = st.sampled_from(["E1", "E2", "E3", None])  # None: not in the map
# A random small world: (crm, billing, ops) tuples of those values, for `world_records`.
WORLDS = st.tuples(st.lists(st.tuples(_names, _domains, _taxes, _entities), max_size=8),
                   st.lists(st.tuples(_names, _domains, _taxes, _entities), max_size=8),
                   st.lists(st.tuples(_names, _domains, _entities), max_size=4))


def world_records(con: duckdb.DuckDBPyConnection, drawn) -> list[tuple]:
    """The records (the shape `brute_force` reads) of a world drawn from `WORLDS`, made on `con` by `make_world`:
    the ops tenants' names are display names, so their records have no legal name, and ops has no tax id."""
    crm, billing, ops = drawn
    records = (
        [("crm", f"a{i}", nm, dom, tax, e) for i, (nm, dom, tax, e) in enumerate(crm)]
        + [("billing", f"c{i}", nm, dom, tax, e) for i, (nm, dom, tax, e) in enumerate(billing)]
        + [("ops", f"t{i}", None, dom, None, e) for i, (_, dom, e) in enumerate(ops)]
    )
    make_world(con, records, display_names=[nm for nm, _, _ in ops])
    return records


def make_world(con: duckdb.DuckDBPyConnection, records, display_names=(), stale_map=()) -> None:
    """Source tables and an entity map from `records` (sys, sid, name, dom, tax, entity: the shape `brute_force`
    reads; ops records have no name or tax id), with `display_names` the ops tenants' names in order (not legal
    names: resolution ignores them) and `stale_map` map rows that do not apply on the day."""
    shown = list(display_names)
    ops = [r for r in records if r[0] == "ops"]
    make_sources(
        con,
        crm=[(r[1], r[2], r[3], r[4]) for r in records if r[0] == "crm"],
        billing=[(r[1], r[2], r[3], r[4]) for r in records if r[0] == "billing"],
        ops=[(r[1], shown[i] if i < len(shown) else None, r[3]) for i, r in enumerate(ops)],
    )
    make_map(con, [(r[5], r[0], r[1], "2025-01-01", None) for r in records if r[5] is not None] + list(stale_map))


def brute_force(records):
    """(sys, sid) -> (canonical_id, resolved_by, status, candidates, key), straight from contract §4."""
    keyers = {"tax_id": n.tax_id, "domain": n.registrable_domain, "legal_name": n.legal_name}
    raw = {"tax_id": 4, "domain": 3, "legal_name": 2}
    mapped = [r for r in records if r[5] is not None]
    out = {}
    for sys, sid, name, dom, tax, entity in records:
        if entity is not None:
            out[(sys, sid)] = (entity, "map", "resolved", None, None)
            continue
        out[(sys, sid)] = (None, None, "unmapped", [], None)
        for kind, keyer in keyers.items():
            key = keyer((sys, sid, name, dom, tax)[raw[kind]])
            if key is None:
                continue
            found = sorted({m[5] for m in mapped if keyer(m[raw[kind]]) == key})
            if found:
                one = len(found) == 1
                out[(sys, sid)] = (
                    found[0] if one else None, kind if one else None, "resolved" if one else "ambiguous", found, key
                )
                break
    return out
