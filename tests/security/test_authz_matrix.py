# ruff: noqa: F811 - the fixtures of tests.security.web_app are imported by name and taken as parameters
"""The authorisation matrix, complete: every role (and no session) × every POST route × every action, on every
kind of object — an exception (ack, assign, resolve), a comment, a suppression (ask, approve, reject), a
correction, a correction request (approve, reject), a user's own session (sign out) — through both the form
and the JSON API. Each case asserts the status code, the effect (or that nothing changed) and the audit entry
(or, without a session, that nothing was written at all).

A test also checks that the matrix names every POST route of the app, so a new route cannot go unchecked.
Users are managed only on the command line (`tieout users …`): no web route touches them, and that is checked
the same way. Sign-in itself is tests/security/test_signin.py.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.security.routes import app_routes
from tests.security.web_app import app, world  # noqa: F401 - its fixtures
from tests.web.flow import LATER, THRESHOLD, add_people, state_env
from tieout import state
from tieout.config import Project
from tieout.people import sessions
from tieout.state.tables import KINDS, actions, exception_state
from tieout.web.auth import COOKIE
from tieout.workflow.audit import entries

AS = {"admin": "root", "team_member": "alice", "outsider": "olga", "approver": "carol", "auditor": "dave",
      "no session": None}
WORKFLOW_ALLOWED = {
    "admin": set(KINDS),
    "team_member": {"ack", "assign", "comment", "resolve", "suppress"},
    "outsider": set(),  # a team member of another team than the exception's
    "approver": {"comment", "approve", "reject"},
    "auditor": set(),
    "no session": set(),
}
CORRECTION_ALLOWED = {
    "admin": {"correct", "approve", "reject"},
    "team_member": {"correct"},
    "outsider": {"correct"},  # a correction is about an entity, routed to no team
    "approver": {"approve", "reject"},
    "auditor": set(),
    "no session": set(),
}
OBJECT_KIND = {"ack": "exception", "assign": "exception", "resolve": "exception", "comment": "comment",
               "suppress": "suppression", "approve": "suppression", "reject": "suppression"}
ARGS = {"assign": {"assignee": "bob"}, "resolve": {"reason_code": "fixed_in_source"}, "suppress": {"until": LATER},
        "comment": {"comment": "looked at it"}, "ack": {}, "approve": {}, "reject": {}}
# The target entity has no billing customer on the latest day: the record holds no value, so the old value is ''
# (a claimed one would be a conflict, tieout.corrections.current).
CORRECTION = {"system": "billing", "field": "legal_name", "old_value": "", "new_value": "New Name",
              "reason": "typo", "ticket": "FIN-1"}
# Every POST route the matrix below exercises; test_the_matrix_covers_every_post_route keeps it complete.
COVERED = {"/login", "/logout", "/exceptions/{ident}/actions", "/api/exceptions/{ident}/actions", "/corrections",
           "/api/corrections", "/corrections/requests/{ref_text}/{decision}",
           "/api/corrections/requests/{ref_text}/{decision}", "/queue/actions", "/api/exceptions/actions",
           "/map-requests", "/api/map-requests", "/map-requests/{ref_text}/{decision}",
           "/api/map-requests/{ref_text}/{decision}", "/months/{period}/{step}", "/review/decisions",
           "/review/decisions/{ref}/{decision_status}"}
BULK_KINDS = ("ack", "assign", "comment", "resolve")
# Month-end sign-off: anyone who may act prepares; an approver or an admin reviews (not their own) and reopens.
MONTH_ALLOWED = {"admin": {"prepare", "review", "reopen"}, "team_member": {"prepare"}, "outsider": {"prepare"},
                 "approver": {"prepare", "review", "reopen"}, "auditor": set(), "no session": set()}
# The weekly review's decisions: whoever may act on the queue records one and marks one done or dropped.
DECISION_ALLOWED = {role: {"decide", "done", "dropped"} if role in ("admin", "team_member", "outsider", "approver")
                    else set() for role in AS}
# Map requests follow the corrections' roles: who may record a correction may ask for a map row.
MAP_ALLOWED = {role: {"ask" if k == "correct" else k for k in kinds} for role, kinds in CORRECTION_ALLOWED.items()}


@pytest.fixture(scope="module")
def people_db(tmp_path_factory: pytest.TempPathFactory, app: FastAPI) -> Path:
    """A state database with the people in it, made once: each case starts from a copy (no password hashing
    per case)."""
    folder = tmp_path_factory.mktemp("people")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(state.ENV_URL, state_env(folder))
        add_people(app.state.project)
        state.dispose_all()  # closes the connections: the WAL is folded into state.db
    return folder / "state.db"


@pytest.fixture
def fresh(app: FastAPI, people_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    shutil.copy(people_db, tmp_path / "state.db")
    monkeypatch.setenv(state.ENV_URL, state_env(tmp_path))
    yield app.state.project
    state.dispose_all()


@pytest.fixture(scope="module")
def target(app: FastAPI) -> Any:
    """An open exception routed to ar, of an entity with more than the threshold at risk (so a correction of
    it waits for a second person)."""
    return next(e for e in app.state.reads.exceptions()
                if e.team == "ar" and e.status == "open" and e.canonical_id and e.impact > THRESHOLD)


@dataclass
class Who:
    client: TestClient
    csrf: str
    name: str | None


def _as(app: FastAPI, project: Project, name: str | None) -> Who:
    c = TestClient(app, follow_redirects=False)
    if name is None:
        return Who(c, "", None)
    token, csrf = sessions.start(project, name)
    c.cookies.set(COOKIE, token)
    return Who(c, csrf, name)


def _post(who: Who, channel: str, path: str, body: dict[str, Any]) -> Any:
    if channel == "api":
        return who.client.post(f"/api{path}", json=body, headers={"X-CSRF-Token": who.csrf})
    return who.client.post(path, data={k: str(v) for k, v in body.items()} | {"csrf": who.csrf})


def _expected_code(allowed: bool, signed_in: bool, channel: str) -> int:
    if not signed_in:
        return 401
    if not allowed:
        return 403
    return 200 if channel == "api" else 303


def _workflow_state(project: Project) -> tuple[int, int]:
    with state.open(project) as connection:
        version = connection.execute(select(exception_state.c.version)).scalar() or 0
        return version, connection.execute(select(func.count()).select_from(actions)).scalar() or 0


@pytest.mark.parametrize("channel", ["form", "api"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", list(AS))
def test_workflow_actions(app: FastAPI, fresh: Project, target: Any, role: str, kind: str, channel: str) -> None:
    version = 0
    if kind in ("approve", "reject"):  # a suppression to decide on, asked by someone else
        maker = _as(app, fresh, "bob")
        asked = _post(maker, "api", f"/exceptions/{target.id}/actions",
                      {"kind": "suppress", "expected_version": 0, "until": LATER})
        assert asked.status_code == 200, asked.text
        version = 1
    who = _as(app, fresh, AS[role])
    before, audit_before = _workflow_state(fresh), entries(fresh)
    response = _post(who, channel, f"/exceptions/{target.id}/actions",
                     {"kind": kind, "expected_version": version, **ARGS[kind]})
    allowed = kind in WORKFLOW_ALLOWED[role]
    assert response.status_code == _expected_code(allowed, who.name is not None, channel), \
        (OBJECT_KIND[kind], response.text[:300])
    after = _workflow_state(fresh)
    assert after == ((before[0] + 1, before[1] + 1) if allowed else before)
    if who.name is None:
        assert entries(fresh) == audit_before  # no session: nothing written, not even the refusal
        return
    last = entries(fresh, object=f"exception:{target.id}")[0]
    assert (last["actor"], last["action"], last["outcome"]) == (who.name, kind, "allowed" if allowed else "refused")


@pytest.mark.parametrize("channel", ["form", "api"])
@pytest.mark.parametrize("kind", BULK_KINDS)
@pytest.mark.parametrize("role", list(AS))
def test_bulk_workflow_actions(app: FastAPI, fresh: Project, target: Any, role: str, kind: str, channel: str) -> None:
    """A bulk action is the single action per exception: the same rights, the same effect, the same audit entry.
    The form answers as the single form does (303, or the refusal's code); the API answers 200 with each
    exception's outcome (a refusal carries the single action's code)."""
    who = _as(app, fresh, AS[role])
    before, audit_before = _workflow_state(fresh), entries(fresh)
    if channel == "api":
        response = who.client.post("/api/exceptions/actions", headers={"X-CSRF-Token": who.csrf}, json={
            "kind": kind, "items": [{"id": target.id, "expected_version": 0}], **ARGS[kind]})
    else:
        response = who.client.post("/queue/actions", data={"kind": kind, "item": f"{target.id}:0", "csrf": who.csrf,
                                                           **ARGS[kind]})
    allowed = kind in WORKFLOW_ALLOWED[role]
    if who.name is None:
        assert response.status_code == 401 and entries(fresh) == audit_before and _workflow_state(fresh) == before
        return
    if channel == "api":
        got = response.json()
        assert response.status_code == 200 and len(got["applied"]) == int(allowed), response.text[:300]
        assert [r["status_code"] for r in got["refused"]] == ([] if allowed else [403])
    else:
        assert response.status_code == (303 if allowed else 403), response.text[:300]
    assert _workflow_state(fresh) == ((before[0] + 1, before[1] + 1) if allowed else before)
    last = entries(fresh, object=f"exception:{target.id}")[0]
    assert (last["actor"], last["action"], last["outcome"]) == (who.name, kind, "allowed" if allowed else "refused")


@pytest.mark.parametrize("channel", ["form", "api"])
@pytest.mark.parametrize("kind", ["correct", "approve", "reject"])
@pytest.mark.parametrize("role", list(AS))
def test_correction_actions(app: FastAPI, fresh: Project, target: Any, role: str, kind: str, channel: str) -> None:
    from tieout.corrections import corrections_for, requests

    if kind != "correct":  # a request above the threshold, by someone else
        held = _post(_as(app, fresh, "bob"), "api", "/corrections", {"canonical_id": target.canonical_id,
                                                                    **CORRECTION})
        assert held.status_code == 200 and held.json()["request"]["ref"] == "CR-1", held.text
    who = _as(app, fresh, AS[role])
    audit_before = entries(fresh)
    response = _post(who, channel, "/corrections", {"canonical_id": target.canonical_id, **CORRECTION}) \
        if kind == "correct" else _post(who, channel, f"/corrections/requests/CR-1/{kind}", {"comment": "ok"})
    allowed = kind in CORRECTION_ALLOWED[role]
    assert response.status_code == _expected_code(allowed, who.name is not None, channel), response.text[:300]
    pending = [r.ref for r in requests(fresh, status="pending")]
    logged = [(c.who, c.approved_by) for c in corrections_for(fresh)]
    if kind == "correct":
        assert pending == (["CR-1"] if allowed else []) and logged == []
    elif allowed and kind == "approve":
        assert pending == [] and logged == [("bob", who.name)]
    else:
        assert pending == ([] if allowed else ["CR-1"]) and logged == []
    if who.name is None:
        assert entries(fresh) == audit_before
        return
    # Allowed, a correction above the threshold is a request; refused, it is the attempt to correct.
    action = f"correction.{kind}" if kind != "correct" else "correction.request" if allowed else "correct"
    last = entries(fresh)[0]
    assert (last["actor"], last["action"], last["outcome"]) == (who.name, action, "allowed" if allowed else "refused")


@pytest.mark.parametrize("channel", ["form", "api"])
@pytest.mark.parametrize("kind", ["ask", "approve", "reject"])
@pytest.mark.parametrize("role", list(AS))
def test_map_actions(app: FastAPI, fresh: Project, target: Any, role: str, kind: str, channel: str,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Asking for a map row and deciding one, as corrections. The shared world's map is never written: an approved
    row is caught on its way to the file (the file itself: tests/entities/test_map_from_records.py)."""
    from tieout.entities import map_requests

    appended: list[dict[str, str]] = []
    monkeypatch.setattr(map_requests, "append_row", lambda path, row: appended.append(row))
    unmapped = next(e for e in app.state.reads.exceptions()
                    if e.rule == "UNMAPPED_SOURCE_RECORD" and e.status == "open")
    ask = {"source_system": unmapped.source_system, "source_id": unmapped.source_id,
           "canonical_id": target.canonical_id, "reason": "same company"}
    if kind != "ask":  # a request by someone else
        held = _post(_as(app, fresh, "bob"), "api", "/map-requests", ask)
        assert held.status_code == 200 and held.json()["request"]["ref"] == "MR-1", held.text
    who = _as(app, fresh, AS[role])
    audit_before = entries(fresh)
    response = _post(who, channel, "/map-requests", {**ask, "back": "/"}) if kind == "ask" else \
        _post(who, channel, f"/map-requests/MR-1/{kind}", {"comment": "ok"})
    allowed = kind in MAP_ALLOWED[role]
    assert response.status_code == _expected_code(allowed, who.name is not None, channel), response.text[:300]
    pending = [r.ref for r in map_requests.map_requests_list(fresh, status="pending")]
    if kind == "ask":
        assert pending == (["MR-1"] if allowed else []) and appended == []
    elif allowed and kind == "approve":
        assert pending == [] and [(r["source_id"], r["canonical_id"]) for r in appended] == [
            (unmapped.source_id, target.canonical_id)]
    else:
        assert pending == ([] if allowed else ["MR-1"]) and appended == []
    if who.name is None:
        assert entries(fresh) == audit_before
        return
    last = entries(fresh)[0]
    assert (last["actor"], last["action"], last["outcome"]) == (
        who.name, f"map.{'request' if kind == 'ask' else kind}", "allowed" if allowed else "refused")


@pytest.mark.parametrize("step", ["prepare", "review", "reopen"])
@pytest.mark.parametrize("role", list(AS))
def test_month_signoff(app: FastAPI, fresh: Project, role: str, step: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Preparing, reviewing (bob prepared) and reopening (bob prepared, carol reviewed) January. The shared
    world's store is never written — a review's pack is caught on its way (the files: tests/test_month_close.py)
    — nor locked: the other workers sign it at the same time, each in a state database of its own."""
    import tieout.store
    from tieout import month_close
    from tieout.reports import signoff

    monkeypatch.setattr(signoff, "_freeze", lambda project, period, seq, report: {"json": "caught"})
    monkeypatch.setattr(tieout.store, "run_lock", lambda project: contextlib.nullcontext())
    for before, actor in (("prepare", "bob"), ("review", "carol"))[:("prepare", "review", "reopen").index(step)]:
        signoff.sign(fresh, "2026-01", before, actor)
    who = _as(app, fresh, AS[role])
    audit_before = entries(fresh)
    response = _post(who, "form", f"/months/2026-01/{step}", {"reason": "late credit note"})
    allowed = step in MONTH_ALLOWED[role]
    assert response.status_code == _expected_code(allowed, who.name is not None, "form"), response.text[:300]
    expected = month_close.STATE_AFTER[step] if allowed else \
        {"prepare": "open", "review": "prepared", "reopen": "closed"}[step]
    assert month_close.month_state(fresh, "2026-01").state == expected
    if who.name is None:
        assert entries(fresh) == audit_before
        return
    last = entries(fresh)[0]
    assert (last["actor"], last["action"], last["object"], last["outcome"]) == (
        who.name, f"month.{step}", "month:2026-01", "allowed" if allowed else "refused")


@pytest.mark.parametrize("kind", ["decide", "done", "dropped"])
@pytest.mark.parametrize("role", list(AS))
def test_review_decisions(app: FastAPI, fresh: Project, role: str, kind: str) -> None:
    """Recording a decision on a pattern at the latest week's review, and marking bob's decision done or dropped."""
    from tieout.reports.decisions import decide, decisions

    reads = app.state.reads
    week = reads.latest()
    pattern = reads.patterns(week).patterns[0].id
    if kind != "decide":
        decide(fresh, reads.rules(), pattern, owner="ar", action="chase", due=week, actor="bob", week=week)
    who = _as(app, fresh, AS[role])
    audit_before = entries(fresh)
    response = _post(who, "form", "/review/decisions" if kind == "decide" else f"/review/decisions/D-1/{kind}",
                     {"pattern": pattern, "week": week.isoformat(), "owner": "ar team", "action": "bill on signature",
                      "due": week.isoformat(), "note": "ok"})
    allowed = kind in DECISION_ALLOWED[role]
    assert response.status_code == _expected_code(allowed, who.name is not None, "form"), response.text[:300]
    found = [(d.recorded_by, d.status) for d in decisions(fresh)]
    if kind == "decide":
        assert found == ([(who.name, None)] if allowed else [])
    else:
        assert found == [("bob", kind if allowed else None)]
    if who.name is None:
        assert entries(fresh) == audit_before
        return
    last = entries(fresh)[0]
    assert (last["actor"], last["action"], last["object"], last["outcome"]) == (
        who.name, f"decision.{'record' if kind == 'decide' else kind}", f"pattern:{pattern}",
        "allowed" if allowed else "refused")


@pytest.mark.parametrize("role", list(AS))
def test_signing_out_ends_only_ones_own_session(app: FastAPI, fresh: Project, role: str) -> None:
    who, other = _as(app, fresh, AS[role]), _as(app, fresh, "bob")
    audit_before = entries(fresh)
    response = who.client.post("/logout", data={"csrf": who.csrf})
    if who.name is None:
        assert response.status_code == 401 and entries(fresh) == audit_before
    else:
        assert response.status_code == 303 and who.client.get("/api/session").status_code == 401
        last = entries(fresh)[0]
        assert (last["actor"], last["action"], last["object"], last["outcome"]) == \
            (who.name, "logout", f"user:{who.name}", "allowed")
    assert other.client.get("/api/session").status_code == 200  # bob's session is untouched


def test_the_matrix_covers_every_post_route(app: FastAPI) -> None:
    """Every POST route is in the matrix; none manages users (that is the command line's, audited there)."""
    posts = set(app_routes(app, "POST"))
    assert posts == COVERED
    assert not [p for p in posts | set(app_routes(app, "GET")) if "user" in p]
    for method in ("PUT", "PATCH", "DELETE"):
        assert app_routes(app, method) == []
