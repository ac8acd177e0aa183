"""Signed-in web: the corrections page (the log, requests waiting with approve/reject, the verdict, the form),
`/api/corrections`, the queue's workflow and assignee columns and filter, disabled users, and a GET that
writes the session's last-seen time at most once a minute.

Each test's people and state live in a database of its own (`TIEOUT_STATE_URL`), over the shared demo world.
"""

from __future__ import annotations

import csv
import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.web.flow import LATER, client_for
from tieout import state
from tieout.config import Project
from tieout.corrections import corrections_for, requests
from tieout.corrections.current import held_values
from tieout.corrections.fields import field_spec
from tieout.people import set_disabled
from tieout.state.tables import sessions
from tieout.workflow.audit import entries


@pytest.fixture(scope="module")
def ar(app: FastAPI) -> object:
    """An open exception routed to ar, of an entity with more than USD 1,000 at risk."""
    return next(e for e in app.state.reads.exceptions()
                if e.team == "ar" and e.status == "open" and e.canonical_id and e.impact > 1000)


@pytest.fixture(scope="module")
def quiet_entity(app: FastAPI, world: Path) -> str:
    """An entity of the map with no open exception: nothing at risk, so its corrections need nobody else."""
    busy = {e.canonical_id for e in app.state.reads.exceptions() if e.status == "open"}
    with open(world / "entity_map.csv", newline="") as f:
        return next(r["canonical_id"] for r in csv.DictReader(f) if r["canonical_id"] not in busy)


def _stored_name(project: Project, entity: str) -> str:
    """The entity's billing name on the latest stored day: the old value a correction of it must give."""
    spec = field_spec(project, "billing", "legal_name")
    held = held_values(project, canonical_id=entity, system="billing", spec=spec, source_id=None)
    return held.agreed("name") or ""


def _form(project: Project, entity: str, **extra: str) -> dict[str, str]:
    return {"canonical_id": entity, "system": "billing", "field": "legal_name",
            "old_value": _stored_name(project, entity) if entity != "NO-SUCH-ENTITY" else "Old Name Inc",
            "new_value": "New Name Inc.", "reason": "typo at onboarding", "ticket": "FIN-77", **extra}


def test_a_request_waits_on_the_page_and_a_second_person_approves_it(app: FastAPI, project: Project,
                                                                     ar: object) -> None:
    entity = ar.canonical_id  # type: ignore[attr-defined]
    bob, bob_csrf = client_for(app, "bob")
    posted = bob.post("/corrections", data={"csrf": bob_csrf, **_form(project, entity)})
    assert posted.status_code == 303 and posted.headers["location"] == "/corrections?done=held-CR-1"
    page = bob.get(posted.headers["location"]).text
    assert "Held for approval as\n  CR-1" in page and 'id="CR-1"' in page
    assert "your request: someone else decides" in page and "/corrections/requests/CR-1/approve" not in page
    assert corrections_for(project) == []

    carol, carol_csrf = client_for(app, "carol")
    page = carol.get("/corrections").text
    assert 'action="/corrections/requests/CR-1/approve"' in page and "Record a correction" not in page
    row = page.split('id="CR-1"')[1].split("</tr>")[0]
    assert "USD " in row and re.search(r"USD \d{1,3}(,\d{3})+\.\d\d", row)  # the impact, with its currency
    assert html.escape(_stored_name(project, entity)) in row and "New Name Inc." in row and ">bob<" in row
    done = carol.post("/corrections/requests/CR-1/approve", data={"csrf": carol_csrf, "comment": "checked"})
    assert done.status_code == 303 and done.headers["location"] == "/corrections?done=approved-CR-1#requests"
    page = carol.get("/corrections?done=approved-CR-1").text
    assert "CR-1 approved" in page and "OK: corrections log intact: 1 entry" in page
    logged = page.split('id="c1"')[1].split("</tr>")[0]
    assert ">bob<" in logged and "carol" in logged and "FIN-77" in logged and f"/entities/{entity}" in logged
    assert [(c.who, c.approved_by, c.ticket) for c in corrections_for(project)] == [("bob", "carol", "FIN-77")]

    api = carol.get("/api/corrections").json()
    assert api["verify"]["ok"] and api["approval_over"] == 1000.00 and api["currency"] == "USD"
    assert [(c["seq"], c["who"], c["approved_by"]) for c in api["corrections"]] == [(1, "bob", "carol")]
    assert [(r["ref"], r["status"], r["decided_by"], r["correction_seq"]) for r in api["requests"]] == [
        ("CR-1", "approved", "carol", 1)]


def test_under_the_threshold_the_form_records_at_once(app: FastAPI, project: Project, quiet_entity: str) -> None:
    alice, csrf = client_for(app, "alice")
    posted = alice.post("/corrections", data={"csrf": csrf, **_form(project, quiet_entity)})
    assert posted.status_code == 303 and posted.headers["location"] == "/corrections?done=recorded-1"
    assert "Correction #1 recorded." in alice.get(posted.headers["location"]).text
    assert [(c.canonical_id, c.who, c.approved_by) for c in corrections_for(project)] == [
        (quiet_entity, "alice", None)]
    assert requests(project) == []


def test_a_refused_form_keeps_what_was_typed(app: FastAPI, project: Project, ar: object) -> None:
    alice, csrf = client_for(app, "alice")
    blank = alice.post("/corrections",
                       data={"csrf": csrf, **_form(project, ar.canonical_id, reason=" ")})  # type: ignore
    assert blank.status_code == 422 and "needs a reason" in blank.text and 'value="New Name Inc."' in blank.text
    unknown = alice.post("/corrections", data={"csrf": csrf, **_form(project, "NO-SUCH-ENTITY")})
    assert unknown.status_code == 404 and "no entity &#39;NO-SUCH-ENTITY&#39;" in unknown.text
    assert corrections_for(project) == [] and requests(project) == []


def test_deciding_needs_the_csrf_token_and_an_existing_request(app: FastAPI, project: Project, ar: object) -> None:
    bob, bob_csrf = client_for(app, "bob")
    assert bob.post("/api/corrections", headers={"X-CSRF-Token": bob_csrf}, json={
        k: v for k, v in _form(project, ar.canonical_id).items()  # type: ignore[attr-defined]
    }).json()["applied"] is False
    carol, csrf = client_for(app, "carol")
    assert carol.post("/corrections/requests/CR-1/approve", data={"comment": "no token"}).status_code == 403
    assert carol.post("/api/corrections/requests/CR-1/approve", json={}).status_code == 403
    assert requests(project)[0].status == "pending"
    missing = carol.post("/api/corrections/requests/CR-7/approve", headers={"X-CSRF-Token": csrf}, json={})
    assert missing.status_code == 404 and "CR-7" in missing.json()["detail"]
    assert carol.post("/api/corrections/requests/7/approve", headers={"X-CSRF-Token": csrf},
                      json={}).status_code == 404
    assert carol.post("/api/corrections/requests/CR-1/approve", headers={"X-CSRF-Token": csrf},
                      json={}).status_code == 200
    twice = carol.post("/api/corrections/requests/CR-1/reject", headers={"X-CSRF-Token": csrf}, json={})
    assert twice.status_code == 409 and "already approved" in twice.json()["detail"]


def test_the_nav_links_the_corrections_page_for_everyone(app: FastAPI, project: Project) -> None:
    dave, _ = client_for(app, "dave")
    page = dave.get("/")
    assert 'href="/corrections"' in page.text
    corrections = dave.get("/corrections")
    assert corrections.status_code == 200 and "Record a correction" not in corrections.text  # an auditor reads


def _post(c: TestClient, csrf: str, ident: str, kind: str, version: int, **extra: str) -> object:
    return c.post(f"/api/exceptions/{ident}/actions", json={"kind": kind, "expected_version": version, **extra},
                  headers={"X-CSRF-Token": csrf})


def _rows(html: str) -> dict[str, str]:
    """The queue table's rows by exception id."""
    body = html.split('<table class="queue-table">')[1].split("</table>")[0].split("<tbody>")[1]
    return {re.search(r'class="id mono">([0-9a-f]{16})<', r).group(1): r  # type: ignore[union-attr]
            for r in body.split("<tr>")[1:]}


def _facet_count(html: str, facet: str, value: str) -> int:
    found = re.search(rf'id="f-{facet}-{value}".*?<span class="count">(\d+)</span>', html, re.S)
    assert found, f"no facet {facet}={value}"
    return int(found.group(1))


def test_the_queue_shows_and_filters_workflow_state_and_assignee(app: FastAPI, project: Project,
                                                                 ar: object) -> None:
    ident = ar.id  # type: ignore[attr-defined]
    alice, csrf = client_for(app, "alice")
    before = alice.get("/?view=all").text
    assert '<th scope="col">Status</th>' in before and '<th scope="col">Assignee</th>' in before
    assert 'class="chip wf' not in _rows(before)[ident] and _facet_count(before, "workflow", "assigned") == 0
    opened = _facet_count(before, "workflow", "open")

    assert _post(alice, csrf, ident, "assign", 0, assignee="bob").status_code == 200  # type: ignore[attr-defined]
    page = alice.get("/?view=all").text
    row = _rows(page)[ident]
    assert "wf-assigned" in row and '<td class="assignee">bob</td>' in row
    assert _facet_count(page, "workflow", "assigned") == 1 and _facet_count(page, "workflow", "open") == opened - 1
    only = alice.get("/?view=all&workflow=assigned").text
    assert list(_rows(only)) == [ident]
    assert [e["id"] for e in alice.get("/api/exceptions?workflow=assigned").json()] == [ident]
    assert ident not in _rows(alice.get("/?view=all&workflow=open").text)
    assert list(_rows(alice.get("/?view=all&q=bob").text)) == [ident]  # the assignee is searchable

    assert _post(alice, csrf, ident, "suppress", 1, until=LATER).status_code == 200  # type: ignore[attr-defined]
    waiting = alice.get("/?view=all&workflow=pending_approval").text
    assert list(_rows(waiting)) == [ident] and "pending approval" in _rows(waiting)[ident]
    carol, carol_csrf = client_for(app, "carol")
    assert _post(carol, carol_csrf, ident, "approve", 2).status_code == 200  # type: ignore[attr-defined]
    # Suppressed, and resolved and timeline status combine: the workflow filter ANDs with the status filter.
    suppressed = alice.get("/?view=all&workflow=suppressed&status=all").text
    assert list(_rows(suppressed)) == [ident]
    assert "wf-suppressed" in _rows(suppressed)[ident] and f"to {LATER}" in _rows(suppressed)[ident]
    assert alice.get("/?view=all&workflow=suppressed&status=resolved").text.count('class="id mono"') == 0
    assert alice.get("/?workflow=bogus").status_code == 422
    assert alice.get("/api/exceptions?workflow=bogus").status_code == 422


def test_a_disabled_user_is_signed_out_at_the_next_request(app: FastAPI, project: Project) -> None:
    alice, _ = client_for(app, "alice")
    assert alice.get("/api/session").status_code == 200
    assert set_disabled(project, "alice", True)
    assert alice.get("/api/session").status_code == 401
    c = TestClient(app, follow_redirects=False)
    c.get("/login")
    refused = c.post("/login", data={"name": "alice", "password": "correct horse battery",
                                     "csrf": c.cookies.get("tieout_login")})
    assert refused.status_code == 401
    assert [(e["actor"], e["action"], e["outcome"]) for e in entries(project)[:2]] == [
        ("alice", "login", "refused"), ("cli", "users.disable", "allowed")]


def test_a_page_view_writes_last_seen_at_most_once_a_minute(app: FastAPI, project: Project) -> None:
    alice, _ = client_for(app, "alice")

    def last_seen() -> datetime:
        with state.open(project) as connection:
            moment = connection.execute(select(sessions.c.last_seen)).scalar_one()
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

    recent = datetime.now(UTC) - timedelta(seconds=40)
    with state.open(project, write=True) as connection:
        connection.execute(update(sessions).values(last_seen=recent))
    assert alice.get("/").status_code == 200
    assert last_seen() == recent  # read only: nothing written
    with state.open(project, write=True) as connection:
        connection.execute(update(sessions).values(last_seen=datetime.now(UTC) - timedelta(minutes=2)))
    assert alice.get("/").status_code == 200
    assert datetime.now(UTC) - last_seen() < timedelta(seconds=30)  # refreshed
