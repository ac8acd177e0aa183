"""Signed-in web: the authorisation matrix (every role × action, status code and audit entry), CSRF, sessions
(rotation, idle expiry, logout), conflicts over HTTP, and GET never changing anything.

The demo world is shared and only read; each test's people, sessions and workflow live in a state database of
its own (`TIEOUT_STATE_URL` pointed at the test's folder).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.web.flow import LATER, THRESHOLD, client_for, sign_in
from tieout import state
from tieout.config import Project
from tieout.state.tables import KINDS, actions, exception_state, sessions
from tieout.workflow.audit import entries


@pytest.fixture(scope="module")
def ar_id(app: FastAPI) -> str:
    return next(e.id for e in app.state.reads.exceptions() if e.team == "ar" and e.resolved_on is None)


def _post(c: TestClient, csrf: str, ident: str, kind: str, version: int, **extra: str) -> object:
    return c.post(f"/api/exceptions/{ident}/actions", json={"kind": kind, "expected_version": version, **extra},
                  headers={"X-CSRF-Token": csrf})


ARGS = {"assign": {"assignee": "bob"}, "resolve": {"reason_code": "fixed_in_source"}, "suppress": {"until": LATER},
        "comment": {"comment": "looked at it"}, "ack": {}, "approve": {}, "reject": {}}
ALLOWED = {
    "admin": set(KINDS),
    "team_member": {"ack", "assign", "comment", "resolve", "suppress"},
    "outsider": set(),  # a team member of another team
    "approver": {"comment", "approve", "reject"},
    "auditor": set(),
}
AS = {"admin": "root", "team_member": "alice", "outsider": "olga", "approver": "carol", "auditor": "dave"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", list(ALLOWED))
def test_authorisation_matrix(app: FastAPI, project: Project, ar_id: str, role: str, kind: str) -> None:
    version = 0
    if kind in ("approve", "reject"):  # something to decide on, asked by someone else
        maker, csrf = client_for(app, "bob")
        assert _post(maker, csrf, ar_id, "suppress", 0, until=LATER).status_code == 200  # type: ignore[attr-defined]
        version = 1
    c, csrf = client_for(app, AS[role])
    response = _post(c, csrf, ar_id, kind, version, **ARGS[kind])
    allowed = kind in ALLOWED[role]
    assert response.status_code == (200 if allowed else 403), response.text  # type: ignore[attr-defined]
    last = entries(project, object=f"exception:{ar_id}")[0]
    assert (last["actor"], last["action"], last["outcome"]) == (AS[role], kind, "allowed" if allowed else "refused")
    after = c.get(f"/api/exceptions/{ar_id}/actions").json()
    assert after["status"]["version"] == version + (1 if allowed else 0)


CORRECTION_ALLOWED = {
    "admin": {"correct", "approve", "reject"},
    "team_member": {"correct"},
    "outsider": {"correct"},  # a correction is about an entity, routed to no team
    "approver": {"approve", "reject"},
    "auditor": set(),
}


def _correct(c: TestClient, csrf: str, canonical_id: str) -> object:
    return c.post("/api/corrections", headers={"X-CSRF-Token": csrf}, json={
        "canonical_id": canonical_id, "system": "billing", "field": "legal_name",  # old value: the stored one
        "new_value": "New Name", "reason": "typo", "ticket": "FIN-1"})


@pytest.mark.parametrize("kind", ["correct", "approve", "reject"])
@pytest.mark.parametrize("role", list(CORRECTION_ALLOWED))
def test_authorisation_matrix_for_corrections(app: FastAPI, project: Project, role: str, kind: str) -> None:
    """The correction actions over every role: status code, audit entry, and whether anything changed."""
    from tieout.corrections import corrections_for, requests

    # An entity with more than the threshold at risk: its corrections wait for a second person.
    entity = next(e.canonical_id for e in app.state.reads.exceptions()
                  if e.status == "open" and e.canonical_id and e.impact > THRESHOLD)
    if kind != "correct":  # a request above the threshold, by someone else
        maker, maker_csrf = client_for(app, "bob")
        held = _correct(maker, maker_csrf, entity)
        assert held.status_code == 200 and held.json()["request"]["ref"] == "CR-1"  # type: ignore[attr-defined]
    c, csrf = client_for(app, AS[role])
    response = _correct(c, csrf, entity) if kind == "correct" else \
        c.post(f"/api/corrections/requests/CR-1/{kind}", headers={"X-CSRF-Token": csrf}, json={})
    allowed = kind in CORRECTION_ALLOWED[role]
    assert response.status_code == (200 if allowed else 403), response.text  # type: ignore[attr-defined]
    # Allowed, a correction above the threshold is a request; refused, it is the attempt to correct.
    action = f"correction.{kind}" if kind != "correct" else "correction.request" if allowed else "correct"
    last = entries(project)[0]
    assert (last["actor"], last["action"], last["outcome"]) == (AS[role], action, "allowed" if allowed else "refused")
    pending = [r.ref for r in requests(project, status="pending")]
    logged = [(c.who, c.approved_by) for c in corrections_for(project)]
    if kind == "correct":
        assert pending == (["CR-1"] if allowed else []) and logged == []
    elif allowed and kind == "approve":
        assert pending == [] and logged == [("bob", AS[role])]
    else:
        assert pending == ([] if allowed else ["CR-1"]) and logged == []


def test_nobody_approves_their_own_suppression(app: FastAPI, project: Project, ar_id: str) -> None:
    c, csrf = client_for(app, "root")
    assert _post(c, csrf, ar_id, "suppress", 0, until=LATER).status_code == 200  # type: ignore[attr-defined]
    response = _post(c, csrf, ar_id, "approve", 1)
    assert response.status_code == 403 and "maker-checker" in response.json()["detail"]  # type: ignore[attr-defined]


def test_a_stale_version_is_a_conflict_and_nothing_is_lost(app: FastAPI, project: Project, ar_id: str) -> None:
    a, a_csrf = client_for(app, "alice")
    b, b_csrf = client_for(app, "bob")
    assert _post(a, a_csrf, ar_id, "assign", 0, assignee="alice").status_code == 200  # type: ignore[attr-defined]
    response = _post(b, b_csrf, ar_id, "comment", 0, comment="mine was second")
    assert response.status_code == 409  # type: ignore[attr-defined]
    assert "changed since version 0" in response.json()["detail"]  # type: ignore[attr-defined]
    conflict = entries(project, object=f"exception:{ar_id}")[0]
    assert conflict["outcome"] == "conflict" and "mine was second" in conflict["detail"]
    # the page shows the message and keeps the typed comment
    page = b.get(f"/exceptions/{ar_id}")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    form = b.post(f"/exceptions/{ar_id}/actions", data={"csrf": csrf, "kind": "comment", "expected_version": "0",
                                                        "comment": "typed text"})
    assert form.status_code == 409 and "changed since version 0" in form.text and "typed text" in form.text


@pytest.mark.parametrize("header", [None, "wrong"])
def test_csrf_missing_or_wrong_is_403_and_changes_nothing(app: FastAPI, project: Project, ar_id: str,
                                                          header: str | None) -> None:
    c, _ = client_for(app, "alice")
    headers = {"X-CSRF-Token": header} if header else {}
    response = c.post(f"/api/exceptions/{ar_id}/actions", json={"kind": "ack", "expected_version": 0},
                      headers=headers)
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    form = c.post(f"/exceptions/{ar_id}/actions", data={"kind": "ack", "expected_version": "0",
                                                        **({"csrf": header} if header else {})})
    assert form.status_code == 403
    assert c.post("/logout", data={"csrf": header or ""}).status_code == 403
    assert c.get(f"/api/exceptions/{ar_id}/actions").json()["status"]["version"] == 0
    assert entries(project)[0]["outcome"] == "refused" and entries(project)[0]["reason"].startswith("CSRF")


def test_login_needs_its_form_token_and_the_right_password(app: FastAPI, project: Project) -> None:
    c = TestClient(app, follow_redirects=False)
    before = len(entries(project))
    assert c.post("/login", data={"name": "alice", "password": "correct horse battery", "csrf": "x"}
                  ).status_code == 403
    assert len(entries(project)) == before  # refused before anything is written (tests/security/test_signin.py)
    c.get("/login")
    token = c.cookies.get("tieout_login")
    wrong = c.post("/login", data={"name": "alice", "password": "nope nope", "csrf": token})
    assert wrong.status_code == 401 and "Wrong name or password" in wrong.text
    assert [(e["actor"], e["action"], e["outcome"]) for e in entries(project)[:2]] == [
        ("alice", "login", "refused"), ("cli", "users.add", "allowed")]
    assert c.get("/api/exceptions").status_code == 401


def test_sessions_rotate_at_login_and_end_at_logout(app: FastAPI, project: Project) -> None:
    c = TestClient(app, follow_redirects=False)
    sign_in(c, "alice")
    first = c.cookies.get("tieout_session")
    login = c.post("/login", data={"name": "alice", "password": "correct horse battery",
                                   "csrf": c.get("/login").cookies.get("tieout_login") or ""})
    assert login.status_code == 303
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Secure" not in cookie
    second = c.cookies.get("tieout_session")
    assert second and second != first
    old = TestClient(app, cookies={"tieout_session": first or ""})
    assert old.get("/api/session").status_code == 401  # the old token died with the new sign-in
    csrf = c.get("/api/session").json()["csrf"]
    assert c.post("/logout", data={"csrf": csrf}).status_code == 303
    gone = TestClient(app, cookies={"tieout_session": second})
    assert gone.get("/api/session").status_code == 401
    with state.open(project) as connection:
        assert connection.execute(select(func.count()).select_from(sessions)).scalar() == 0


def test_an_idle_session_expires(app: FastAPI, project: Project) -> None:
    c, _ = client_for(app, "alice")
    assert c.get("/api/session").status_code == 200
    with state.open(project, write=True) as connection:
        connection.execute(update(sessions).values(last_seen=datetime.now(UTC) - timedelta(minutes=31)))
    assert c.get("/api/session").status_code == 401
    assert c.get("/").status_code == 303


def test_get_never_changes_anything(app: FastAPI, project: Project, ar_id: str) -> None:
    c, csrf = client_for(app, "root")
    assert _post(c, csrf, ar_id, "comment", 0, comment="before").status_code == 200  # type: ignore[attr-defined]

    def snapshot() -> tuple[object, ...]:
        with state.open(project) as connection:
            return (connection.execute(select(actions)).all(), connection.execute(select(exception_state)).all(),
                    len(entries(project)))

    before = snapshot()
    for path in ("/", "/?team=ar", f"/exceptions/{ar_id}", f"/exceptions/{ar_id}/actions?kind=ack",
                 f"/api/exceptions/{ar_id}/actions", "/audit", "/timeline", "/ownership", "/api/session",
                 "/logout", "/login"):
        c.get(path)
    assert snapshot() == before


def test_only_admins_and_auditors_read_the_audit_log(app: FastAPI, project: Project) -> None:
    assert client_for(app, "dave")[0].get("/audit").status_code == 200
    page = client_for(app, "root")[0].get("/audit")
    assert page.status_code == 200 and "audit log intact" in page.text
    before = len(entries(project))
    assert client_for(app, "alice")[0].get("/audit").status_code == 403
    # A refused read is not written to the audit log (a GET changes nothing): only alice's sign-in is.
    assert len(entries(project)) == before + 1 and entries(project)[0]["action"] == "login"


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example/"])
def test_sign_in_never_redirects_to_another_site(app: FastAPI, project: Project, target: str) -> None:
    c = TestClient(app, follow_redirects=False)
    c.get("/login")
    response = c.post("/login", data={"name": "alice", "password": "correct horse battery",
                                      "csrf": c.cookies.get("tieout_login"), "next": target})
    assert response.status_code == 303 and response.headers["location"] == "/"
