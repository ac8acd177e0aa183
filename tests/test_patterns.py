"""`tieout patterns`: exception episodes grouped by shared cause, with their weekly trend and the recurring
ones flagged."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import BRIEF_TIMING, brief_backfilled, invoke, new_project, run_days

# One worker runs the module: its `world` is built once, not on each worker.
pytestmark = pytest.mark.xdist_group("patterns")

# Eight healthy companies, all mapped. Each test world bends some of them on some days.
COMPANIES = [f"C{n}" for n in range(1, 9)]
# Stored days: the Monday and the Friday of four ISO weeks (2026-W02 … W05).
MONDAYS = [date(2026, 1, 5) + timedelta(weeks=k) for k in range(4)]
FRIDAYS = [m + timedelta(days=4) for m in MONDAYS]
DAYS = sorted(MONDAYS + FRIDAYS)
AS_OF = DAYS[-1]  # Friday 2026-01-30, in W05

# Every Friday billing renames a different customer by hand; it is put back on the Monday after.
RENAMED = {FRIDAYS[k]: f"C{k + 1}" for k in range(4)}
TAX_EDIT = ("C5", FRIDAYS[1])  # billing mistypes C5's tax id one Friday and leaves it: another cause, same rule
VOIDED = {"C6": (MONDAYS[1], MONDAYS[2]), "C7": (FRIDAYS[3], None)}  # invoice voided (from, restored on)
DUPLICATE = ("C8", FRIDAYS[2])  # a re-run import creates C8's customer again; its tax id ties it back


# The six exports' header rows, in the order a day's builder lists its rows.
HEADERS = ("account_id,legal_name,domain,tax_id,owner,updated_at",
           "contract_id,account_id,status,start_date,end_date,annual_value,currency,contracted_fte,updated_at",
           "customer_id,name,email,tax_id,updated_at",
           "invoice_id,customer_id,period_start,period_end,issued_on,status,amount,currency,billed_fte,updated_at",
           "tenant_id,display_name,domain,created_on,status",
           "tenant_id,date,active_users,fte_count")
FILES = ("crm_accounts.csv", "crm_contracts.csv", "billing_customers.csv", "billing_invoices.csv", "ops_tenants.csv",
         "ops_usage.csv")


def exports(*rows: list[str]) -> dict[str, str]:
    """A day's six export files from their rows (accounts, contracts, customers, invoices, tenants, usage)."""
    return {name: "\n".join([header, *lines]) + "\n" for name, header, lines in zip(FILES, HEADERS, rows, strict=True)}


def no_rows() -> tuple[list[str], ...]:
    """Six empty lists for a day's rows, one per export (as `exports` takes them)."""
    return tuple([] for _ in FILES)


def mapped(companies: list[str]) -> str:
    """An entity map with each company's account A-C, customer cus-C and tenant t-C."""
    return "canonical_id,source_system,source_id,effective_from,effective_to,notes\n" + "".join(
        f"{c},{s},{i},2025-01-01,,\n" for c in companies for s, i in (("crm", f"A-{c}"), ("billing", f"cus-{c}"),
                                                                      ("ops", f"t-{c}")))


def _tax(c: str) -> str:
    return f"{c[1:].zfill(2)}-100000{c[1:]}"


def _day_files(day: date) -> dict[str, str]:
    accounts, contracts, customers, invoices, tenants, usage = no_rows()
    stamp = "2026-01-01T08:00:00Z"
    for c in COMPANIES:
        name = f"{c} Widgets Inc."
        domain = f"{c.lower()}.example"
        accounts.append(f"A-{c},{name},{domain},{_tax(c)},ana,{stamp}")
        contracts.append(f"K-{c},A-{c},active,2025-06-01,,120000.00,USD,50,{stamp}")
        billing_name = f"{c} Widgetz Inc." if RENAMED.get(day) == c else name
        tax = _tax(c)[:-1] + "9" if c == TAX_EDIT[0] and day >= TAX_EDIT[1] else _tax(c)
        edited = "2026-01-02T09:00:00Z" if billing_name != name or tax != _tax(c) else stamp
        customers.append(f"cus-{c},{billing_name},ap@{domain},{tax},{edited}")
        voided = c in VOIDED and VOIDED[c][0] <= day and (VOIDED[c][1] is None or day < VOIDED[c][1])
        invoices.append(f"in-{c},cus-{c},2026-01-01,2026-01-31,2026-01-01,{'void' if voided else 'paid'},"
                        f"10000.00,USD,50,{stamp}")
        tenants.append(f"t-{c},{c.lower()}-prod,{domain},2025-06-01,active")
        for back in (1, 0):
            usage.append(f"t-{c},{day - timedelta(days=back)},40,50")
    if day >= DUPLICATE[1]:
        c = DUPLICATE[0]
        customers.append(f"cus-dup,{c.upper()} WIDGETS INC.,,{_tax(c)},2026-01-02T03:15:00Z")
    return exports(accounts, contracts, customers, invoices, tenants, usage)


def reconciled(root: Path, days: list[date], day_files: Callable[[date], dict[str, str]], companies: list[str],
               files: dict[str, str] | None = None) -> Path:
    """A project at `root` whose `companies` are mapped in every system, with `files` beside tieout.yml, each of
    `days` exported by `day_files` and reconciled in order."""
    project = new_project(root, {d.isoformat(): day_files(d) for d in days})
    for name, text in {"entity_map.csv": mapped(companies), **(files or {})}.items():
        (project / name).write_text(text, encoding="utf-8")
    run_days(project, *(d.isoformat() for d in days))
    return project


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return reconciled(tmp_path_factory.mktemp("patterns") / "p", DAYS, _day_files, COMPANIES)


def _patterns(project: Path, *args: str) -> dict:
    result = invoke("patterns", "-p", str(project), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout, parse_float=Decimal)
    assert isinstance(data, dict)
    return data


def _by_change(data: dict, rule: str, table: str, field: str | None) -> list[dict]:
    return [p for p in data["patterns"] if p["rule"] == rule
            and any(c["table"] == table and c["field"] == field for c in p["changes"])]


def test_the_world_raises_what_it_was_built_for(world: Path) -> None:
    got = json.loads(invoke("exceptions", "-p", str(world), "--status", "all", "--format", "json").stdout)
    assert sorted((e["rule"], e["canonical_id"], e["field"]) for e in got) == sorted(
        [("OWNED_FIELD_MISMATCH", c, "legal_name") for c in RENAMED.values()]
        + [("OWNED_FIELD_MISMATCH", "C5", "tax_id")]
        + [(rule, c, None) for c in VOIDED for rule in ("CRM_ACTIVE_BILLING_INACTIVE", "OPS_ACTIVE_BILLING_INACTIVE")]
        + [("DUPLICATE_SOURCE_RECORD", "C8", None)])


def test_a_weekly_hand_edit_on_different_entities_is_one_recurring_pattern(world: Path) -> None:
    data = _patterns(world)
    [p] = _by_change(data, "OWNED_FIELD_MISMATCH", "billing_customers", "name")
    assert (p["count"], p["open"], p["classification"], p["history"]) == (4, 1, "ownership", "compared")
    # only the name changed: the moved updated_at and the usage window's daily rows are not causes
    assert p["changes"] == [{"system": "billing", "table": "billing_customers", "change": "changed", "field": "name"}]
    assert p["origins"] == [{"system": s, "method": "map", "lifecycle": "existing"} for s in ("billing", "crm", "ops")]
    assert [w["new"] for w in p["trend"]] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert [w["week"] for w in p["trend"][-4:]] == ["2026-W02", "2026-W03", "2026-W04", "2026-W05"]
    assert p["trend"][-1]["start"] == "2026-01-26"
    assert (p["week_over_week"], p["recurring_weeks"], p["recurring"]) == (0, 4, True)
    assert (p["first_seen"], p["last_new"], p["last_seen"]) == ("2026-01-09", "2026-01-30", "2026-01-30")
    assert [e["canonical_id"] for e in p["examples"]] == ["C4", "C3", "C2"]  # the latest first
    assert "a rule nobody wrote down" in p["sentence"]
    assert "billing_customers.name changed" in p["sentence"]
    # the recurring pattern comes first
    assert data["patterns"][0]["id"] == p["id"]
    assert [q["recurring"] for q in data["patterns"]].count(True) == 1


def test_two_causes_of_one_rule_are_two_patterns(world: Path) -> None:
    data = _patterns(world, "--rule", "OWNED_FIELD_MISMATCH")
    assert {p["rule"] for p in data["patterns"]} == {"OWNED_FIELD_MISMATCH"}
    assert sorted((tuple(c["field"] for c in p["changes"]), p["count"]) for p in data["patterns"]) == [
        (("name",), 4), (("tax_id",), 1)]
    [tax] = _by_change(data, "OWNED_FIELD_MISMATCH", "billing_customers", "tax_id")
    assert (tax["recurring"], tax["recurring_weeks"], tax["open"]) == (False, 1, 1)


def test_one_cause_is_one_pattern_whatever_its_classification(world: Path) -> None:
    # C6's invoice is voided and restored a week later (timing); C7's is voided on the last day (pending): the
    # same edit, one pattern, its classifications a breakdown
    data = _patterns(world, "--rule", "CRM_ACTIVE_BILLING_INACTIVE")
    [p] = data["patterns"]
    assert p["changes"] == [{"system": "billing", "table": "billing_invoices", "change": "changed", "field": "status"}]
    assert (p["count"], p["open"]) == (2, 1)
    assert p["classifications"] == {"pending": 1, "timing": 1}
    assert p["classification"] == "pending"  # a tie: the class to act on first
    assert p["money_at_risk"] == Decimal("10000.00")  # the open one's monthly contract value
    assert (p["peak_at_risk"], p["peak_on"]) == (Decimal("10000.00"), "2026-01-12")
    assert p["lag"]["days"] == 7 and p["lag"]["closed"] == 1 and p["lag"]["open_longest"] == 0
    assert "1 is still within the expected lag (pending), 1 closed by itself within the expected lag (timing)" \
        in p["sentence"]
    # the day before C7's void, the pattern was C6's alone, classified timing: the id did not change
    before = _patterns(world, "--as-of", "2026-01-26", "--rule", "CRM_ACTIVE_BILLING_INACTIVE")["patterns"]
    assert [(q["id"], q["classification"], q["count"]) for q in before] == [(p["id"], "timing", 1)]


def test_records_created_by_one_workflow_show_in_the_origin(world: Path) -> None:
    data = _patterns(world, "--rule", "DUPLICATE_SOURCE_RECORD")
    [p] = data["patterns"]
    assert {"system": "billing", "method": "tax_id", "lifecycle": "new"} in p["origins"]
    assert {"system": "billing", "table": "billing_customers", "change": "added", "field": None} in p["changes"]
    assert "new that day" in p["sentence"] and "tax id" in p["sentence"]


def test_json_shape_and_filters(world: Path) -> None:
    data = _patterns(world)
    assert list(data) == ["as_of", "since", "status", "recurring_rule", "patterns"]
    assert (data["as_of"], data["since"], data["status"]) == ("2026-01-30", None, "all")
    assert data["recurring_rule"] == {"min_weeks": 3, "of_weeks": 4}
    assert list(data["patterns"][0]) == [
        "id", "rule", "classification", "history", "changes", "origins", "count", "open", "first_seen", "last_seen",
        "last_new", "money_at_risk", "currency", "trend", "week_over_week", "recurring_weeks", "recurring",
        "examples", "sentence", "classifications", "cadence", "lag", "peak_at_risk", "peak_on", "systems", "fields",
        "handoff"]
    assert list(data["patterns"][0]["examples"][0]) == [
        "id", "canonical_id", "source_system", "source_id", "field", "first_seen", "resolved_on", "entity_name"]
    assert sum(p["count"] for p in data["patterns"]) == 10
    # --status open: only the open episodes count (one rename, the tax id, one void twice, the duplicate)
    assert sum(p["count"] for p in _patterns(world, "--status", "open")["patterns"]) == 5
    # the last two weeks: two renames, too few weeks for 3 of 4
    recent = _patterns(world, "--weeks", "2", "--rule", "OWNED_FIELD_MISMATCH")
    assert recent["since"] == "2026-01-19"
    [p] = [p for p in recent["patterns"] if p["changes"][0]["field"] == "name"]
    assert (p["count"], p["recurring"], [w["new"] for w in p["trend"]]) == (2, False, [0, 0, 1, 1])
    # a looser rule: new occurrences in 2 of the last 2 weeks
    loose = _patterns(world, "--weeks", "2", "--recurring-min", "2", "--recurring-of", "2")
    assert [p["rule"] for p in loose["patterns"] if p["recurring"]] == ["OWNED_FIELD_MISMATCH"]
    # as it stood two weeks earlier: the renames of W02 and W03 only
    before = _patterns(world, "--as-of", "2026-01-16", "--rule", "OWNED_FIELD_MISMATCH", "--examples", "1")
    [p] = [p for p in before["patterns"] if p["changes"][0]["field"] == "name"]
    assert (p["count"], p["recurring"], len(p["examples"])) == (2, False, 1)


def test_the_same_signature_gets_the_same_id_on_another_day(world: Path) -> None:
    now = _by_change(_patterns(world), "OWNED_FIELD_MISMATCH", "billing_customers", "name")[0]
    then = _by_change(_patterns(world, "--as-of", "2026-01-23"), "OWNED_FIELD_MISMATCH", "billing_customers",
                      "name")[0]
    assert now["id"] == then["id"] and then["count"] == 3


def test_table_output_and_bad_options(world: Path) -> None:
    result = invoke("patterns", "-p", str(world))
    assert result.exit_code == 0, result.output
    assert "a rule nobody wrote down" in result.output and "OWNED_FIELD_MISMATCH" in result.output
    assert invoke("patterns", "-p", str(world), "--rule", "NOPE").exit_code == 2
    assert invoke("patterns", "-p", str(world), "--since", "2026-01-01", "--weeks", "2").exit_code == 2
    assert invoke("patterns", "-p", str(world), "--recurring-min", "5", "--recurring-of", "4").exit_code == 2


def test_nothing_reconciled(tmp_path: Path) -> None:
    project = new_project(tmp_path / "empty", {})
    assert _patterns(project)["patterns"] == []


@pytest.mark.slow  # a 36-day backfill
@pytest.mark.skipif(not BRIEF_TIMING.is_dir(), reason=f"{BRIEF_TIMING} is not here (../shared)")
def test_brief_timing_billing_created_late(tmp_path_factory: pytest.TempPathFactory) -> None:
    data = _patterns(brief_backfilled(tmp_path_factory))
    by_rule = {p["rule"]: p for p in data["patterns"]}
    # Billing creates GLOBEX's customer and first invoice on Jan 15: refund risk until usage starts on Jan 20.
    p = by_rule["BILLING_ACTIVE_OPS_INACTIVE"]
    assert (p["classification"], p["history"], p["count"]) == ("timing", "compared", 1)
    assert {"system": "billing", "table": "billing_customers", "change": "added", "field": None} in p["changes"]
    assert {"system": "billing", "table": "billing_invoices", "change": "added", "field": None} in p["changes"]
    assert {o["system"] for o in p["origins"] if o["lifecycle"] == "new"} == {"billing"}
    assert "it closed by itself within the expected lag (timing)" in p["sentence"]
    assert (p["lag"]["days"], p["lag"]["text"]) == (5, "closed after 5 days")
    # The other two were there from the first stored day: nothing to compare with.
    assert by_rule["CRM_ACTIVE_BILLING_INACTIVE"]["history"] == "first_day"
    assert by_rule["UNMAPPED_SOURCE_RECORD"]["origins"] == [
        {"system": "billing", "method": "unmapped", "lifecycle": "first_day"}]


HOSTILE_HANDOFF = '=HYPERLINK("http://evil.example","x") <script>alert(1)</script> \x1b[31mred'
LEGAL_NAME = ("fields:\n  legal_name:\n    kind: name\n"
              "    held_in: {crm: accounts.legal_name, billing: customers.name}\n    owner: crm\n")


def _hostile_shown_as_text(world: Path, project: Path, registry: str, change: tuple[str, str, str],
                           matched_on: str, said: str) -> None:
    """`project`, a copy of `world` with `registry` as its ownership.yml, has one pattern of `change` (rule,
    table, field) crossing a handoff with HOSTILE_HANDOFF as its event: JSON keeps it as it is, the sentence
    says `said`, the terminal shows its control characters written out, the web page escapes it."""
    from fastapi.testclient import TestClient

    from tieout.config import load_project
    from tieout.web.app import create_app

    shutil.copytree(world, project)
    (project / "ownership.yml").write_text(registry, encoding="utf-8")
    [p] = _by_change(_patterns(project), *change)
    assert (p["handoff"]["event"], p["handoff"]["matched_on"]) == (HOSTILE_HANDOFF, matched_on)
    assert said in p["sentence"]
    shown = invoke("patterns", "-p", str(project)).output
    assert "\x1b" not in shown and "\\x1b[31mred" in shown
    with TestClient(create_app(load_project(project), auth=False)) as client:
        page = client.get("/patterns").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_handoffs_words_are_escaped_wherever_they_are_shown(world: Path, tmp_path: Path) -> None:
    """`handoff:` in ownership.yml is free text, and it reaches the sentence."""
    _hostile_shown_as_text(world, tmp_path / "p", LEGAL_NAME + f"    handoff: {json.dumps(HOSTILE_HANDOFF)}\n",
                           ("OWNED_FIELD_MISMATCH", "billing_customers", "name"), "field",
                           f"when {HOSTILE_HANDOFF}, billing should be updated")


def _texts(value: object) -> list[str]:
    """Every string in a report, however deep."""
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else []
    return [t for item in items for t in _texts(item)]


def test_a_lifecycle_handoffs_hostile_event_is_text_wherever_the_sentence_goes(world: Path, tmp_path: Path) -> None:
    """A lifecycle handoff's `event` is free text that the sentence quotes: as above, and in the weekly review
    escaped in Markdown and HTML, and a plain string (never a formula) in its spreadsheet."""
    from openpyxl import load_workbook

    from tieout.config import load_project
    from tieout.reports import build, render, write_xlsx
    from tieout.rules.registry import load_rules

    project = tmp_path / "p"
    _hostile_shown_as_text(world, project, LEGAL_NAME + "handoffs:\n  - from: billing\n    to: crm\n"
                           f"    columns: [invoices.status]\n    event: {json.dumps(HOSTILE_HANDOFF)}\n"
                           "    should: hear of it\n",
                           ("CRM_ACTIVE_BILLING_INACTIVE", "billing_invoices", "status"), "lifecycle",
                           f"when {HOSTILE_HANDOFF}, CRM should hear of it")
    loaded = load_project(project)
    report = build(loaded, load_rules(loaded), "weekly", as_of=AS_OF)
    assert any(HOSTILE_HANDOFF in t for t in _texts(report))  # the weekly review quotes the sentence
    for fmt in ("md", "html"):
        text = render(report, fmt, charts=False)
        assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text, fmt
    write_xlsx(report, tmp_path / "weekly.xlsx")
    book = load_workbook(tmp_path / "weekly.xlsx")
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    quoting = [c for c in cells if isinstance(c.value, str) and "evil.example" in c.value]
    assert quoting and all(c.data_type == "s" and not c.value.startswith("=") for c in quoting)
    assert all("\\x1b[31mred" in c.value and "\x1b" not in c.value for c in quoting)  # a workbook holds no ESC
    assert not any(c.data_type == "f" for c in cells)
