"""A record's candidates (`candidates_for`) are the same whether every resolved record is keyed in Python or only
those `could_share` lets through, on random small worlds drawn from values that collide in many ways
(subdomains, e-mails, URLs, trailing dots, legal forms, punctuation, non-ASCII): a prefilter that dropped a
true candidate would show as a difference here. And `propose(only=...)` gives what `propose` gives that record.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tieout.entities import candidates, resolve
from tieout.entities.propose import propose

from .helpers import DOMAINS, NAME_WORDS, TAXES, make_world

D = dt.date(2026, 1, 20)

names = st.one_of(st.none(), st.lists(st.sampled_from(NAME_WORDS), min_size=0, max_size=4).map(" ".join))
domains = st.one_of(st.none(), st.sampled_from(DOMAINS))
taxes = st.one_of(st.none(), st.sampled_from(TAXES))
entities = st.sampled_from(["E1", "E2", "E3", None])  # None: not in the map
crm = st.lists(st.tuples(names, domains, taxes, entities), max_size=8)
billing = st.lists(st.tuples(names, domains, taxes, entities), max_size=8)
ops = st.lists(st.tuples(names, domains, entities), max_size=4)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crm=crm, billing=billing, ops=ops)
def test_candidates_equal_those_of_every_resolved_record_keyed(crm, billing, ops):
    con = duckdb.connect()
    try:
        records = (
            [("crm", f"a{i}", nm, dom, tax, e) for i, (nm, dom, tax, e) in enumerate(crm)]
            + [("billing", f"c{i}", nm, dom, tax, e) for i, (nm, dom, tax, e) in enumerate(billing)]
            + [("ops", f"t{i}", None, dom, None, e) for i, (_, dom, e) in enumerate(ops)]
        )
        make_world(con, records, display_names=[nm for nm, _, _ in ops])
        resolve(con, D)
        found = {(r[0], r[1]): candidates.candidates_for(con, D, r[0], r[1]).as_dict() for r in records}
        with mock.patch.object(candidates, "could_share", lambda ours: ("true", {})):
            every = {(r[0], r[1]): candidates.candidates_for(con, D, r[0], r[1]).as_dict() for r in records}
        assert found == every
        proposed = propose(con, D, limit_per_record=5, min_score=70)
        for system, sid, *_ in records:
            assert propose(con, D, limit_per_record=5, min_score=70, only=(system, sid)) == [
                p for p in proposed if (p["source_system"], p["source_id"]) == (system, sid)]
    finally:
        con.close()


def test_the_prefilter_lets_through_only_records_that_may_share_a_key():
    con = duckdb.connect()
    try:
        make_world(con, [("crm", "a1", "Acme Labs Inc", "acme.com", "12-3", "E1"),
                         ("crm", "a2", "Globex", "globex.io", None, "E2"),
                         ("billing", "c1", "Müller GmbH", "ap@müller.de", None, "E3"),
                         ("billing", "c2", "ACME LABS", "ap@globex.io", None, None)])
        resolve(con, D)
        ours = candidates._keys("Acme Labs", "x@acme.com", "123", "billing")
        could, params = candidates.could_share(ours)
        let = con.execute(f"SELECT sid FROM ({candidates._RECORDS}) r WHERE {could} ORDER BY sid", params).fetchall()
        # a1 shares all three, c2 the name's word; c1 is not ASCII (folded in Python); a2 shares nothing
        assert let == [("a1",), ("c1",), ("c2",)]
        assert candidates.could_share({"tax_id": None, "domain": None, "legal_name": None}) == ("false", {})
    finally:
        con.close()
