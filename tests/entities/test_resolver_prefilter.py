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

from tieout.entities import resolve

from .helpers import DOMAINS, NAME_WORDS, TAXES, brute_force, make_world

D = dt.date(2026, 1, 20)

names = st.one_of(st.none(), st.lists(st.sampled_from(NAME_WORDS), min_size=0, max_size=4).map(" ".join))
domains = st.one_of(st.none(), st.sampled_from(DOMAINS))
taxes = st.one_of(st.none(), st.sampled_from(TAXES))
entities = st.sampled_from(["E1", "E2", "E3", None])  # None: not in the map
crm = st.lists(st.tuples(names, domains, taxes, entities), max_size=8)
billing = st.lists(st.tuples(names, domains, taxes, entities), max_size=8)
ops = st.lists(st.tuples(names, domains, entities), max_size=4)


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
        make_world(con, records, display_names=[nm for nm, _, _ in ops])
        resolve(con, D)
        rows = con.execute("SELECT * FROM source_records").fetchall()
        assert {(r[0], r[1]): tuple(r[2:]) for r in rows} == brute_force(records)
    finally:
        con.close()
