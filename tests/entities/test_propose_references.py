"""What proposals are matched against (`propose.references`: fuzzy name keys and domain labels, keyed in SQL where
the value is plain ASCII) equals keying every resolved record in Python (`fuzzy_name`, `_domain_label`), in the
same order, on random small worlds drawn from values that collide in many ways: leading and trailing legal forms,
quotes, umlaut digraphs after letters and digits, blanks, tabs, non-ASCII, and the resolver's domains. And the
proposals equal those of matching every record against its own list of the choices with `token_sort_ratio`."""

from __future__ import annotations

import datetime as dt

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tieout.entities import resolve
from tieout.entities.propose import _RAW, _domain_label, fuzzy_name, propose, references

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


def _proposed_one_by_one(con: duckdb.DuckDBPyConnection, limit: int, min_score: float) -> list[tuple]:
    """What `propose` gave before it listed the choices once and compared sorted words with `ratio`."""
    from rapidfuzz import fuzz, process

    names, labels = references(con)
    out = []
    for sys, sid, name, display, dom in con.execute(f"""
            SELECT r.sys, r.sid, r.name, r.display, r.dom
            FROM ({_RAW}) r JOIN source_records s ON s.source_system = r.sys AND s.source_id = r.sid
            WHERE s.status IN ('unmapped', 'ambiguous') ORDER BY r.sys, r.sid""").fetchall():
        best: dict[str, tuple[float, str]] = {}
        queries = [(fuzzy_name(name), names, fuzz.token_sort_ratio, "legal_name"),
                   (_domain_label(dom), labels, fuzz.ratio, "domain")]
        if display:
            queries += [(fuzzy_name(display), names, fuzz.token_set_ratio, "display_name~legal_name"),
                        (fuzzy_name(display), labels, fuzz.token_set_ratio, "display_name~domain")]
        for query, choices, scorer, field in queries:
            if not query or not choices:
                continue
            for choice, score, _ in process.extract(query, list(choices), scorer=scorer, limit=limit * 3,
                                                    score_cutoff=min_score):
                for cid in choices[choice]:
                    if score > best.get(cid, (-1.0, ""))[0]:
                        best[cid] = (score, f"{field}: {query!r} ~ {choice!r}")
        for cid, (score, matched) in sorted(best.items(), key=lambda item: (-item[1][0], item[0]))[:limit]:
            out.append((cid, sys, sid, f"proposed: score {round(score)} on {matched}", round(score, 1)))
    return out


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
        for limit, min_score in ((1, 0), (5, 70)):
            proposed = propose(con, D, limit_per_record=limit, min_score=min_score)
            assert [(p["canonical_id"], p["source_system"], p["source_id"], p["notes"], p["score"])
                    for p in proposed] == _proposed_one_by_one(con, limit, min_score)
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
