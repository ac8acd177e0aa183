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

from tieout.entities import candidates, resolve
from tieout.entities.propose import propose

from .helpers import WORLDS, make_world, world_records

D = dt.date(2026, 1, 20)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=WORLDS)
def test_candidates_equal_those_of_every_resolved_record_keyed(drawn):
    con = duckdb.connect()
    try:
        records = world_records(con, drawn)
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
