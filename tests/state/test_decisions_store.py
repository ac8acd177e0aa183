"""The weekly review's decisions in the state database, on SQLite and on a real PostgreSQL: recorded, listed,
marked done once (a second status is a conflict and changes nothing), each step in the audit log."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.conftest import new_project, run_days
from tieout.config import load_project
from tieout.errors import Conflict, NotAllowed
from tieout.people import add_user
from tieout.reports.decisions import close, decide, decisions
from tieout.rules.registry import load_rules
from tieout.workflow.audit import entries, verify_audit

DAY = "2026-01-20"
# The invoice is void: CRM-active, not billing-active — exceptions to group into patterns to decide on.
NO_INVOICE = {"billing_invoices.csv": (
    "invoice_id,customer_id,period_start,period_end,issued_on,status,amount,currency,billed_fte,updated_at\n"
    "in_1,cus_1,2026-01-01,2026-01-31,2026-01-01,void,10000.00,USD,50,2026-01-20T23:00:00Z\n")}


def test_decisions_on_each_backend(tmp_path: Path, backend: str | None) -> None:
    from tieout.patterns import patterns

    folder = new_project(tmp_path / "p", {DAY: NO_INVOICE}, yml=f"state_url: '{backend}'\n" if backend else "")
    run_days(folder, DAY)
    project = load_project(folder)
    rules = load_rules(project)
    add_user(project, "ana", "team_member", "correct horse battery", ("ar",))
    add_user(project, "dave", "auditor", "correct horse battery", ())
    found = patterns(project, rules).patterns
    assert found
    key = found[0].id

    made = decide(project, rules, key, owner="  ar   team ", action="<b>bill</b> on signature", due=date(2026, 1, 31),
                  actor="ana")
    assert (made.ref, made.pattern_id, made.week, made.owner, made.action, made.status) == (
        "D-1", key, date.fromisoformat(DAY), "ar team", "<b>bill</b> on signature", None)
    with pytest.raises(NotAllowed):
        decide(project, rules, key, owner="x", action="y", due=date(2026, 1, 31), actor="dave")
    done = close(project, "d-1", "done", actor="ana", note="billing rule changed")
    assert (done.status, done.status_by, done.status_note) == ("done", "ana", "billing rule changed")
    assert done.status_at is not None and done.status_at.tzinfo is not None
    with pytest.raises(Conflict):
        close(project, "D-1", "dropped", actor="ana")
    assert [(d.ref, d.status) for d in decisions(project)] == [("D-1", "done")]
    assert [(d.ref, d.status) for d in decisions(project, until=date(2026, 1, 19))] == []
    assert [(e["actor"], e["action"], e["outcome"]) for e in reversed(entries(project))
            if e["action"].startswith("decision.")] == [
        ("ana", "decision.record", "allowed"), ("dave", "decision.record", "refused"),
        ("ana", "decision.done", "allowed"), ("ana", "decision.dropped", "conflict")]
    assert verify_audit(project).problem is None
