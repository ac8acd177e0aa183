"""`tieout exceptions`: filters, formats, --fail-on; routing and rule overrides end to end."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import HEALTHY_DAY, invoke, run_days, write_day

H = HEALTHY_DAY
# Two problems on one day: a P2 for AR and an INFO for AR (an unmapped billing customer).
BROKEN = {
    "crm_contracts.csv": H["crm_contracts.csv"].replace(",active,", ",cancelled,"),
    "billing_customers.csv": H["billing_customers.csv"]
    + "cus_x,Zeta Widgets GmbH,rechnung@zeta.example,,2026-01-20T23:00:00Z\n",
}


@pytest.fixture
def broken(project: Path) -> Path:
    write_day(project, "2026-01-20", BROKEN)
    run_days(project, "2026-01-20")
    return project


def rows(project: Path, *args: str) -> list[dict]:
    result = invoke("exceptions", "-p", str(project), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_has_the_contract_keys(broken: Path) -> None:
    got = rows(broken)
    assert [e["rule"] for e in got] == ["BILLING_ACTIVE_CRM_INACTIVE", "UNMAPPED_SOURCE_RECORD"]  # worst first
    for key in ("id", "rule", "canonical_id", "source_system", "source_id", "field", "severity", "impact",
                "currency", "team", "status", "classification", "first_seen", "last_seen", "resolved_on"):
        assert key in got[0]
    assert got[0]["impact"] == 10000 and got[0]["severity"] == "P2" and got[0]["first_seen"] == "2026-01-20"


def test_filters(broken: Path) -> None:
    assert [e["rule"] for e in rows(broken, "--severity", "INFO")] == ["UNMAPPED_SOURCE_RECORD"]
    assert [e["rule"] for e in rows(broken, "--rule", "BILLING_ACTIVE_CRM_INACTIVE")] == [
        "BILLING_ACTIVE_CRM_INACTIVE"]
    assert rows(broken, "--team", "product") == []
    assert len(rows(broken, "--team", "ar")) == 2
    assert rows(broken, "--status", "resolved") == []


def test_unknown_rule_filter_is_a_usage_error(broken: Path) -> None:
    result = invoke("exceptions", "-p", str(broken), "--rule", "NOPE")
    assert result.exit_code == 2 and "NOPE" in result.output


def test_csv(broken: Path) -> None:
    result = invoke("exceptions", "-p", str(broken), "--format", "csv")
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["rule"] for r in table] == ["BILLING_ACTIVE_CRM_INACTIVE", "UNMAPPED_SOURCE_RECORD"]
    assert table[0]["impact"] == "10000.00" and table[1]["canonical_id"] == ""


def test_table_for_people(broken: Path) -> None:
    out = invoke("exceptions", "-p", str(broken)).stdout
    assert "10,000.00 USD" in out and "BILLING_ACTIVE_CRM_INACTIVE" in out and "billing:cus_x" in out


@pytest.mark.parametrize(("floor", "code"), [("P1", 0), ("P2", 5), ("INFO", 5)])
def test_fail_on(broken: Path, floor: str, code: int) -> None:
    result = invoke("exceptions", "-p", str(broken), "--fail-on", floor)
    assert result.exit_code == code
    if code:
        assert f"at or above {floor}" in result.output


def test_fail_on_respects_filters(broken: Path) -> None:
    assert invoke("exceptions", "-p", str(broken), "--severity", "INFO", "--fail-on", "P2").exit_code == 0


def test_routing_by_condition_and_rule_overrides(project: Path) -> None:
    (project / "tieout.yml").write_text(
        "exports: exports/{date}\nentity_map: entity_map.csv\n"
        "severity: {P1: 9000, P2: 5000, P3: 100}\n"
        "rules:\n  UNMAPPED_SOURCE_RECORD: {team: data_eng}\n"
        "routing:\n  - when: {severity: P1, rule: BILLING_ACTIVE_CRM_INACTIVE}\n    team: finance\n"
    )
    write_day(project, "2026-01-20", BROKEN)
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    got = {e["rule"]: (e["severity"], e["team"]) for e in rows(project)}
    assert got == {"BILLING_ACTIVE_CRM_INACTIVE": ("P1", "finance"), "UNMAPPED_SOURCE_RECORD": ("INFO", "data_eng")}


def test_a_user_rule_and_a_parameter_override(project: Path) -> None:
    rules = project / "rules"
    rules.mkdir()
    (rules / "BIG_CONTRACT.sql").write_text(
        "SELECT canonical_id, monthly_value AS impact, 'contract ' || contract_id AS details\n"
        "FROM contracts WHERE annual_value >= $min_annual AND start_date <= $as_of\n"
    )
    (rules / "BIG_CONTRACT.yml").write_text(
        "description: Contracts worth watching\nimpact: monthly value\nteam: finance\n"
        "params: {min_annual: 100000}\n"
    )
    # 55 FTE against 50 billed is a 10 % drift: at the default tolerance it does not fire, at 5 % it does.
    (rules / "FTE_THRESHOLD_DRIFT.yml").write_text("params: {tolerance: 0.05}\n")
    write_day(project, "2026-01-20", {"ops_usage.csv": "tenant_id,date,active_users,fte_count\nt-1,2026-01-20,4,55\n"})
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    got = {e["rule"]: (e["team"], e["impact"]) for e in rows(project)}
    assert got == {"BIG_CONTRACT": ("finance", 10000), "FTE_THRESHOLD_DRIFT": ("account_managers", 1000)}
    listed = json.loads(invoke("rules", "list", "-p", str(project), "--format", "json").stdout)
    by_name = {r["name"]: r for r in listed}
    assert by_name["BIG_CONTRACT"]["builtin"] is False
    assert by_name["FTE_THRESHOLD_DRIFT"]["params"] == {"tolerance": 0.05, "window_days": 30}


def test_a_bad_override_is_refused(project: Path) -> None:
    (project / "rules").mkdir()
    (project / "rules" / "FTE_THRESHOLD_DRIFT.yml").write_text("params: {tolerence: 0.05}\n")
    result = invoke("rules", "list", "-p", str(project))
    assert result.exit_code == 3 and "no parameter 'tolerence'" in result.output


def test_rules_explain_with_an_exception(broken: Path) -> None:
    exc = rows(broken, "--rule", "BILLING_ACTIVE_CRM_INACTIVE")[0]
    out = invoke("rules", "explain", "BILLING_ACTIVE_CRM_INACTIVE", "-p", str(broken), "--exception", exc["id"])
    assert out.exit_code == 0
    assert "FROM billing_active" in out.stdout and "in_1 covers 2026-01-20" in out.stdout
    assert "10,000.00 USD → P2, routed to ar" in out.stdout
    assert invoke("rules", "explain", "NOPE", "-p", str(broken)).exit_code == 7


def test_a_second_run_stops_at_once_while_one_holds_the_project(project: Path) -> None:
    from tieout.config import load_project
    from tieout.store import run_lock

    with run_lock(load_project(project)):
        result = invoke("run", "-p", str(project), "--as-of", "2026-01-20")
    assert result.exit_code == 6
    assert "another tieout run is in progress" in result.output
    assert not (project / ".tieout").exists()
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0  # released


def test_the_example_rule_of_docs_rules_md_works(project: Path) -> None:
    """docs/rules.md teaches by example: its rule must run as written."""
    import re

    doc = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text()
    sql = re.search(r"```sql\n(-- rules/BIG_CONTRACT_NO_USAGE\.sql\n.*?)```", doc, re.S).group(1)
    yml = re.search(r"```yaml\n(# rules/BIG_CONTRACT_NO_USAGE\.yml\n.*?)```", doc, re.S).group(1)
    (project / "rules").mkdir()
    (project / "rules" / "BIG_CONTRACT_NO_USAGE.sql").write_text(sql)
    (project / "rules" / "BIG_CONTRACT_NO_USAGE.yml").write_text(yml)
    # 120,000 a year is 10,000 a month; the last active user was 20 days ago.
    write_day(project, "2026-01-20", {
        "ops_usage.csv": "tenant_id,date,active_users,fte_count\nt-1,2025-12-31,4,50\nt-1,2026-01-20,0,50\n",
    })
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    got = rows(project, "--rule", "BIG_CONTRACT_NO_USAGE")
    assert [(e["canonical_id"], e["impact"], e["team"]) for e in got] == [("ACME", 10000, "account_managers")]


def test_amounts_in_another_currency_are_converted_exactly(project: Path) -> None:
    (project / "tieout.yml").write_text(
        "exports: exports/{date}\nentity_map: entity_map.csv\nfx_rates: {EUR: 1.08}\n")
    write_day(project, "2026-01-20", {
        "crm_contracts.csv": BROKEN["crm_contracts.csv"],
        "billing_invoices.csv": H["billing_invoices.csv"].replace(",USD,", ",EUR,"),
    })
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    got = json.loads(invoke("exceptions", "-p", str(project), "--format", "json").stdout,
                     parse_float=Decimal)
    assert [(e["rule"], e["impact"], e["currency"], e["severity"]) for e in got] == [
        ("BILLING_ACTIVE_CRM_INACTIVE", Decimal("10800.00"), "USD", "P2")]


def test_a_currency_without_a_rate_is_refused(project: Path) -> None:
    write_day(project, "2026-01-20", {"billing_invoices.csv": H["billing_invoices.csv"].replace(",USD,", ",GBP,")})
    result = invoke("run", "-p", str(project), "--as-of", "2026-01-20")
    assert result.exit_code == 4
    assert ("billing_invoices.csv, row 2, column 'currency': 'GBP': no rate into the reporting currency USD for "
            "2026-01-20 (add it to tieout.yml, e.g. fx_rates: {GBP: 1.08})") in result.output
    assert not (project / ".tieout").exists()


# --- tables that fit the terminal -------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [80, 120, 160])
def test_the_table_fits_the_terminal_and_keeps_what_matters(broken: Path, width: int,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIEOUT_WIDTH", str(width))
    result = invoke("exceptions", "-p", str(broken))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    ids = [e["id"] for e in rows(broken)]
    header = next(line for line in lines if "ID" in line and "Sev" in line)
    for column in ("Rule", "Impact"):
        assert column in header
    for ident in ids:  # never cut: `tieout show` takes what the table shows
        assert any(ident in line for line in lines)
    for rule in ("BILLING_ACTIVE_CRM_INACTIVE", "UNMAPPED_SOURCE_RECORD"):
        assert any(rule in line for line in lines)
    if width >= 120:
        assert "Team" in header
    if width >= 160:
        assert "Status" in header


def test_a_pipe_gets_the_whole_table_and_no_colour(broken: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # as test runners and cron set it: no guide for a pipe
    out = invoke("exceptions", "-p", str(broken)).stdout
    assert "\x1b[" not in out
    assert all(c in out for c in ("Team", "Status", "Class", "First seen", "Resolved"))


def test_severity_is_coloured_at_a_terminal() -> None:
    from rich.console import Console

    from tieout.output import table

    console = Console(width=120, force_terminal=True, color_system="standard")
    with console.capture() as captured:
        console.print(table("t", ("ID", "Sev"), [("e1", "P1"), ("e2", "INFO")]))
    assert "\x1b[1;31mP1" in captured.get()


def test_age_and_due_date_on_the_as_of_day_in_json_and_csv(broken: Path) -> None:
    """The SLA's due date (first seen + days of its severity) and the age on the as-of day, never the wall clock."""
    got = {e["rule"]: e for e in rows(broken)}
    p2 = got["BILLING_ACTIVE_CRM_INACTIVE"]
    assert (p2["age_days"], p2["due_on"], p2["overdue"]) == (0, "2026-01-25", False)  # P2: 5 days
    info = got["UNMAPPED_SOURCE_RECORD"]
    assert (info["age_days"], info["due_on"], info["overdue"]) == (0, None, False)  # INFO: no SLA by default
    result = invoke("exceptions", "-p", str(broken), "--format", "csv")
    header = next(csv.reader(io.StringIO(result.stdout)))
    assert header[-3:] == ["age_days", "due_on", "overdue"] and header[:3] == ["id", "rule", "canonical_id"]


def test_overdue_once_the_as_of_day_is_past_the_due_date(broken: Path) -> None:
    with open(broken / "tieout.yml", "a", encoding="utf-8") as config:
        config.write("sla: {P2: 0, INFO: 0}\n")
    write_day(broken, "2026-01-21", BROKEN)
    assert invoke("run", "-p", str(broken), "--as-of", "2026-01-21").exit_code == 0
    got = {e["rule"]: e for e in rows(broken)}
    assert [(e["age_days"], e["due_on"], e["overdue"]) for e in got.values()] == [(1, "2026-01-20", True)] * 2
    earlier = {e["rule"]: e for e in rows(broken, "--as-of", "2026-01-20")}
    assert [(e["age_days"], e["overdue"]) for e in earlier.values()] == [(0, False)] * 2


def test_filter_by_assignee_and_workflow_state(broken: Path) -> None:
    from tieout.config import load_project
    from tieout.people import add_user

    project = load_project(broken)
    for name in ("alice", "bob"):
        add_user(project, name, "team_member", "correct horse battery", ("ar",))
    p2, info = (e["id"] for e in rows(broken))
    assert invoke("assign", p2, "--as", "alice", "--to", "bob", "-p", str(broken)).exit_code == 0
    assert invoke("ack", info, "--as", "alice", "-p", str(broken)).exit_code == 0

    def ids(*args: str) -> list[str]:
        return [e["id"] for e in rows(broken, *args)]

    assert ids("--assignee", "bob") == [p2]
    assert ids("--assignee", "alice") == []
    assert ids("--unassigned") == [info]
    assert ids("--assignee", "bob", "--unassigned") == [p2, info]
    assert ids("--state", "assigned") == [p2]
    assert ids("--state", "acknowledged") == [info]
    assert ids("--state", "open") == []  # open in the workflow: nobody acted on it yet
    assert ids("--state", "assigned", "--state", "acknowledged") == [p2, info]
    assert ids("--state", "acknowledged", "--assignee", "bob") == []
    table = invoke("exceptions", "-p", str(broken), "--state", "assigned")
    assert table.exit_code == 0 and p2 in table.stdout and info not in table.stdout
    bad = invoke("exceptions", "-p", str(broken), "--state", "done")
    assert bad.exit_code == 2 and "acknowledged" in bad.output


def test_the_python_api_lists_what_the_json_lists(broken: Path, tmp_path: Path) -> None:
    """`tieout.exceptions()`: the same records as `tieout exceptions --format json`, filters and order, with money
    as Decimal and days as dates; a bad filter is a ValueError naming it."""
    from datetime import date

    import tieout
    from tieout.config import load_project
    from tieout.errors import ConfigError
    from tieout.output import to_json
    from tieout.people import add_user

    add_user(load_project(broken), "alice", "team_member", "correct horse battery", ("ar",))
    p2 = rows(broken)[0]["id"]
    assert invoke("assign", p2, "--as", "alice", "--to", "alice", "-p", str(broken)).exit_code == 0
    for cli, api in (((), {}), (("--severity", "INFO"), {"severity": "INFO"}),
                     (("--rule", "BILLING_ACTIVE_CRM_INACTIVE", "--rule", "UNMAPPED_SOURCE_RECORD"),
                      {"rule": ["BILLING_ACTIVE_CRM_INACTIVE", "UNMAPPED_SOURCE_RECORD"]}),
                     (("--team", "product"), {"team": "product"}), (("--status", "all"), {"status": "all"}),
                     (("--as-of", "2026-01-20"), {"as_of": "2026-01-20"}), (("--search", "zeta"), {"search": "zeta"}),
                     (("--unassigned",), {"unassigned": True}), (("--state", "assigned"), {"state": "assigned"})):
        listed = tieout.exceptions(broken, **api)
        assert json.loads(to_json(listed)) == rows(broken, *cli), cli
    got = tieout.exceptions(str(broken), as_of=date(2026, 1, 20))
    assert [e["rule"] for e in got] == ["BILLING_ACTIVE_CRM_INACTIVE", "UNMAPPED_SOURCE_RECORD"]
    assert got[0]["impact"] == Decimal("10000") and isinstance(got[0]["impact"], Decimal)
    assert got[0]["first_seen"] == date(2026, 1, 20) and isinstance(got[0]["ownership_edits"], list)
    for bad, word in (({"status": "closed"}, "closed"), ({"severity": ["P2", "P9"]}, "P9"),
                      ({"rule": "NOPE"}, "NOPE"), ({"state": "done"}, "done")):
        with pytest.raises(ValueError, match=word):
            tieout.exceptions(broken, **bad)
    with pytest.raises(ConfigError):
        tieout.exceptions(tmp_path / "nowhere")
