from __future__ import annotations

import datetime as dt

import pytest

from tieout.entities import load_entity_map, resolve

from .helpers import EXAMPLE, make_map, make_sources

D = dt.date(2026, 1, 20)
OPEN = None


def _records(con):
    rows = con.execute("SELECT * FROM source_records ORDER BY source_system, source_id").fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_map_hit_and_everything_mapped_is_cheap(con):
    make_sources(
        con,
        crm=[("a1", "Acme Inc", "acme.com", "1")],
        billing=[("c1", "Acme", "ap@acme.com", None)],
        ops=[("t1", "acme-prod", "acme.com")],
    )
    make_map(
        con,
        [
            ("ACME", "crm", "a1", "2025-01-01", OPEN),
            ("ACME", "billing", "c1", "2025-01-01", OPEN),
            ("ACME", "ops", "t1", "2025-01-01", OPEN),
        ],
    )
    resolve(con, D)
    assert set(_records(con).values()) == {("ACME", "map", "resolved", None, None)}
    # No record needed a natural key, so the normalisers were never installed.
    assert con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'tieout_domain'"
    ).fetchall() == [(0,)]


def test_effective_dating_and_merge(con):
    # c1 belonged to OLD until Jan 10, then a merge moved it to NEW.
    make_sources(con, billing=[("c1", "Whatever", None, None)])
    make_map(
        con,
        [("OLD", "billing", "c1", "2025-01-01", "2026-01-10"), ("NEW", "billing", "c1", "2026-01-11", OPEN)],
    )
    resolve(con, dt.date(2026, 1, 10))
    assert _records(con)[("billing", "c1")][0] == "OLD"
    resolve(con, dt.date(2026, 1, 11))
    assert _records(con)[("billing", "c1")][0] == "NEW"
    resolve(con, dt.date(2024, 12, 31))  # before any row applies: no map, no keys
    assert _records(con)[("billing", "c1")][2] == "unmapped"


def test_each_key_kind_in_order(con):
    make_sources(
        con,
        crm=[
            ("a1", "Acme Analytics Inc.", "acme.com", "12-3456789"),
            ("a2", "Globex Labs LLC", "globex.io", "98-7654321"),
        ],
        billing=[
            ("by_tax", "Different Name", "x@other.com", "12 3456789"),  # tax id wins over the others
            ("by_domain", "Nothing Alike", "ap@billing.globex.io", None),
            ("by_name", "ACME ANALYTICS, L.L.C.", None, None),
            ("tax_then_domain", "X", "ap@globex.io", "00-0000000"),  # tax id without candidates falls through
        ],
    )
    make_map(con, [("ACME", "crm", "a1", "2025-01-01", OPEN), ("GLOBEX", "crm", "a2", "2025-01-01", OPEN)])
    resolve(con, D)
    r = _records(con)
    assert r[("billing", "by_tax")] == ("ACME", "tax_id", "resolved", ["ACME"], "123456789")
    assert r[("billing", "by_domain")] == ("GLOBEX", "domain", "resolved", ["GLOBEX"], "globex.io")
    assert r[("billing", "by_name")] == ("ACME", "legal_name", "resolved", ["ACME"], "acme analytics")
    assert r[("billing", "tax_then_domain")][:2] == ("GLOBEX", "domain")


def test_ambiguous_and_unmapped(con):
    make_sources(
        con,
        crm=[("a1", "Acme", "acme.com", None), ("a2", "Acme", "acme-eu.com", None)],
        billing=[("c1", "ACME", None, None), ("c2", "Nobody", "x@nobody.com", "77")],
    )
    make_map(
        con, [("ACME_EU", "crm", "a2", "2025-01-01", OPEN), ("ACME_US", "crm", "a1", "2025-01-01", OPEN)]
    )
    resolve(con, D)
    r = _records(con)
    assert r[("billing", "c1")] == (None, None, "ambiguous", ["ACME_EU", "ACME_US"], "acme")
    assert r[("billing", "c2")] == (None, None, "unmapped", [], None)


def test_free_mail_never_matches(con):
    make_sources(con, crm=[("a1", "Acme", "gmail.com", None)], billing=[("c1", "Zed", "zed@gmail.com", None)])
    make_map(con, [("ACME", "crm", "a1", "2025-01-01", OPEN)])
    resolve(con, D)
    assert _records(con)[("billing", "c1")][2] == "unmapped"


def test_ops_display_name_is_not_a_legal_name(con):
    make_sources(
        con,
        crm=[("a1", "Acme", None, None)],
        ops=[("t1", "Acme", None), ("t2", "x", "www.acme.co.uk")],
        billing=[("c1", "Other", "ap@acme.co.uk", None)],
    )
    make_map(con, [("ACME", "crm", "a1", "2025-01-01", OPEN), ("ACME", "billing", "c1", "2025-01-01", OPEN)])
    resolve(con, D)
    r = _records(con)
    assert r[("ops", "t1")][2] == "unmapped"
    assert r[("ops", "t2")][:2] == ("ACME", "domain")  # keys of any mapped system count


def test_mapped_records_of_ops_do_not_offer_display_names(con):
    make_sources(con, ops=[("t1", "Acme", None)], billing=[("c1", "Acme", None, None)])
    make_map(con, [("ACME", "ops", "t1", "2025-01-01", OPEN)])
    resolve(con, D)
    assert _records(con)[("billing", "c1")][2] == "unmapped"


def test_non_ascii_keys_resolve(con):
    make_sources(
        con,
        crm=[("a1", "Müller GmbH", "müller.de", None)],
        billing=[("c1", "Mueller", "rechnung@xn--mller-kva.de", None), ("c2", "MÜLLER AG", None, None)],
    )
    make_map(con, [("MUELLER", "crm", "a1", "2025-01-01", OPEN)])
    resolve(con, D)
    r = _records(con)
    assert r[("billing", "c1")][:2] == ("MUELLER", "domain")
    assert r[("billing", "c2")][:2] == ("MUELLER", "legal_name")


def test_deterministic(con):
    make_sources(
        con,
        crm=[(f"a{i}", f"Co {i % 3}", None, None) for i in range(30)],
        billing=[(f"c{i}", f"Co {i % 3}", None, None) for i in range(10)],
    )
    make_map(con, [(f"E{i}", "crm", f"a{i}", "2025-01-01", OPEN) for i in range(30)])
    resolve(con, D)
    first = con.execute("SELECT * FROM source_records ORDER BY ALL").fetchall()
    resolve(con, D)
    assert con.execute("SELECT * FROM source_records ORDER BY ALL").fetchall() == first


def test_worked_example(con):
    exports = EXAMPLE / "exports" / "2026-01-20"
    if not exports.exists():
        pytest.skip("the shared worked example is not on this machine")
    for table in ("crm_accounts", "billing_customers", "ops_tenants"):
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, all_varchar = true)",
            [str(exports / f"{table}.csv")],
        )
    load_entity_map(con, EXAMPLE / "entity_map.csv")
    resolve(con, D)
    r = _records(con)
    assert r[("billing", "cus_initech")] == ("INITECH", "tax_id", "resolved", ["INITECH"], "551234567")
    assert r[("billing", "cus_unknown")][2] == "unmapped"
    assert sum(1 for v in r.values() if v[1] == "map") == 8
