"""Which handoff of the ownership registry a pattern crosses, on made-up signatures: the exception's own field,
then a lifecycle handoff whose columns changed on the first day (told apart by the rule that reports it
missed), then an owned field whose column changed — and never a handoff that neither touches."""

from __future__ import annotations

import pytest

from tieout.ownership.model import DEFAULT_HANDOFFS, DEFAULT_REGISTRY, parse_registry
from tieout.patterns.handoff import Involved, crossing, no_crossing
from tieout.patterns.model import COMPARED, FIRST_DAY, ChangeItem, Signature

CONTRACT_STATUS = ChangeItem("crm", "crm_contracts", "changed", "status")
# The default fields, and the contract's status shared as a field too (owned by the CRM, copied to billing).
WITH_STATUS = parse_registry({"handoffs": DEFAULT_HANDOFFS, "fields": {
    **{n: f.model_dump(exclude_none=True) for n, f in DEFAULT_REGISTRY.fields.items()},
    "customer_status": {"kind": "status", "held_in": {"crm": "contracts.status", "billing": "invoices.status"},
                        "owner": "crm", "handoff": "the CRM changes a contract's status"}}}, None)


def _sig(rule: str, *changes: ChangeItem, history: str = COMPARED) -> Signature:
    return Signature(rule, history, tuple(sorted(changes)), ())


def _who(compared: set[str], named: frozenset[tuple[str, str | None]] = frozenset()) -> Involved:
    return Involved(tuple(sorted(compared)), (), frozenset(compared), frozenset(named))


def test_a_contract_going_live_names_the_lifecycle_handoff_not_a_field() -> None:
    sig = _sig("CRM_ACTIVE_BILLING_INACTIVE", CONTRACT_STATUS)
    got = crossing(sig, _who({"crm", "billing"}), DEFAULT_REGISTRY)
    assert got is not None
    assert (got.source, got.target, got.matched_on, got.fields) == ("crm", "billing", "lifecycle", ())
    assert got.columns == ("contracts.status", "contracts.start_date")
    assert got.update == ("when a contract goes live in the CRM, billing should create the customer and its first "
                          "invoice the same day")
    assert "legal_name" not in got.update and "tax_id" not in got.update


def test_the_lifecycle_handoff_comes_before_an_owned_field_on_the_same_column() -> None:
    sig = _sig("CRM_ACTIVE_BILLING_INACTIVE", CONTRACT_STATUS)
    got = crossing(sig, _who({"crm", "billing"}), WITH_STATUS)
    assert got is not None and (got.matched_on, got.event) == ("lifecycle", "a contract goes live in the CRM")
    # a rule no lifecycle handoff names: the owned field whose column changed
    other = crossing(_sig("OPS_ACTIVE_BILLING_INACTIVE", CONTRACT_STATUS), _who({"billing", "ops"}), WITH_STATUS)
    assert other is not None and (other.matched_on, other.event) == ("column", "the CRM changes a contract's status")
    assert other.fields == ("customer_status → invoices.status",)


def test_two_events_on_one_column_are_told_apart_by_the_rule_that_reports_them() -> None:
    ended = crossing(_sig("BILLING_ACTIVE_CRM_INACTIVE", CONTRACT_STATUS), _who({"crm", "billing"}),
                     DEFAULT_REGISTRY)
    assert ended is not None and ended.event == "a contract ends or is cancelled in the CRM"
    assert ended.update == ("when a contract ends or is cancelled in the CRM, billing should stop invoicing it "
                            "from its end date")


def test_the_exceptions_own_field_comes_first() -> None:
    sig = _sig("OWNED_FIELD_MISMATCH", CONTRACT_STATUS, ChangeItem("billing", "billing_customers", "changed", "name"))
    got = crossing(sig, _who({"billing"}, frozenset({("legal_name", "billing")})), WITH_STATUS)
    assert got is not None and got.matched_on == "field" and "legal_name → customers.name" in got.fields


@pytest.mark.parametrize(("rule", "change", "event"), [
    # a new row sets each of its columns: billing's first invoice is the event ops should follow
    ("BILLING_ACTIVE_OPS_INACTIVE", ChangeItem("billing", "billing_invoices", "added"),
     "billing invoices a new customer"),
    ("FTE_THRESHOLD_DRIFT", ChangeItem("ops", "ops_usage", "changed", "fte_count"),
     "ops counts a different number of FTEs for a customer"),
])
def test_each_default_lifecycle_handoff_is_found_by_its_change(rule: str, change: ChangeItem, event: str) -> None:
    got = crossing(_sig(rule, change), _who({change.system}), DEFAULT_REGISTRY)
    assert got is not None and (got.matched_on, got.event) == ("lifecycle", event)


@pytest.mark.parametrize("sig", [
    # the contract's status changed, but no handoff is about this rule's miss, nor a field it holds
    _sig("OPS_ACTIVE_BILLING_INACTIVE", CONTRACT_STATUS),
    # nothing changed: the two systems the rule compares are no reason to pick one of their handoffs
    _sig("CRM_ACTIVE_BILLING_INACTIVE"),
    _sig("CRM_ACTIVE_BILLING_INACTIVE", history=FIRST_DAY),
    # a change of a column no handoff names
    _sig("CRM_ACTIVE_BILLING_INACTIVE", ChangeItem("crm", "crm_contracts", "changed", "annual_value")),
], ids=["other rule", "nothing changed", "first day", "other column"])
def test_no_handoff_neither_the_field_nor_a_change_touches(sig: Signature) -> None:
    assert crossing(sig, _who({"crm", "billing"}), DEFAULT_REGISTRY) is None


def test_what_is_said_when_none_is_recorded() -> None:
    said = no_crossing(_sig("OPS_ACTIVE_BILLING_INACTIVE", CONTRACT_STATUS), _who({"billing", "ops"}))
    assert said == ("no handoff of the ownership registry is recorded for that change (crm_contracts.status "
                    "changed): add the event that should update billing and ops under `handoffs:` in ownership.yml")
    assert "is not stored" in no_crossing(_sig("CRM_ACTIVE_BILLING_INACTIVE", history=FIRST_DAY),
                                          _who({"crm", "billing"}))
    assert no_crossing(_sig("DUPLICATE_SOURCE_RECORD"), _who({"billing"})) == (
        "no handoff of the ownership registry covers it")
    # a rule whose metadata names no systems (no bridge line): the change is named, the systems are not guessed
    usage = ChangeItem("ops", "ops_usage", "changed", "fte_count")
    assert no_crossing(_sig("FTE_THRESHOLD_DRIFT", usage), _who(set())).endswith(
        "(ops_usage.fte_count changed): add the event that should update the other system under `handoffs:` in "
        "ownership.yml")
