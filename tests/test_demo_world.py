"""The demo world: deterministic, in the standard layout, and raising exactly the cases it plants.

`_Oracle` is a small, independent reading of contract §4/§5 in plain Python — deliberately not the product's
engine — so that a mistake in the generator cannot hide behind the same mistake in the rules.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import tldextract
from unidecode import unidecode

from tieout.config import load_project
from tieout.demo import PlantedCase, generate_world
from tieout.sources.layout import STANDARD_LAYOUT
from tieout.sources.read import read_day

ROOT = Path(__file__).resolve().parents[1]
RULES = {
    "CRM_ACTIVE_BILLING_INACTIVE", "BILLING_ACTIVE_CRM_INACTIVE", "BILLING_ACTIVE_OPS_INACTIVE",
    "OPS_ACTIVE_BILLING_INACTIVE", "FTE_THRESHOLD_DRIFT", "DUPLICATE_SOURCE_RECORD", "UNMAPPED_SOURCE_RECORD",
    "AMBIGUOUS_ENTITY_MATCH", "OWNED_FIELD_MISMATCH",
}
SMALL = {"companies": 60, "days": 60}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[PlantedCase]]:
    root = tmp_path_factory.mktemp("world")
    return root, generate_world(root, **SMALL)


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _days(root: Path) -> list[Path]:
    return sorted((root / "exports").iterdir())


def test_same_seed_same_bytes(world, tmp_path: Path) -> None:
    root, cases = world
    again = generate_world(tmp_path / "again", **SMALL)
    assert again == cases
    assert _digest(tmp_path / "again") == _digest(root)
    other = generate_world(tmp_path / "other", seed=8, **SMALL)
    assert _digest(tmp_path / "other") != _digest(root)
    assert {c.rule for c in other} == {c.rule for c in cases}


def test_project_files(world) -> None:
    root, cases = world
    config = (root / "tieout.yml").read_text()
    keys = [line.split(":")[0] for line in config.splitlines() if line and not line.startswith("#")]
    assert keys == ["exports", "entity_map"]
    assert "exports: exports/{date}" in config and "entity_map: entity_map.csv" in config
    planted = json.loads((root / "planted.json").read_text())
    assert [p["name"] for p in planted] == [c.name for c in cases]
    assert len(_days(root)) == SMALL["days"]
    assert _days(root)[0].name == "2026-01-01"


def test_every_file_has_the_layout_header(world) -> None:
    root, _ = world
    for folder in _days(root):
        for spec in STANDARD_LAYOUT:
            with (folder / spec.filename).open(encoding="utf-8", newline="") as f:
                assert next(csv.reader(f)) == list(spec.column_names), folder / spec.filename


def test_every_day_parses_with_the_products_reader(world) -> None:
    root, _ = world
    for folder in _days(root)[::7]:  # the reader is DuckDB-heavy: every 7th day is plenty
        with duckdb.connect() as con:
            counts = read_day(con, load_project(root), date.fromisoformat(folder.name))
            assert all(n > 0 for n in counts.values())
            # money as exact decimals with two places, never floats
            for table, col in (("billing_invoices", "amount"), ("crm_contracts", "annual_value")):
                for (text,) in con.execute(f"SELECT CAST({col} AS VARCHAR) FROM {table}").fetchall():
                    assert Decimal(text) == Decimal(text).quantize(Decimal("0.01"))


def test_values_are_typed_and_plausible(world) -> None:
    root, _ = world
    money = re.compile(r"^\d+\.\d{2}$")
    for folder in _days(root):
        as_of = date.fromisoformat(folder.name)
        for row in _rows(folder / "billing_invoices.csv"):
            assert money.match(row["amount"]) and row["status"] in ("open", "paid")
            start, end = date.fromisoformat(row["period_start"]), date.fromisoformat(row["period_end"])
            assert start.day == 1 and (end + timedelta(days=1)).day == 1
            assert row["status"] == ("open" if start <= as_of <= end else "paid")
            assert date.fromisoformat(row["issued_on"]) <= as_of
        for row in _rows(folder / "crm_contracts.csv"):
            assert money.match(row["annual_value"]) and row["status"] in ("active", "expired", "draft")
        usage = _rows(folder / "ops_usage.csv")
        dates = {date.fromisoformat(r["date"]) for r in usage}
        assert max(dates) == as_of and min(dates) == as_of - timedelta(days=34)
        for row in _rows(folder / "crm_accounts.csv") + _rows(folder / "billing_customers.csv"):
            assert row["updated_at"][:10] <= folder.name


def test_entity_map_is_well_formed(world) -> None:
    root, _ = world
    rows = _rows(root / "entity_map.csv")
    assert list(rows[0]) == ["canonical_id", "source_system", "source_id", "effective_from", "effective_to",
                             "notes"]
    spans: dict[tuple[str, str], list[tuple[date, date]]] = defaultdict(list)
    for r in rows:
        assert r["source_system"] in ("crm", "billing", "ops")
        lo = date.fromisoformat(r["effective_from"])
        hi = date.fromisoformat(r["effective_to"]) if r["effective_to"] else date.max
        assert lo <= hi
        spans[(r["source_system"], r["source_id"])].append((lo, hi))
    for key, ranges in spans.items():
        ranges.sort()
        assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:], strict=False)), key


def test_every_rule_and_severity_is_planted(world) -> None:
    _, cases = world
    assert {c.rule for c in cases} == RULES
    assert {c.severity for c in cases} == {"P1", "P2", "P3", "INFO"}
    assert any(c.last_seen is None and c.first_seen > date(2026, 1, 31) for c in cases)


def test_the_brief_timing_example(world) -> None:
    _, cases = world
    by_name = {c.name: c for c in cases}
    lag = by_name["brief_timing_billing_lag"]
    assert (lag.rule, lag.first_seen, lag.last_seen, lag.severity) == (
        "CRM_ACTIVE_BILLING_INACTIVE", date(2026, 1, 1), date(2026, 1, 14), "P3")
    usage = by_name["brief_timing_usage_lag"]
    assert (usage.rule, usage.first_seen, usage.last_seen, usage.resolved_on) == (
        "BILLING_ACTIVE_OPS_INACTIVE", date(2026, 1, 15), date(2026, 1, 19), date(2026, 1, 20))
    assert lag.canonical_id == usage.canonical_id


def test_world_raises_exactly_the_planted_cases(world) -> None:
    root, cases = world
    oracle = _Oracle(root)
    seen: dict[tuple, list[tuple[date, Decimal]]] = defaultdict(list)
    for folder in _days(root):
        for key, impact in oracle.evaluate(folder).items():
            seen[key].append((date.fromisoformat(folder.name), impact))
    last_day = date.fromisoformat(_days(root)[-1].name)
    expected = {}
    for c in cases:
        key = (c.rule, c.canonical_id, c.source_system, c.source_id, c.field)
        expected[key] = c
        days = [d for d, _ in seen.get(key, [])]
        span = (days[0], days[-1]) if days else None
        assert span == (c.first_seen, c.last_seen or last_day), c.name
        assert len(days) == (span[1] - span[0]).days + 1, f"{c.name}: not one contiguous episode"
        assert {i for _, i in seen[key]} == {c.impact}, c.name
    unexpected = {k: v[0] for k, v in seen.items() if k not in expected}
    assert not unexpected, unexpected
    resolved = oracle.resolved
    for match in json.loads((root / "natural_keys.json").read_text()):
        assert resolved[(match["source_system"], match["source_id"])] == (match["canonical_id"], match["key"])


def test_default_world_is_the_documented_size(tmp_path: Path) -> None:
    # How long it takes is measured by bench/backfill_demo.py, not asserted here (a loaded machine is slow).
    cases = generate_world(tmp_path)
    assert len(list((tmp_path / "exports").iterdir())) == 90
    assert len(json.loads((tmp_path / "planted.json").read_text())) == len(cases)


def test_bench_generator(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), str(out), "--companies", "1000",
                    "--date", "2026-03-15"], check=True, capture_output=True, timeout=120)
    folder = out / "exports" / "2026-03-15"
    for spec in STANDARD_LAYOUT:
        with (folder / spec.filename).open(encoding="utf-8", newline="") as f:
            assert next(csv.reader(f)) == list(spec.column_names)
    with duckdb.connect() as con:
        counts = read_day(con, load_project(out), date(2026, 3, 15))
        assert counts["crm_accounts"] >= 1000 and counts["ops_usage"] >= 1000 * 30
    assert "exports: exports/{date}" in (out / "tieout.yml").read_text()
    mapped = {(r["source_system"], r["source_id"]) for r in _rows(out / "entity_map.csv")}
    customers = [r["customer_id"] for r in _rows(folder / "billing_customers.csv")]
    unmapped = [c for c in customers if ("billing", c) not in mapped]
    assert 0 < len(unmapped) < len(customers) // 10


# --- an independent reading of contract §4 and §5 -------------------------------------------------------

_LEGAL_FORMS = r"(inc|llc|l l c|ltd|limited|gmbh|corp|corporation|co|sa|s a|ag|plc|bv|b v|nv|llp|lp|kg)"
_PSL = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
_FREE = {line.strip() for line in (ROOT / "src/tieout/entities/free_mail.txt").read_text().splitlines()
         if line.strip() and not line.startswith("#")}


_KEY_NAMES = {"tax": "tax_id", "domain": "domain", "name": "legal_name"}


def _tax(v: str) -> str | None:
    return re.sub(r"[^A-Z0-9]", "", v.upper()) or None


def _domain(v: str) -> str | None:
    host = v.rsplit("@", 1)[-1].strip().lower()
    if not host:
        return None
    reg = _PSL(host).top_domain_under_public_suffix
    return None if not reg or reg in _FREE else reg


def _name(v: str) -> str | None:
    s = re.sub(r"[^a-z0-9]+", " ", unidecode(v).lower()).strip()
    s = re.sub(rf"(\s+{_LEGAL_FORMS})+$", "", s).strip()
    return s or None


class _Oracle:
    def __init__(self, root: Path) -> None:
        self.map = _rows(root / "entity_map.csv")
        self.resolved: dict[tuple[str, str], tuple[str, str]] = {}

    def _mapped(self, d: date) -> dict[tuple[str, str], str]:
        out = {}
        for r in self.map:
            hi = date.fromisoformat(r["effective_to"]) if r["effective_to"] else date.max
            if date.fromisoformat(r["effective_from"]) <= d <= hi:
                out[(r["source_system"], r["source_id"])] = r["canonical_id"]
        return out

    def evaluate(self, folder: Path) -> dict[tuple, Decimal]:
        d = date.fromisoformat(folder.name)
        t = {spec.table: _rows(folder / spec.filename) for spec in STANDARD_LAYOUT}
        records = [("crm", r["account_id"], {"tax": _tax(r["tax_id"]), "domain": _domain(r["domain"]),
                                             "name": _name(r["legal_name"])}) for r in t["crm_accounts"]]
        records += [("billing", r["customer_id"], {"tax": _tax(r["tax_id"]), "domain": _domain(r["email"]),
                                                   "name": _name(r["name"])}) for r in t["billing_customers"]]
        records += [("ops", r["tenant_id"], {"tax": None, "domain": _domain(r["domain"]), "name": None})
                    for r in t["ops_tenants"]]
        mapped = self._mapped(d)
        index: dict[tuple[str, str], set[str]] = defaultdict(set)
        for system, sid, keys in records:
            if (system, sid) in mapped:
                for kind, value in keys.items():
                    if value:
                        index[(kind, value)].add(mapped[(system, sid)])
        out: dict[tuple, Decimal] = {}
        canon: dict[tuple[str, str], str] = {}
        per_entity: dict[tuple[str, str], list[str]] = defaultdict(list)
        for system, sid, keys in records:
            entity = mapped.get((system, sid))
            status = "resolved"
            if entity is None:
                status = "unmapped"
                for kind in ("tax", "domain", "name"):
                    found = index.get((kind, keys[kind]), set()) if keys[kind] else set()
                    if found:
                        status = "resolved" if len(found) == 1 else "ambiguous"
                        entity = next(iter(found)) if len(found) == 1 else None
                        if entity:
                            self.resolved[(system, sid)] = (entity, _KEY_NAMES[kind])
                        break
            if entity:
                canon[(system, sid)] = entity
                per_entity[(entity, system)].append(sid)
            else:
                out[("UNMAPPED_SOURCE_RECORD" if status == "unmapped" else "AMBIGUOUS_ENTITY_MATCH", None,
                     system, sid, None)] = Decimal(0)  # impact added below
        covering: dict[str, list[dict[str, str]]] = defaultdict(list)
        for inv in t["billing_invoices"]:
            live = inv["period_start"] <= d.isoformat() <= inv["period_end"]
            if live and inv["status"] not in ("void", "draft"):
                covering[inv["customer_id"]].append(inv)
        for key in list(out):
            if key[2] == "billing":
                out[key] = sum((Decimal(i["amount"]) for i in covering[key[3]]), Decimal(0))
        for (entity, system), sids in per_entity.items():
            if len(sids) > 1:
                keep = sorted(sids, key=lambda s: ((system, s) not in mapped, s))[0]
                out[("DUPLICATE_SOURCE_RECORD", entity, system, None, None)] = sum(
                    (Decimal(i["amount"]) for s in sids if s != keep for i in covering[s]), Decimal(0))
        self._activity(d, t, canon, covering, out)
        self._ownership(t, canon, out)
        return out

    def _activity(self, d, t, canon, covering, out) -> None:
        crm: dict[str, Decimal] = defaultdict(Decimal)
        latest: dict[str, tuple[str, Decimal]] = {}
        for c in t["crm_contracts"]:
            entity = canon.get(("crm", c["account_id"]))
            if not entity:
                continue
            monthly = Decimal(c["annual_value"]) / 12
            if c["status"] == "active" and c["start_date"] <= d.isoformat() and (
                    not c["end_date"] or c["end_date"] >= d.isoformat()):
                crm[entity] += monthly
            if c["status"] != "draft" and (entity not in latest or c["start_date"] > latest[entity][0]):
                latest[entity] = (c["start_date"], monthly)
        billing: dict[str, list[Decimal]] = {}
        for cid, invs in covering.items():
            entity = canon.get(("billing", cid))
            if entity:
                acc = billing.setdefault(entity, [Decimal(0), Decimal(0)])
                for i in invs:
                    acc[0] += Decimal(i["amount"])
                    acc[1] += Decimal(i["billed_fte"] or 0)
        active30, active7 = set(), set()
        ops_fte: dict[str, dict[str, tuple[str, Decimal]]] = defaultdict(dict)
        for u in t["ops_usage"]:
            entity = canon.get(("ops", u["tenant_id"]))
            age = (d - date.fromisoformat(u["date"])).days
            if not entity or not 0 <= age < 30:
                continue
            if int(u["active_users"]) > 0:
                active30.add(entity)
                if age < 7:
                    active7.add(entity)
            prev = ops_fte[entity].get(u["tenant_id"])
            if prev is None or u["date"] > prev[0]:
                ops_fte[entity][u["tenant_id"]] = (u["date"], Decimal(u["fte_count"]))
        for e, monthly in crm.items():
            if e not in billing:
                out[("CRM_ACTIVE_BILLING_INACTIVE", e, None, None, None)] = monthly
        for e, (amount, fte) in billing.items():
            if e not in crm:
                out[("BILLING_ACTIVE_CRM_INACTIVE", e, None, None, None)] = amount
            if e not in active30:
                out[("BILLING_ACTIVE_OPS_INACTIVE", e, None, None, None)] = amount
            ops = sum((f for _, f in ops_fte.get(e, {}).values()), Decimal(0))
            if fte > 0 and e in ops_fte and abs(fte - ops) > Decimal("0.1") * fte:
                out[("FTE_THRESHOLD_DRIFT", e, None, None, None)] = abs(fte - ops) * amount / fte
        for e in active7 - set(billing):
            out[("OPS_ACTIVE_BILLING_INACTIVE", e, None, None, None)] = crm.get(e) or latest.get(
                e, ("", Decimal(0)))[1]

    def _ownership(self, t, canon, out) -> None:
        values: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        for r in t["crm_accounts"]:
            for fld, v in (("legal_name", _name(r["legal_name"])), ("tax_id", _tax(r["tax_id"]))):
                if v and ("crm", r["account_id"]) in canon:
                    values[(canon[("crm", r["account_id"])], "crm", fld)].add(v)
        for r in t["billing_customers"]:
            for fld, v in (("legal_name", _name(r["name"])), ("tax_id", _tax(r["tax_id"]))):
                if v and ("billing", r["customer_id"]) in canon:
                    values[(canon[("billing", r["customer_id"])], "billing", fld)].add(v)
        for (entity, system, fld), vals in values.items():
            owner = values.get((entity, "crm", fld), set())
            if system != "crm" and any(o != v for o in owner for v in vals):
                out[("OWNED_FIELD_MISMATCH", entity, system, None, fld)] = Decimal(0)
