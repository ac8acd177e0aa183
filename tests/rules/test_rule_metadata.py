"""Rule metadata the timeline and the month-end bridge read (`caused_by`, `bridge`, `bridge_records`,
`bridge_params`): what the built-in rules say, what a user's rule without it means, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import invoke
from tieout.config import load_project
from tieout.reports.bridge import plan
from tieout.rules.registry import Rule, load_rules
from tieout.timeline import caused_by

BUILTIN = load_rules()


def test_the_builtin_rules_say_what_kind_of_edit_can_cause_them() -> None:
    assert {name: rule.caused_by for name, rule in BUILTIN.items()} == {
        "CRM_ACTIVE_BILLING_INACTIVE": "activity", "BILLING_ACTIVE_CRM_INACTIVE": "activity",
        "BILLING_ACTIVE_OPS_INACTIVE": "activity", "OPS_ACTIVE_BILLING_INACTIVE": "activity",
        "FTE_THRESHOLD_DRIFT": "activity", "OWNED_FIELD_MISMATCH": "field", "DUPLICATE_SOURCE_RECORD": "record",
        "UNMAPPED_SOURCE_RECORD": "record", "AMBIGUOUS_ENTITY_MATCH": "record", "CORRECTION_NOT_APPLIED": "record",
    }


def test_the_builtin_rules_place_themselves_in_the_bridge() -> None:
    how = plan(BUILTIN)
    assert how.explained_by == {
        ("crm", "billing", "from"): ("CRM_ACTIVE_BILLING_INACTIVE",),
        ("crm", "billing", "to"): ("BILLING_ACTIVE_CRM_INACTIVE",),
        ("billing", "ops", "from"): ("BILLING_ACTIVE_OPS_INACTIVE",),
        ("billing", "ops", "to"): ("OPS_ACTIVE_BILLING_INACTIVE", "CRM_ACTIVE_BILLING_INACTIVE"),
    }
    assert how.duplicate_rules == {"DUPLICATE_SOURCE_RECORD"}
    assert how.unresolved_rules == {"UNMAPPED_SOURCE_RECORD", "AMBIGUOUS_ENTITY_MATCH"}
    assert how.ops_window_days == 30
    assert [how.why(a, b, where) for a, b, where in how.explained_by] == [
        "CRM-active, not billing-active", "billing-active, not CRM-active",
        "billing-active, not ops-active over 30 days", "ops-active over 30 days, not billing-active"]


def _edit(column: str, field: str) -> dict:
    return {"column": column, "field": field}


ON_CONTRACT, ON_NAME = _edit("contracts.status", "customer_status"), _edit("customers.name", "legal_name")


@pytest.mark.parametrize(("cause", "field", "edit", "expected"), [
    ("activity", None, ON_CONTRACT, True), ("activity", None, ON_NAME, False),
    ("record", None, ON_NAME, True), ("record", None, ON_CONTRACT, False),
    ("field", "legal_name", ON_NAME, True), ("field", "tax_id", ON_NAME, False),
    ("field", "customer_status", ON_CONTRACT, True),
    (None, None, ON_CONTRACT, True), (None, None, ON_NAME, True),
])
def test_caused_by_reads_the_rules_metadata(cause: str | None, field: str | None, edit: dict, expected: bool) -> None:
    rule = Rule(name="ANY_NAME", sql="SELECT 1", description="", impact="0", team="ar", expected_lag_days=30,
                caused_by=cause)
    assert caused_by(rule, field, edit) is expected


def test_a_rule_no_longer_configured_counts_any_edit() -> None:
    assert caused_by(None, None, ON_CONTRACT) and caused_by(None, None, ON_NAME)


def _user_rule(project: Path, name: str, yml: str) -> None:
    (project / "rules").mkdir(exist_ok=True)
    (project / "rules" / f"{name}.sql").write_text("SELECT canonical_id, 0 AS impact FROM entities\n")
    (project / "rules" / f"{name}.yml").write_text("description: a user's rule\nteam: ar\n" + yml)


def test_a_user_rule_without_the_keys_counts_any_edit_and_is_not_in_the_bridge(project: Path) -> None:
    _user_rule(project, "MINE", "params: {}\n")
    rules = load_rules(load_project(project))
    mine = rules["MINE"]
    assert (mine.caused_by, mine.bridge, mine.bridge_records, mine.bridge_params) == (None, (), None, {})
    how = plan(rules)
    assert all("MINE" not in names for names in how.explained_by.values())
    assert how == plan(BUILTIN)


def test_a_user_rule_takes_the_place_in_the_bridge_it_claims(project: Path) -> None:
    _user_rule(project, "MINE", "caused_by: record\nbridge:\n  - {step: crm_billing, side: from, order: 2}\n")
    rules = load_rules(load_project(project))
    assert rules["MINE"].caused_by == "record"
    assert plan(rules).explained_by[("crm", "billing", "from")] == ("CRM_ACTIVE_BILLING_INACTIVE", "MINE")


def test_the_project_override_of_window_days_is_the_bridges_window(project: Path) -> None:
    (project / "tieout.yml").write_text((project / "tieout.yml").read_text()
                                        + "rules:\n  BILLING_ACTIVE_OPS_INACTIVE:\n    params: {window_days: 45}\n")
    rules = load_rules(load_project(project))
    assert rules["BILLING_ACTIVE_OPS_INACTIVE"].params["window_days"] == 45
    assert plan(rules).ops_window_days == 45


@pytest.mark.parametrize(("yml", "tieout_yml", "message"), [
    ("bridge:\n  - {step: crm_billing, side: from, order: 1}\n", "",
     "claims bridge step crm_billing, side from, order 1, as rule CRM_ACTIVE_BILLING_INACTIVE"),
    ("bridge:\n  - {step: crm_ops, side: from}\n", "", "expected one of crm_billing, billing_ops, got 'crm_ops'"),
    ("bridge:\n  - {step: crm_billing, side: left}\n", "", "bridge.0.side"),
    ("caused_by: anything\n", "", "caused_by"),
    ("bridge_records: twice\n", "", "bridge_records"),
    ("params: {days: 7}\nbridge_params: {ops_window_days: window}\n", "",
     "bridge_params.ops_window_days names 'window', not one of its parameters (days)"),
    ("params: {days: 7}\nbridge_params: {fte_window: days}\n", "", "bridge_params.fte_window"),
    ("params: {days: 7}\nbridge_params: {ops_window_days: days}\n", "",
     "claims bridge_params.ops_window_days, as rule BILLING_ACTIVE_OPS_INACTIVE"),
    ("params: {}\n", "rules:\n  BILLING_ACTIVE_OPS_INACTIVE:\n    params: {window_days: thirty}\n",
     "parameter 'window_days' is the bridge's ops_window_days: expected a whole number of days, at least 1, "
     "got 'thirty'"),
    ("params: {}\n", "rules:\n  BILLING_ACTIVE_OPS_INACTIVE:\n    params: {window_days: 0}\n",
     "expected a whole number of days, at least 1, got 0"),
])
def test_metadata_the_bridge_cannot_read_is_refused(project: Path, yml: str, tieout_yml: str, message: str) -> None:
    _user_rule(project, "MINE", yml)
    (project / "tieout.yml").write_text((project / "tieout.yml").read_text() + tieout_yml)
    result = invoke("rules", "list", "-p", str(project))
    assert result.exit_code == 3, result.output
    assert message in " ".join(result.output.split()), result.output


def test_an_override_of_a_builtin_rule_cannot_move_it_in_the_bridge(project: Path) -> None:
    (project / "rules").mkdir()
    (project / "rules" / "BILLING_ACTIVE_OPS_INACTIVE.yml").write_text("bridge: []\n")
    result = invoke("rules", "list", "-p", str(project))
    assert result.exit_code == 3 and "unknown key 'bridge'" in result.output


def test_the_shipped_metadata_reads_the_same_with_either_yaml_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in rules' .yml files are parsed by libyaml (faster); the pure-Python loader gives the same
    rules, field for field."""
    import yaml

    from tieout.rules import registry

    fast = registry.load_rules()
    monkeypatch.setattr(registry, "_SHIPPED_LOADER", yaml.SafeLoader)
    assert registry.load_rules() == fast
    assert {r.description for r in fast.values()} and all(r.builtin for r in fast.values())
