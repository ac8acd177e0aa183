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

from tieout.entities import resolve

from .helpers import WORLDS, brute_force, world_records

D = dt.date(2026, 1, 20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=WORLDS)
def test_resolve_equals_brute_force(drawn):
    con = duckdb.connect()
    try:
        records = world_records(con, drawn)
        resolve(con, D)
        rows = con.execute("SELECT * FROM source_records").fetchall()
        assert {(r[0], r[1]): tuple(r[2:]) for r in rows} == brute_force(records)
    finally:
        con.close()
