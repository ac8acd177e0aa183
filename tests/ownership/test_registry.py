"""ownership.yml: what is accepted, and each way a registry is refused (exit 3, naming file, field, problem)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import invoke, new_project
from tests.ownership.helpers import STATUS_REGISTRY, with_registry
from tieout.config import load_project
from tieout.errors import ConfigError
from tieout.ownership.model import DEFAULT_REGISTRY, columns, load_registry, parse_registry, stage_for

BASE = "    kind: name\n    held_in: {crm: accounts.legal_name, billing: customers.name}\n"
REFUSED = {
    "two owners, no condition": (BASE + "    owner: [crm, billing]\n", "two owners (crm, billing)"),
    "it depends": (BASE + "    owner: it depends\n", "'it depends' is not a system"),
    "unknown owner system": (BASE + "    owner: erp\n", "owner 'erp' is not a system"),
    "unknown editor system": (BASE + "    owner: crm\n    editors: [crm, sales]\n",
                              "editors name 'sales' is not a system"),
    "unknown system in held_in": ("    kind: name\n    held_in: {crm: accounts.legal_name, erp: name}\n"
                                  "    owner: crm\n", "held_in names 'erp' is not a system"),
    "unknown field": ("    kind: name\n    held_in: {crm: accounts.legal_name, billing: nickname}\n"
                      "    owner: crm\n", "unknown field 'nickname'"),
    "unknown column of a view": ("    kind: name\n    held_in: {crm: accounts.nickname, billing: name}\n"
                                 "    owner: crm\n", "accounts has no column 'nickname'"),
    "view of another system": ("    kind: name\n    held_in: {crm: customers.name, billing: name}\n"
                               "    owner: crm\n", "unknown view 'customers' for crm"),
    "unknown condition": (BASE + "    owner: crm\n    after: [{when: once_paid_maybe, owner: billing}]\n",
                          "unknown condition 'once_paid_maybe'"),
    "one condition, two owners": (
        BASE + "    owner: crm\n    after:\n      - {when: contract_signed, owner: billing}\n"
        "      - {when: contract_signed, owner: crm}\n", "condition 'contract_signed' is given twice"),
    "bad condition key": (BASE + "    owner: crm\n    after: [{if: contract_signed, owner: billing}]\n",
                          "unknown key 'after.0.if'"),
    "owner that does not hold it": (BASE + "    owner: ops\n", "owner ops does not hold the field"),
    "kind the column cannot hold": ("    kind: date\n    held_in: {crm: accounts.legal_name, billing: name}\n"
                                    "    owner: crm\n", "accounts.legal_name cannot hold a date field"),
    "status word outside the vocabulary": (
        "    kind: status\n    held_in: {crm: contracts.status, billing: invoices.status}\n    owner: crm\n"
        "    statuses: {billing: {payed: live}}\n", "'payed' is not a invoices.status value"),
    "tolerance on a name": (BASE + "    owner: crm\n    tolerance: 1\n", "tolerance applies to amount fields only"),
    "held in one system only": ("    kind: name\n    held_in: {crm: legal_name}\n    owner: crm\n",
                                "at least two systems"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_registry_is_refused_with_file_field_and_problem(tmp_path: Path, case: str) -> None:
    body, problem = REFUSED[case]
    project = with_registry(new_project(tmp_path / "p", {"2026-01-20": {}}), "fields:\n  legal_name:\n" + body)
    result = invoke("ownership", "check", "-p", str(project))
    assert result.exit_code == 3
    assert "ownership.yml" in result.output and "'legal_name'" in result.output and problem in result.output


def test_a_refused_registry_stops_the_run_and_writes_nothing(tmp_path: Path) -> None:
    project = with_registry(new_project(tmp_path / "p", {"2026-01-20": {}}),
                            "fields:\n  legal_name:\n" + BASE + "    owner: [crm, billing]\n")
    result = invoke("run", "-p", str(project), "--as-of", "2026-01-20")
    assert result.exit_code == 3 and "two owners" in result.output
    assert not (project / ".tieout" / "days").exists()


def test_no_file_means_the_contract_default(tmp_path: Path) -> None:
    project = load_project(new_project(tmp_path / "p", {}))
    registry = load_registry(project)
    assert registry is DEFAULT_REGISTRY
    assert {n: (f.owner, f.held_in) for n, f in registry.fields.items()} == {
        "legal_name": ("crm", {"crm": "accounts.legal_name", "billing": "customers.name"}),
        "tax_id": ("crm", {"crm": "accounts.tax_id", "billing": "customers.tax_id"}),
    }
    out = invoke("ownership", "check", "-p", str(project.root)).output
    assert "the contract's default registry: 2 field(s), valid" in out


def test_init_scaffolds_a_registry_equal_to_the_default(tmp_path: Path) -> None:
    assert invoke("init", str(tmp_path / "new")).exit_code == 0
    scaffolded = load_registry(load_project(tmp_path / "new"))
    assert scaffolded.path == tmp_path / "new" / "ownership.yml"
    assert {n: (f.kind, f.owner, f.held_in) for n, f in scaffolded.fields.items()} == {
        n: (f.kind, f.owner, f.held_in) for n, f in DEFAULT_REGISTRY.fields.items()}
    assert scaffolded.handoffs == DEFAULT_REGISTRY.handoffs and len(scaffolded.handoffs) == 4


def test_the_last_condition_that_holds_decides() -> None:
    registry = parse_registry({"fields": {"status": {
        "kind": "status", "held_in": {"crm": "status", "billing": "status"}, "owner": "crm", "after": [
            {"when": "contract_signed", "owner": "billing", "editors": ["crm"]},
            {"when": "first_invoice_paid", "owner": "billing"}]}}}, None)
    f = registry.fields["status"]
    assert (stage_for(f, set()).owner, stage_for(f, set()).editors) == ("crm", ("crm",))
    assert stage_for(f, {"contract_signed"}).editors == ("crm", "billing")
    assert stage_for(f, {"contract_signed", "first_invoice_paid"}).editors == ("billing",)


def test_a_bare_column_names_the_one_view_of_its_system_that_has_it() -> None:
    registry = parse_registry({"fields": {"cur": {"kind": "text", "owner": "billing",
                                                  "held_in": {"crm": "currency", "billing": "currency"}}}}, None)
    assert [c.ref for c in columns(registry.fields["cur"])] == ["contracts.currency", "invoices.currency"]
    with pytest.raises(ConfigError, match="must be a valid dictionary|expected a mapping"):
        parse_registry(["fields"], None)


def test_check_prints_each_stage(tmp_path: Path) -> None:
    project = with_registry(new_project(tmp_path / "p", {}), STATUS_REGISTRY)
    result = invoke("ownership", "check", "-p", str(project))
    assert result.exit_code == 0
    assert "2 field(s), valid" in result.output
    assert "first_invoice_posted" in result.output and "finance" in result.output
