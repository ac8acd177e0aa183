"""Entity names everywhere a person works (tieout.entity_names): which name an entity is shown by, the search by
name (any case, accents or not), id, domain, tax id or source id, and a hostile name through every output."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ENTITY_MAP, HEALTHY_DAY, invoke, new_project
from tieout.entity_names import clipped, fold, matches, read_names
from tieout.ownership.model import DEFAULT_REGISTRY, parse_registry

H = HEALTHY_DAY
DAY = "2026-01-20"
# One hostile name for every output: a formula at its start, rich markup and HTML, right-to-left text and accents,
# and far longer than a table cell. (An export value holding a control character or a line break is refused by
# the reader, so a name never holds one.)
HOSTILE = ("=HYPERLINK(\"x\") [bold]<script>alert('xss')</script> - [P1] FORGED شركة Ünïcødé " + "long " * 30).strip()
# ACME's contract is cancelled while billing goes on (a P2); EVIL is CRM-active at 60,000 a month and billed
# nothing (a P1); cus_x is a billing customer no map row or key resolves (unmapped).
DAY_FILES = {
    "crm_accounts.csv": H["crm_accounts.csv"] + 'A2,"{}",evil.example,98-7654321,ana,2026-01-20T23:00:00Z\n'.format(
        HOSTILE.replace('"', '""')),
    "crm_contracts.csv": H["crm_contracts.csv"].replace(",active,", ",cancelled,")
    + "K2,A2,active,2025-06-01,,720000.00,USD,50,2026-01-20T23:00:00Z\n",
    "billing_customers.csv": H["billing_customers.csv"]
    + "cus_2,Evil Billing Name,ap@evil.example,98-7654321,2026-01-20T23:00:00Z\n"
    + "cus_x,Grünwald Robotics AG,rechnung@grunwald-robotics.de,DE 741 433 377,2026-01-20T23:00:00Z\n",
    "ops_tenants.csv": H["ops_tenants.csv"] + "t-2,evil-prod,evil.example,2025-06-01,active\n",
}
MAP = ENTITY_MAP + "EVIL,crm,A2,2025-01-01,,\nEVIL,billing,cus_2,2025-01-01,,\nEVIL,ops,t-2,2025-01-01,,\n"


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reconciled once for the module; tests only read it."""
    project = new_project(tmp_path_factory.mktemp("names") / "p", {DAY: DAY_FILES})
    (project / "entity_map.csv").write_text(MAP)
    result = invoke("run", "-p", str(project), "--as-of", DAY)
    assert result.exit_code == 0, result.output
    return project


def _json(project: Path, *args: str) -> list[dict]:
    result = invoke("exceptions", "-p", str(project), "--format", "json", "--status", "all", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _by_rule(found: list[dict]) -> dict[str, dict]:
    return {e["rule"]: e for e in found}


# --- which name ----------------------------------------------------------------------------------------------

def _day(accounts: list[tuple], customers: list[tuple], tenants: list[tuple], records: list[tuple]
         ) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE crm_accounts (account_id VARCHAR, legal_name VARCHAR, domain VARCHAR, tax_id VARCHAR)")
    con.execute("CREATE TABLE billing_customers (customer_id VARCHAR, name VARCHAR, email VARCHAR, tax_id VARCHAR)")
    con.execute("CREATE TABLE ops_tenants (tenant_id VARCHAR, display_name VARCHAR, domain VARCHAR)")
    con.execute("CREATE TABLE source_records (source_system VARCHAR, source_id VARCHAR, canonical_id VARCHAR)")
    for table, rows in (("crm_accounts", accounts), ("billing_customers", customers), ("ops_tenants", tenants),
                        ("source_records", records)):
        if rows:
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    return con


def test_the_golden_legal_name_first_then_billing_then_ops() -> None:
    con = _day(
        accounts=[("A1", "Acme Inc.", "acme.com", "12-3"), ("A0", "  ", None, None), ("A3", None, None, None)],
        customers=[("c1", "ACME INCORPORATED", "ap@acme.com", None), ("c2", "Beta Billing Ltd", None, None)],
        tenants=[("t1", "acme-prod", "acme.com"), ("t2", "beta-ws", None), ("t3", "gamma-ws", None),
                 ("t4", "lonely-ws", None)],
        records=[("crm", "A1", "ACME"), ("crm", "A0", "ACME"), ("billing", "c1", "ACME"), ("ops", "t1", "ACME"),
                 ("crm", "A3", "BETA"), ("billing", "c2", "BETA"), ("ops", "t2", "BETA"),
                 ("ops", "t3", "GAMMA"), ("ops", "t4", None)])
    names = read_names(con, DEFAULT_REGISTRY)
    # the CRM owns legal_name: its account wins (a blank one is no name); without one billing's copy stands in;
    # with neither, the ops workspace name; a record of no entity is shown by its own name
    assert names.entities == {"ACME": "Acme Inc.", "BETA": "Beta Billing Ltd", "GAMMA": "gamma-ws"}
    assert (names.name("ACME"), names.name(None, "ops", "t4"), names.name("NOPE"), names.name(None)) == (
        "Acme Inc.", "lonely-ws", "", "")
    assert names.records[("billing", "c1")] == "ACME INCORPORATED"
    # an ownership.yml that makes billing the owner of the legal name: billing's name wins
    billing_owns = parse_registry({"fields": {"legal_name": {
        "kind": "name", "held_in": {"crm": "accounts.legal_name", "billing": "customers.name"}, "owner": "billing"}}},
        None)
    assert read_names(con, billing_owns).name("ACME") == "ACME INCORPORATED"
    # only what was asked for (and every record of the entities asked for)
    some = read_names(con, DEFAULT_REGISTRY, entities=["BETA"], records=[("ops", "t4")])
    assert some.entities == {"BETA": "Beta Billing Ltd"}
    assert set(some.records) == {("billing", "c2"), ("ops", "t2"), ("ops", "t4")}  # A3 has no name
    assert matches("beta-ws", some.keys("BETA")) and not matches("acme", some.keys("BETA"))


@pytest.mark.parametrize(("query", "text", "found"), [
    ("brightwater", "Brightwater Ltd", True),
    ("BRIGHTWATER LTD", "Brightwater Ltd", True),
    ("grunwald", "Grünwald Robotics AG", True),
    ("Grünwald", "Grunwald Robotics AG", True),
    ("москва", "ООО Москва", True),
    ("Zürich", "Zurich Insurance", True),
    ("de 741 433 377", "DE741433377", True),
    ("741-433", "DE741433377", True),
    ("brightwater", "Bright water", False),
    ("acme gmbh", "Acme Inc.", False),
])
def test_search_ignores_case_and_accents(query: str, text: str, found: bool) -> None:
    # as `read_names` folds a record's texts: a tax id (digits) is also kept without its separators
    haystack = fold(text) + (f" {re.sub(r'[^a-z0-9]', '', text.lower())}" if re.search(r"\d", text) else "")
    assert matches(query, haystack) is found


def test_a_name_is_cut_for_a_terminal_cell_only() -> None:
    assert clipped("Acme Inc.") == "Acme Inc."
    assert clipped("x" * 100) == "x" * 39 + "…" and len(clipped("a\nb  c" * 20)) <= 40


# --- the command line --------------------------------------------------------------------------------------------

def test_exceptions_carry_the_name_in_json_csv_and_the_table(named: Path) -> None:
    got = _by_rule(_json(named))
    assert got["BILLING_ACTIVE_CRM_INACTIVE"]["entity_name"] == "Acme Analytics Inc."  # the CRM's legal name
    assert got["UNMAPPED_SOURCE_RECORD"]["entity_name"] == "Grünwald Robotics AG"  # the record's own
    assert got["CRM_ACTIVE_BILLING_INACTIVE"]["entity_name"] == HOSTILE  # JSON: the value exactly as exported
    # every key of before is still there, in its place; the name comes next, then the due date's keys
    assert list(got["UNMAPPED_SOURCE_RECORD"])[:20] == [
        "id", "rule", "canonical_id", "source_system", "source_id", "field", "severity", "impact", "currency",
        "team", "status", "classification", "first_seen", "last_seen", "resolved_on", "episodes", "details",
        "ownership_edits", "original_amount", "original_currency"]
    assert list(got["UNMAPPED_SOURCE_RECORD"])[20:] == ["entity_name", "age_days", "due_on", "overdue"]
    out = invoke("exceptions", "-p", str(named), "--format", "csv").stdout
    rows = {r["rule"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["BILLING_ACTIVE_CRM_INACTIVE"]["entity_name"] == "Acme Analytics Inc."
    assert rows["CRM_ACTIVE_BILLING_INACTIVE"]["entity_name"] == "'" + HOSTILE  # a formula no more


@pytest.mark.parametrize("width", [80, 120, 160])
def test_the_table_shows_names_and_still_fits(named: Path, width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIEOUT_WIDTH", str(width))
    out = invoke("exceptions", "-p", str(named)).stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width
    for e in _json(named, "--status", "open"):
        assert any(e["id"] in line for line in lines)  # ids are never cut
    header = next(line for line in lines if "ID" in line and "Sev" in line)
    if width >= 120:
        assert "Name" in header
        assert "Grünwald" in out and "Acme" in out and "…" in out  # the long name cut with an ellipsis
        assert "[bold]" in out  # shown as written, never read as markup
        assert "FORGED" not in out  # … well before its end
    if width >= 160:
        assert "Team" in header


@pytest.mark.parametrize(("query", "rules"), [
    ("grunwald", {"UNMAPPED_SOURCE_RECORD"}),                     # accents or not
    ("GRÜNWALD robotics", {"UNMAPPED_SOURCE_RECORD"}),            # any case
    ("cus_x", {"UNMAPPED_SOURCE_RECORD"}),                        # a source id
    ("de741433377", {"UNMAPPED_SOURCE_RECORD"}),                  # a tax id, as stored or as typed
    ("DE 741-433-377", {"UNMAPPED_SOURCE_RECORD"}),
    ("grunwald-robotics.de", {"UNMAPPED_SOURCE_RECORD"}),         # a domain (billing's e-mail)
    ("acme analytics", {"BILLING_ACTIVE_CRM_INACTIVE"}),          # the entity's name
    ("t-1", {"BILLING_ACTIVE_CRM_INACTIVE"}),                     # any of its records' ids
    ("acme.com", {"BILLING_ACTIVE_CRM_INACTIVE"}),
    ("ACME", {"BILLING_ACTIVE_CRM_INACTIVE"}),                    # its canonical id
    ("evil billing name", {"CRM_ACTIVE_BILLING_INACTIVE", "OWNED_FIELD_MISMATCH"}),  # billing's name too
    ("brightwater", set()),
])
def test_exceptions_search(named: Path, query: str, rules: set[str]) -> None:
    assert {e["rule"] for e in _json(named, "--search", query)} == rules


def test_the_search_works_with_the_other_filters_and_formats(named: Path) -> None:
    assert _json(named, "--search", "evil", "--severity", "P1") == [
        e for e in _json(named, "--search", "evil") if e["severity"] == "P1"] != []
    out = invoke("exceptions", "-p", str(named), "--search", "grunwald").stdout
    assert "1 open exception(s)" in out and "billing:cus_x" in out


def test_entities_and_show_name_the_entity(named: Path) -> None:
    rows = {(r["source_system"], r["source_id"]): r for r in json.loads(
        invoke("entities", "-p", str(named), "--format", "json").stdout)}
    assert rows[("ops", "t-1")]["entity_name"] == "Acme Analytics Inc."  # the entity's name, on each record
    assert rows[("billing", "cus_x")]["entity_name"] == "Grünwald Robotics AG"
    table = invoke("entities", "-p", str(named), "--status", "unmapped").stdout
    assert "Grünwald Robotics AG" in table
    entity = json.loads(invoke("show", "EVIL", "-p", str(named), "--format", "json").stdout)
    assert entity["entity_name"] == HOSTILE
    assert {r["source_id"]: r["record_name"] for r in entity["source_records"]} == {
        "A2": HOSTILE, "cus_2": "Evil Billing Name", "t-2": "evil-prod"}
    text = invoke("show", "EVIL", "-p", str(named)).stdout
    assert text.startswith(HOSTILE + " — entity EVIL")
    unmapped = _by_rule(_json(named))["UNMAPPED_SOURCE_RECORD"]
    shown = invoke("show", unmapped["id"], "-p", str(named)).stdout
    assert "entity / record: Grünwald Robotics AG (billing:cus_x)" in shown
    story = json.loads(invoke("show", unmapped["id"], "-p", str(named), "--format", "json").stdout)
    assert story["exception"]["entity_name"] == "Grünwald Robotics AG"


def test_pattern_examples_are_named(named: Path) -> None:
    report = json.loads(invoke("patterns", "-p", str(named), "--format", "json").stdout)
    examples = {e["source_id"] or e["canonical_id"]: e["entity_name"] for p in report["patterns"]
                for e in p["examples"]}
    assert examples["cus_x"] == "Grünwald Robotics AG" and examples["ACME"] == "Acme Analytics Inc."
    assert "(Grünwald Robotics AG (billing:cus_x), 2026-01-20)" in invoke("patterns", "-p", str(named)).stdout


# --- the web -------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(named: Path):  # type: ignore[no-untyped-def]
    from tieout.config import load_project
    from tieout.web.app import create_app

    with TestClient(create_app(load_project(named), auth=False)) as c:
        yield c


@pytest.mark.parametrize(("query", "rules"), [
    ("grunwald", {"UNMAPPED_SOURCE_RECORD"}), ("DE 741 433 377", {"UNMAPPED_SOURCE_RECORD"}),
    ("acme analytics", {"BILLING_ACTIVE_CRM_INACTIVE"}), ("ap@acme", {"BILLING_ACTIVE_CRM_INACTIVE"}),
    ("cus_2", {"CRM_ACTIVE_BILLING_INACTIVE", "OWNED_FIELD_MISMATCH"}),
])
def test_the_queue_and_the_api_search_by_name_and_keys(client: TestClient, query: str, rules: set[str]) -> None:
    api = client.get("/api/exceptions", params={"q": query})
    assert api.status_code == 200
    assert {e["rule"] for e in api.json()} == rules
    page = client.get("/", params={"q": query})
    assert page.status_code == 200
    assert {r for r in re.findall(r'<a href="/exceptions/[0-9a-f]{16}(?:\?[^"]*)?">([A-Z_]+)</a>', page.text)} == rules


def test_the_queue_shows_names_escaped(client: TestClient) -> None:
    page = client.get("/").text
    assert "Acme Analytics Inc." in page and "Grünwald Robotics AG" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in page
    assert next(e for e in client.get("/api/exceptions").json()
                if e["rule"] == "CRM_ACTIVE_BILLING_INACTIVE")["entity_name"] == HOSTILE


def test_the_entity_page_is_headed_by_the_name_with_the_id_beside_it(client: TestClient) -> None:
    page = client.get("/entities/ACME").text
    assert re.search(r"<h1><span class=\"entity-name\">Acme Analytics Inc\.</span> <span [^>]*>ACME</span></h1>", page)
    assert "<title>Acme Analytics Inc. ACME" in page
    evil = client.get("/entities/EVIL").text
    assert "<script>alert" not in evil and "&lt;script&gt;" in evil and "Evil Billing Name" in evil
    assert client.get("/api/entities/EVIL").json()["entity_name"] == HOSTILE


def test_the_exception_page_names_its_entity_or_record(client: TestClient) -> None:
    ident = next(e["id"] for e in client.get("/api/exceptions").json() if e["rule"] == "UNMAPPED_SOURCE_RECORD")
    page = client.get(f"/exceptions/{ident}").text
    assert "Grünwald Robotics AG (billing:cus_x)" in page  # the heading
    assert '<span class="entity-name">Grünwald Robotics AG</span> <span class="mono">billing:cus_x</span>' in page


# --- reports and notifications -------------------------------------------------------------------------------------

def test_reports_name_the_entities_in_every_format(named: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from tieout.config import load_project
    from tieout.reports import build, render, write_xlsx
    from tieout.rules.registry import load_rules

    project = load_project(named)
    daily = build(project, load_rules(project), "daily")
    listed = {i["rule"]: i["entity_name"] for b in daily["teams"] for i in b["new"]}
    assert listed["BILLING_ACTIVE_CRM_INACTIVE"] == "Acme Analytics Inc." and listed[
        "UNMAPPED_SOURCE_RECORD"] == "Grünwald Robotics AG"
    md, html = render(daily, "md"), render(daily, "html", charts=False)
    assert "| Name |" in md and "Grünwald Robotics AG" in md and "<script>" not in md
    assert "Grünwald Robotics AG" in html and "<script>alert" not in html and "&lt;script&gt;" in html
    write_xlsx(daily, tmp_path / "daily.xlsx")
    cells = [c for ws in load_workbook(tmp_path / "daily.xlsx") for row in ws.iter_rows() for c in row]
    assert any(c.value == "Grünwald Robotics AG" for c in cells)
    hostile = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert hostile and all(c.data_type == "s" and c.value.startswith("'=") for c in hostile)
    monthly = build(project, load_rules(project), "monthly", as_of=date(2026, 1, 20))  # the month to date
    lines = {line["rule"]: line for line in monthly["bridge"]}
    assert lines["CRM_ACTIVE_BILLING_INACTIVE"]["entities"] == ["EVIL"]
    assert lines["CRM_ACTIVE_BILLING_INACTIVE"]["entity_names"] == [HOSTILE]
    assert "Acme Analytics Inc. (ACME)" in render(monthly, "md")  # the bridge's entity column


def test_a_notification_names_the_entity(named: Path, tmp_path: Path) -> None:
    import shutil

    from tests.test_notify import Receiver

    receiver = Receiver()
    try:
        project = tmp_path / "copy"
        shutil.copytree(named, project)
        with (project / "tieout.yml").open("a") as f:
            f.write(f'notifications:\n  channels:\n    ar: ["json://127.0.0.1:{receiver.port}/hook"]\n'
                    "  retries: 0\n  backoff_seconds: 0\n")
        result = invoke("notify", "digest", "-p", str(project), "--team", "ar")
        assert result.exit_code == 0, result.output
        (message,) = [p["message"] for p in receiver.posts]
    finally:
        receiver.close()
    # as written: a text message, which the channel shows as text (apprise, body_format TEXT)
    assert "CRM_ACTIVE_BILLING_INACTIVE " + HOSTILE + " (EVIL): 60,000.00 USD at risk" in message
    assert "UNMAPPED_SOURCE_RECORD Grünwald Robotics AG (billing:cus_x)" in message
