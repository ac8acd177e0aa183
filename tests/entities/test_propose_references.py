"""What proposals are matched against (`propose.references`: fuzzy name keys and domain labels, keyed in SQL where
the value is plain ASCII) equals keying every resolved record in Python (`fuzzy_name`, `_domain_label`), in the
same order, on random small worlds drawn from values that collide in many ways: leading and trailing legal forms,
quotes, umlaut digraphs after letters and digits, blanks, tabs, non-ASCII, and the resolver's domains."""

from __future__ import annotations

import datetime as dt

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tieout.entities import resolve
from tieout.entities.propose import _RAW, _domain_label, fuzzy_name, references

from .helpers import DOMAINS, NAME_WORDS, make_world

D = dt.date(2026, 1, 20)

WORDS = [*NAME_WORDS, "OOO", "TOO", "AO", "ООО", "Ромашка", "株式会社", "Gruenwald", "Grünwald", "Kaese", "9ae",
         "b9oe", '"Acme"', "'", "«Acme»", "\tAcme", "Acme\t", " ", "aeue", "Boeing", "Ltd."]
names = st.one_of(st.none(), st.lists(st.sampled_from(WORDS), min_size=0, max_size=4).map(" ".join),
                  st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map("".join))
domains = st.one_of(st.none(), st.sampled_from([*DOMAINS, "kaese.de", "b@ÆRØ.dk", "mail.example", "x.y.z"]))
entities = st.sampled_from(["E1", "E2", "E3", None])
records = st.lists(st.tuples(st.sampled_from(["crm", "billing", "ops"]), names, domains, entities), max_size=14)


def _in_python(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Every resolved record keyed in Python, in system and source id order (what `propose` did before)."""
    names: dict[str, set[str]] = {}
    labels: dict[str, set[str]] = {}
    for name, dom, cid in con.execute(f"""
            SELECT r.name, r.dom, s.canonical_id
            FROM ({_RAW}) r JOIN source_records s ON s.source_system = r.sys AND s.source_id = r.sid
            WHERE s.status = 'resolved' ORDER BY r.sys, r.sid""").fetchall():
        if (key := fuzzy_name(name)) is not None:
            names.setdefault(key, set()).add(cid)
        if (label := _domain_label(dom)) is not None:
            labels.setdefault(label, set()).add(cid)
    return names, labels


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=records)
def test_references_equal_every_record_keyed_in_python(drawn):
    con = duckdb.connect()
    try:
        world = [(system, f"{system[0]}{i}", None if system == "ops" else name, dom, None, e)
                 for i, (system, name, dom, e) in enumerate(drawn)]
        make_world(con, world, display_names=[name for system, name, _, _ in drawn if system == "ops"])
        resolve(con, D)
        got, want = references(con), _in_python(con)
        assert got == want
        assert [list(d) for d in got] == [list(d) for d in want]  # the same order
    finally:
        con.close()


def test_plain_and_other_values_are_keyed_alike():
    """One world with each kind of value: the SQL path and the Python path give the same keys."""
    con = duckdb.connect()
    try:
        world = [("crm", "a1", "OOO Acme Labs Ltd", "https://www.acme.com/x", None, "E1"),
                 ("crm", "a2", "ООО Ромашка", "ap@müller.de", None, "E2"),
                 ("billing", "c1", '"Kaese 9ae GmbH"', "u@gmail.com", None, "E3"),
                 ("billing", "c2", "Acme\tLabs", "x.y.z", None, "E1")]
        make_world(con, world)
        resolve(con, D)
        names, labels = references(con)
        assert names == {"acme labs": {"E1"}, "romashka": {"E2"}, "kase 9ae": {"E3"}}
        assert labels == {"acme": {"E1"}, "xn--mller-kva": {"E2"}, "gmail": {"E3"}, "y": {"E1"}}
        assert (names, labels) == _in_python(con)
    finally:
        con.close()
