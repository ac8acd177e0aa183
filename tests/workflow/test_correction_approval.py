"""Maker-checker for corrections, on SQLite and PostgreSQL: above `workflow.correction_approval_over` a
correction waits as a request, out of the log, until someone else approves it; every step audited."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import new_project, run_days
from tests.workflow.conftest import PASSWORD, PEOPLE
from tieout import state
from tieout.config import Project, load_project
from tieout.corrections import corrections_for, decide, request_correction, requests, verify_corrections
from tieout.errors import Conflict, NotAllowed, NotFound
from tieout.people import add_user
from tieout.workflow.audit import entries, verify_audit

# The one invoice is void: ACME's contract (USD 120,000 a year) goes unbilled, so its open exceptions put
# USD 10,000.00 (a month) at risk — above a threshold of 1,000.
VOID_INVOICE = {"billing_invoices.csv": (
    "invoice_id,customer_id,period_start,period_end,issued_on,status,amount,currency,billed_fte,updated_at\n"
    "in_1,cus_1,2026-01-01,2026-01-31,2026-01-01,void,10000.00,USD,50,2026-01-20T23:00:00Z\n")}
NAME_FIX = {"canonical_id": "ACME", "system": "billing", "field": "legal_name", "old_value": "Acme Analytix",
            "new_value": "Acme Analytics Inc.", "reason": "typo at onboarding", "ticket": "FIN-12"}


def _project(root: Path, backend: str | None, threshold: str | None) -> Project:
    yml = (f"state_url: '{backend}'\n" if backend else "") + \
        (f"workflow:\n  correction_approval_over: '{threshold}'\n" if threshold is not None else "")
    folder = new_project(root, {"2026-01-20": VOID_INVOICE}, yml=yml)
    run_days(folder, "2026-01-20")
    project = load_project(folder)
    for name, (role, teams) in PEOPLE.items():
        add_user(project, name, role, PASSWORD, teams)
    return project


@pytest.fixture
def guarded(tmp_path: Path, backend: str | None) -> Project:
    return _project(tmp_path / "p", backend, "1000.00")


def test_at_or_under_the_threshold_a_correction_is_applied_at_once(tmp_path: Path, backend: str | None) -> None:
    project = _project(tmp_path / "p", backend, "10000.00")  # the impact is 10,000.00: not above it
    done = request_correction(project, **NAME_FIX, who="alice")
    assert done.applied and done.impact == Decimal("10000.00") and done.request is None
    assert [(c.seq, c.who, c.approved_by) for c in corrections_for(project)] == [(1, "alice", None)]
    assert requests(project) == []
    last = entries(project)[0]
    assert (last["actor"], last["action"], last["object"], last["outcome"]) == ("alice", "correct", "correction:#1",
                                                                                "allowed")


def test_without_a_threshold_every_correction_is_applied(tmp_path: Path, backend: str | None) -> None:
    project = _project(tmp_path / "p", backend, None)
    assert request_correction(project, **NAME_FIX, who="alice").applied
    assert len(corrections_for(project)) == 1


def test_above_the_threshold_it_waits_out_of_the_log(guarded: Project) -> None:
    done = request_correction(guarded, **NAME_FIX, who="alice")
    assert not done.applied and done.correction is None and done.request is not None
    r = done.request
    assert (r.ref, r.status, r.who, r.impact, r.threshold) == ("CR-1", "pending", "alice", Decimal("10000.00"),
                                                               Decimal("1000.00"))
    assert corrections_for(guarded) == []  # the timeline and the landed check see nothing yet
    assert verify_corrections(guarded).entries == 0
    assert [x.ref for x in requests(guarded, status="pending")] == ["CR-1"]
    last = entries(guarded)[0]
    assert (last["actor"], last["action"], last["object"], last["outcome"]) == (
        "alice", "correction.request", "correction:CR-1", "allowed")
    assert "above the approval threshold" in last["reason"]


def test_nobody_approves_their_own_request_not_even_an_admin(guarded: Project) -> None:
    held = request_correction(guarded, **NAME_FIX, who="root").request
    assert held is not None
    with pytest.raises(NotAllowed, match="maker-checker"):
        decide(guarded, held.id, "root", "approve")
    assert corrections_for(guarded) == [] and requests(guarded)[0].status == "pending"
    last = entries(guarded)[0]
    assert (last["actor"], last["action"], last["outcome"]) == ("root", "correction.approve", "refused")


@pytest.mark.parametrize(("who", "why"), [("alice", "only an approver or an admin"), ("dave", "read-only"),
                                          ("nobody", "unknown or disabled user")])
def test_only_approvers_and_admins_decide(guarded: Project, who: str, why: str) -> None:
    held = request_correction(guarded, **NAME_FIX, who="bob").request
    assert held is not None
    with pytest.raises(NotAllowed, match=why):
        decide(guarded, held.id, who, "approve")
    assert requests(guarded)[0].status == "pending" and corrections_for(guarded) == []


def test_a_second_person_approves_and_the_log_names_both(guarded: Project) -> None:
    held = request_correction(guarded, **NAME_FIX, who="alice").request
    assert held is not None
    decided, correction = decide(guarded, held.id, "carol", "approve", comment="checked the contract")
    assert correction is not None
    assert (decided.status, decided.decided_by, decided.correction_seq, decided.decision_comment) == (
        "approved", "carol", 1, "checked the contract")
    [logged] = corrections_for(guarded)
    assert (logged.who, logged.approved_by, logged.request_id, logged.new_value, logged.ticket) == (
        "alice", "carol", held.id, "Acme Analytics Inc.", "FIN-12")
    assert verify_corrections(guarded).ok and verify_audit(guarded).ok
    assert '"approved_by":"carol"' in _body(guarded, 1)  # the hash covers the approver
    last = entries(guarded)[0]
    assert (last["actor"], last["action"], last["object"], last["outcome"]) == (
        "carol", "correction.approve", "correction:CR-1", "allowed")
    with pytest.raises(Conflict, match="already approved by carol"):
        decide(guarded, held.id, "cora", "reject")
    assert entries(guarded)[0]["outcome"] == "conflict" and len(corrections_for(guarded)) == 1


def test_a_rejected_request_never_enters_the_log(guarded: Project) -> None:
    held = request_correction(guarded, **NAME_FIX, who="alice").request
    assert held is not None
    decided, correction = decide(guarded, held.id, "cora", "reject", comment="wrong entity")
    assert correction is None and (decided.status, decided.decided_by) == ("rejected", "cora")
    with pytest.raises(Conflict, match="already rejected"):
        decide(guarded, held.id, "carol", "approve")
    assert corrections_for(guarded) == [] and verify_corrections(guarded).entries == 0
    assert [(e["actor"], e["action"], e["outcome"]) for e in entries(guarded)[:2]] == [
        ("carol", "correction.approve", "conflict"), ("cora", "correction.reject", "allowed")]


def test_an_unknown_request_is_not_found(guarded: Project) -> None:
    with pytest.raises(NotFound, match="CR-42"):
        decide(guarded, 42, "carol", "approve")


def test_an_approval_edited_afterwards_breaks_the_chain(guarded: Project) -> None:
    held = request_correction(guarded, **NAME_FIX, who="alice").request
    assert held is not None
    decide(guarded, held.id, "carol", "approve")
    with state.open(guarded, write=True) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER corrections_append_only ON corrections"))
        else:
            connection.execute(text("DROP TRIGGER corrections_no_update"))
        connection.execute(text("UPDATE corrections SET approved_by = 'alice' WHERE seq = 1"))
    verdict = verify_corrections(guarded)
    assert (verdict.problem, verdict.broken_seq) == ("edited", 1) and "approved_by changed" in verdict.message
    with state.open(guarded, write=True) as connection:
        connection.execute(text("UPDATE corrections SET approved_by = NULL WHERE seq = 1"))
    assert "approved_by changed" in verify_corrections(guarded).message  # emptied is as detectable as changed


def _body(project: Project, seq: int) -> str:
    with state.open(project) as connection:
        return str(connection.execute(text("SELECT body FROM corrections WHERE seq = :s"), {"s": seq}).scalar())


AMOUNT_REGISTRY = """\
fields:
  legal_name:
    kind: name
    held_in: {crm: accounts.legal_name, billing: customers.name}
    owner: crm
  monthly_value:
    kind: amount
    held_in: {crm: contracts.monthly_value, billing: invoices.amount}
    owner: crm
    tolerance: 1.00
"""


def test_an_amount_correction_is_measured_by_how_much_it_moves(tmp_path: Path, backend: str | None) -> None:
    """ACME has nothing at risk on a healthy day: only the change of the amount itself can pass the threshold."""
    yml = (f"state_url: '{backend}'\n" if backend else "") + "workflow:\n  correction_approval_over: '1000.00'\n"
    folder = new_project(tmp_path / "p", {"2026-01-20": {}}, yml=yml)
    (folder / "ownership.yml").write_text(AMOUNT_REGISTRY)
    run_days(folder, "2026-01-20")
    project = load_project(folder)
    amount = {"canonical_id": "ACME", "system": "billing", "field": "amount", "reason": "credit note"}
    small = request_correction(project, **amount, old_value="10000.00", new_value="9,000.00", who="alice")
    assert small.applied and small.impact == Decimal("1000.00")  # not above 1,000.00
    large = request_correction(project, **amount, old_value="10000.00", new_value="8999.99", who="alice")
    assert not large.applied and large.impact == Decimal("1000.01")
    assert request_correction(project, **NAME_FIX, who="alice").impact == Decimal("0.00")  # not an amount
