"""Lifecycle handoffs in ownership.yml (`handoffs:`): what is accepted, each way one is refused (exit 3, naming
the file, the handoff and what was expected), the default's four, and where they are shown — the document, the
web page and `tieout ownership check` — with hostile words kept as text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import invoke, new_project
from tests.ownership.helpers import with_registry
from tieout.config import load_project
from tieout.ownership.doc import handoffs, markdown, mermaid
from tieout.ownership.model import DEFAULT_REGISTRY, load_registry

FIELDS = "fields:\n  legal_name:\n    kind: name\n    held_in: {crm: accounts.legal_name, billing: customers.name}\n" \
         "    owner: crm\n"
GOES_LIVE = {"from": "crm", "to": "billing", "columns": ["contracts.status", "contracts.start_date"],
             "event": "a contract goes live in the CRM", "should": "create the customer the same day"}
HOSTILE = '=HYPERLINK("http://evil.example","x") <script>alert(1)</script> | \x1b[31mred'


def _registry(*handoff: dict) -> str:
    return FIELDS + "handoffs:\n" + "".join(f"  - {json.dumps(h)}\n" for h in handoff)


REFUSED = {
    "unknown from": ({**GOES_LIVE, "from": "erp"}, "from: 'erp' is not a system (expected crm, billing or ops)"),
    "unknown to": ({**GOES_LIVE, "to": "finance"}, "to: 'finance' is not a system"),
    "to itself": ({**GOES_LIVE, "to": "crm"}, "from and to are both crm"),
    "unknown table": ({**GOES_LIVE, "columns": ["deals.status"]}, "columns: 'deals.status' is not table.column "
                                                                  "(tables: accounts, contracts, customers"),
    "no column": ({**GOES_LIVE, "columns": ["contracts"]}, "columns: 'contracts' is not table.column"),
    "unknown column": ({**GOES_LIVE, "columns": ["contracts.stage"]},
                       "columns: contracts has no column 'stage' (it has contract_id, account_id, status"),
    "another system's column": ({**GOES_LIVE, "columns": ["invoices.status"]},
                                "columns: invoices.status is a billing column; the event happens in crm "
                                "(expected a column of accounts, contracts)"),
    "unknown rule": ({**GOES_LIVE, "missed_as": ["CRM_ACTIVE_BILING_INACTIVE"]},
                     "missed_as: no rule 'CRM_ACTIVE_BILING_INACTIVE' (known: AMBIGUOUS_ENTITY_MATCH"),
    "no event": ({k: v for k, v in GOES_LIVE.items() if k != "event"}, "missing required key 'event'"),
    "empty should": ({**GOES_LIVE, "should": ""}, "key 'should'"),
    "no columns": ({**GOES_LIVE, "columns": []}, "key 'columns'"),
    "unknown key": ({**GOES_LIVE, "when": "always"}, "unknown key 'when'"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_lifecycle_handoff_is_refused_with_file_handoff_and_what_was_expected(tmp_path: Path, case: str) -> None:
    handoff, problem = REFUSED[case]
    project = with_registry(new_project(tmp_path / "p", {}), _registry(GOES_LIVE, handoff))
    result = invoke("ownership", "check", "-p", str(project))
    assert result.exit_code == 3, result.output
    assert "ownership.yml" in result.output and "handoffs[1]" in result.output, result.output
    assert problem in " ".join(result.output.split()), result.output


def test_accepted_with_a_project_rule_and_shown_by_check(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", {})
    (project / "rules").mkdir(exist_ok=True)
    (project / "rules" / "SEATS_NOT_BILLED.yml").write_text("description: x\n")
    (project / "rules" / "SEATS_NOT_BILLED.sql").write_text("SELECT 1 AS x WHERE false\n")
    usage = {"from": "ops", "to": "billing", "columns": ["usage.active_users"], "event": "ops adds seats",
             "should": "bill them", "missed_as": ["SEATS_NOT_BILLED"]}
    with_registry(project, _registry(GOES_LIVE, usage))
    registry = load_registry(load_project(project))
    assert [(h.source, h.target, h.columns, h.missed_as) for h in registry.handoffs] == [
        ("crm", "billing", ["contracts.status", "contracts.start_date"], []),
        ("ops", "billing", ["usage.active_users"], ["SEATS_NOT_BILLED"])]
    out = invoke("ownership", "check", "-p", str(project)).output
    assert "Lifecycle handoffs" in out and "ops adds seats" in out and "SEATS_NOT_BILLED" in out


def test_the_default_registry_has_the_customers_life_and_fingerprints_do_not_see_it() -> None:
    assert [(h.source, h.target, h.event) for h in DEFAULT_REGISTRY.handoffs] == [
        ("crm", "billing", "a contract goes live in the CRM"),
        ("crm", "billing", "a contract ends or is cancelled in the CRM"),
        ("billing", "ops", "billing invoices a new customer"),
        ("ops", "billing", "ops counts a different number of FTEs for a customer")]
    # the store's fingerprints and edit digests read the dump: a lifecycle handoff changes no finding, so
    # adding one must not make every stored day look stale
    assert set(DEFAULT_REGISTRY.model_dump(mode="json")) == {"fields"}


def test_the_document_lists_them_and_draws_them(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", {})
    assert invoke("ownership", "doc", "-p", str(project)).exit_code == 0
    md = (project / "ownership.md").read_text()
    assert "| CRM | a contract goes live in the CRM | billing | billing should create the customer and its first " \
           "invoice the same day | contracts.status, contracts.start_date | CRM_ACTIVE_BILLING_INACTIVE |" in md
    assert "| ops | ops counts a different number of FTEs for a customer | billing |" in md
    # the owned fields' copies are still there, after the lifecycle events
    assert md.index("a contract goes live") < md.index("| CRM | CRM changes it | billing | legal_name → customers.name")
    drawn = md.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert re.search(r'crm -->\|"a contract goes live in the CRM — billing should create .*"\| billing', drawn)
    assert re.search(r'billing -->\|"billing invoices a new customer — ops should provision its tenant.*"\| ops',
                     drawn)
    page = (project / "ownership.html").read_text()
    assert "<td>a contract ends or is cancelled in the CRM</td>" in page and "FTE_THRESHOLD_DRIFT" in page


def test_hostile_words_stay_text_in_the_document_the_page_and_the_terminal(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from tieout.web.app import create_app

    project = with_registry(new_project(tmp_path / "p", {}), _registry({**GOES_LIVE, "event": HOSTILE}))
    registry = load_registry(load_project(project))
    (h,) = [h for h in handoffs(registry) if h.lifecycle]
    assert h.event == HOSTILE  # kept as written; each output escapes it its own way
    # Mermaid: one line, the quote and the bar cannot end the label early
    (edge,) = [line for line in mermaid(registry).splitlines() if "evil" in line]
    assert edge.count('"') == 2 and edge.count("|") == 2 and "#quot;" in edge and "#124;" in edge
    md = markdown(registry, load_project(project))
    (row,) = [line for line in md.splitlines() if "evil" in line and not line.startswith("    ")]
    assert "<script>" not in row and "\\|" in row
    assert invoke("ownership", "doc", "-p", str(project)).exit_code == 0
    page = (project / "ownership.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    with TestClient(create_app(load_project(project), auth=False)) as client:
        web = client.get("/ownership").text
    assert "<script>alert" not in web and "&lt;script&gt;alert(1)&lt;/script&gt;" in web
    assert 'id="lifecycle"' in web and "billing should create the customer the same day" in web
    assert "crm --&gt;|&#34;=HYPERLINK(#quot;" in web  # the Mermaid source too, escaped
    shown = invoke("ownership", "check", "-p", str(project)).output
    assert "\x1b" not in shown and "\\x1b[31mred" in " ".join(shown.split()).replace(" ", "")
