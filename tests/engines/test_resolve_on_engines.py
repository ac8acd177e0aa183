"""Entity resolution (`tieout.entities.resolve`) gives the same `source_records` on DuckDB and on Spark — and both
equal the brute-force resolver of contract §4 built on `normalise.py` (tests/entities/helpers.py).

One world holds every case at once, so Spark resolves once: the map on the day (and map rows that do not apply
on it), tax ids, registrable domains (the Public Suffix List's multi-label suffixes, wildcards and exceptions;
e-mails, URLs, ports, trailing dots and line breaks; free mail never matching), legal names with their forms,
ambiguous and unmapped records, non-ASCII names and domains — plus records drawn at random from the values that
collide in many ways, which the resolver's prefilters must never wrongly drop.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.entities.helpers import DOMAINS, NAME_WORDS, TAXES, brute_force, make_world
from tieout.engines import DuckDBEngine, SparkEngine
from tieout.entities import resolve

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

D = dt.date(2026, 1, 20)

# (sys, sid, name, dom, tax, entity on D). Their names and domains are none of the drawn values (`_world`), so
# each case's outcome is its own.
CASES = [
    ("crm", "initech", "Initech Analytics Inc.", "initech.com", "12-3456789", "INITECH"),
    ("crm", "umbrella", "Umbrella Labs LLC", "billing.umbrella.co.uk", "98-7654321", "UMBRELLA"),
    ("crm", "celik", "Çelik A.Ş.", "çelik.com.tr", None, "CELIK"),
    ("crm", "hooli-eu", "Hooli", "hooli-eu.com", None, "HOOLI_EU"),
    ("crm", "hooli-us", "HOOLI Inc", "gmail.com", None, "HOOLI_US"),
    ("crm", "kobe", "Kobe KK", "shop.city.kobe.jp", None, "KOBE"),
    ("crm", "nagoya", "Nagoya Works", "works.x.nagoya.jp", None, "NAGOYA"),
    ("ops", "t-initech", None, "https://www.initech.com:8443/app", None, "INITECH"),
    ("billing", "by-map", "Whatever", "x@nobody.org", None, "INITECH"),
    ("billing", "by-tax", "Different Name", "x@other.com", " 12 3456789 ", None),
    ("billing", "by-domain", "Nothing Alike", "AP@Billing.Umbrella.CO.UK", None, None),
    ("billing", "tax-then-domain", "X", "ap@umbrella.co.uk", "00-0000000", None),
    ("billing", "by-name", "INITECH ANALYTICS, L.L.C.", None, None, None),
    ("billing", "punycode", "Celik Billing", "rechnung@xn--elik-zoa.com.tr\n", None, None),
    ("billing", "folded-name", "ÇELIK", None, None, None),
    ("billing", "ambiguous", "Hooli S.A.", None, None, None),
    ("billing", "free-mail", "Zed", "zed@gmail.com", None, None),
    ("billing", "wildcard", "W", "ap@works.x.nagoya.jp", None, None),
    ("billing", "exception", "E", "mailto:ap@city.kobe.jp", None, None),
    ("billing", "unmapped", "Nobody Ltd", "x@nobody.com", "77", None),
    ("billing", "stale", "Stale Co", None, None, None),
    ("ops", "t-display", None, None, None, None),  # its display name (below) is no legal name
    ("ops", "t-url", None, "ap@initech.com/x?y", None, None),
]
STALE_MAP = [("OLD", "billing", "stale", "2025-01-01", "2026-01-19"), ("NEW", "billing", "stale", "2026-01-21", None)]


def _world() -> tuple[list[tuple[Any, ...]], list[str]]:
    """CASES and 150 records drawn (seeded) from the colliding values, and the ops tenants' display names."""
    draw = random.Random(17)
    drawn = []
    for i in range(150):
        sys = draw.choice(["crm", "billing", "ops"])
        name = " ".join(draw.choices(NAME_WORDS, k=draw.randint(0, 4))) if sys != "ops" else None
        tax = draw.choice([None, *TAXES]) if sys != "ops" else None
        drawn.append((sys, f"r{i}", name, draw.choice([None, *DOMAINS]), tax, draw.choice(["E1", "E2", "E3", None])))
    records = CASES + drawn
    display = ["Initech Analytics Inc." if r[1] == "t-display" else "shown" for r in records if r[0] == "ops"]
    return records, display


def _source_records(engine: Any) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows = engine.read_table("source_records").to_pylist()
    assert len(rows) == len({(r["source_system"], r["source_id"]) for r in rows})
    return {(r["source_system"], r["source_id"]): (r["canonical_id"], r["resolved_by"], r["status"], r["candidates"],
                                                   r["matched_key"]) for r in rows}


def test_resolution_is_the_same_on_duckdb_and_spark(spark: Any, tmp_path: Path) -> None:
    records, display = _world()
    con = duckdb.connect()
    make_world(con, records, display_names=display, stale_map=STALE_MAP)
    on_duckdb = DuckDBEngine(con)
    on_spark = SparkEngine(spark, staging=tmp_path)
    try:
        on_spark.hand_over(on_duckdb, ["crm_accounts", "billing_customers", "ops_tenants", "entity_map"])
        resolve(on_duckdb, D)
        resolve(on_spark, D)
        assert on_spark.columns("source_records") == on_duckdb.columns("source_records")
        spark_records, duckdb_records = _source_records(on_spark), _source_records(on_duckdb)
    finally:
        on_spark.close()
        on_duckdb.close()

    assert spark_records == duckdb_records
    assert duckdb_records == brute_force(records)
    # The world exercises every outcome, so the comparison is not one of empty or uniform tables.
    outcomes = {(v[1], v[2]) for v in duckdb_records.values()}
    assert {("map", "resolved"), ("tax_id", "resolved"), ("domain", "resolved"), ("legal_name", "resolved"),
            (None, "ambiguous"), (None, "unmapped")} <= outcomes
    by_case = {sid: spark_records[(sys, sid)] for sys, sid, *_ in CASES}
    assert by_case["by-tax"] == ("INITECH", "tax_id", "resolved", ["INITECH"], "123456789")
    assert by_case["tax-then-domain"] == ("UMBRELLA", "domain", "resolved", ["UMBRELLA"], "umbrella.co.uk")
    assert by_case["by-name"][:2] == ("INITECH", "legal_name")
    assert by_case["punycode"] == ("CELIK", "domain", "resolved", ["CELIK"], "xn--elik-zoa.com.tr")
    assert by_case["folded-name"] == ("CELIK", "legal_name", "resolved", ["CELIK"], "celik")
    assert by_case["ambiguous"] == (None, None, "ambiguous", ["HOOLI_EU", "HOOLI_US"], "hooli")
    assert by_case["wildcard"][:2] == ("NAGOYA", "domain") and by_case["exception"][:2] == ("KOBE", "domain")
    assert by_case["t-url"][:2] == ("INITECH", "domain")
    assert by_case["free-mail"][2] == by_case["stale"][2] == by_case["t-display"][2] == "unmapped"
