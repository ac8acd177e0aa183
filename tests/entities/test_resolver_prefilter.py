"""`resolve` equals a brute-force resolver built on `normalise.py`, on random small worlds.

The resolver computes a mapped record's key only when a cheap prefilter says it could match a pending key
(see the module doc of `resolver.py`). These worlds are drawn from values that collide in many ways
(subdomains, e-mails, URLs, trailing dots, legal forms, punctuation, non-ASCII), so a prefilter that
dropped a true candidate would show as a difference here.
"""

from __future__ import annotations

import datetime as dt

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tieout.entities import normalise as n
from tieout.entities import resolve

from .helpers import make_map, make_sources

D = dt.date(2026, 1, 20)

NAME_WORDS = ["Acme", "ACME,", "acme", "Globex", "Müller", "S.A.", "Inc", "inc.", "L.L.C.", "Co", "co", "sa",
              "GmbH", "&", "A", "s", "Corp.", "Labs", "-", "ÆRØ", "Ltd"]  # fmt: skip
DOMAINS = ["acme.com", "ACME.com.", "www.acme.com", "billing.acme.co.uk", "ap@acme.co.uk", "x@b.Acme.co.uk",
           "acme.co.uk", "co.uk", "https://www.acme.com/x.y", "acme.com:8080", "a.acme.com/x@y.org", "gmail.com",
           "u@gmail.com", "müller.de", "xn--mller-kva.de", " acme.com", "acme.com\n", "a b@acme.com", "localhost",
           "foo.github.io", "bar.github.io", "x.city.kawasaki.jp", "a.b.kawasaki.jp", "globex.io", "ap@globex.io",
           "mailto:ap@globex.io", "a@b@globex.io", "", "@"]  # fmt: skip
TAXES = ["12-3", "123", " 1 2 3", "ab", "AB", "-", "ß1"]

names = st.one_of(st.none(), st.lists(st.sampled_from(NAME_WORDS), min_size=0, max_size=4).map(" ".join))
domains = st.one_of(st.none(), st.sampled_from(DOMAINS))
taxes = st.one_of(st.none(), st.sampled_from(TAXES))
entities = st.sampled_from(["E1", "E2", "E3", None])  # None: not in the map
crm = st.lists(st.tuples(names, domains, taxes, entities), max_size=8)
billing = st.lists(st.tuples(names, domains, taxes, entities), max_size=8)
ops = st.lists(st.tuples(names, domains, entities), max_size=4)


def _brute_force(records):
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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crm=crm, billing=billing, ops=ops)
def test_resolve_equals_brute_force(crm, billing, ops):
    con = duckdb.connect()
    try:
        records = (
            [("crm", f"a{i}", nm, dom, tax, e) for i, (nm, dom, tax, e) in enumerate(crm)]
            + [("billing", f"c{i}", nm, dom, tax, e) for i, (nm, dom, tax, e) in enumerate(billing)]
            # Ops display names are not legal names, and ops has no tax id.
            + [("ops", f"t{i}", None, dom, None, e) for i, (_, dom, e) in enumerate(ops)]
        )
        make_sources(
            con,
            crm=[(r[1], r[2], r[3], r[4]) for r in records if r[0] == "crm"],
            billing=[(r[1], r[2], r[3], r[4]) for r in records if r[0] == "billing"],
            ops=[(f"t{i}", nm, dom) for i, (nm, dom, _) in enumerate(ops)],
        )
        make_map(con, [(r[5], r[0], r[1], "2025-01-01", None) for r in records if r[5] is not None])
        resolve(con, D)
        rows = con.execute("SELECT * FROM source_records").fetchall()
        assert {(r[0], r[1]): tuple(r[2:]) for r in rows} == _brute_force(records)
    finally:
        con.close()
