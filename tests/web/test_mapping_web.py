"""Map from the page (TestClient, signed in): an unmapped or ambiguous record's candidates with their evidence on
the exception and entity pages, "Map to this entity" for a team member, approval by a second person on the
corrections page, and the row in entity_map.csv only then; the correction form's old value from the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import run_days
from tests.entities.mapping_world import mapping_project
from tests.web.flow import add_people, sign_in
from tieout import state
from tieout.config import Project, load_project
from tieout.corrections import corrections_for
from tieout.web.app import create_app
from tieout.workflow.audit import entries

HOSTILE = '<script>alert(1)</script> =HYPERLINK("http://x","y")'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.delenv(state.ENV_URL, raising=False)
    folder = mapping_project(tmp_path / "p")
    run_days(folder, "2026-01-20")
    project = load_project(folder)
    add_people(project)
    yield project
    state.dispose_all()


def _client(project: Project, name: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(project, auth=True), follow_redirects=False)
    return client, sign_in(client, name)


def _exception_id(client: TestClient, rule: str, source_id: str) -> str:
    found = client.get("/api/exceptions?status=all").json()
    rows = found["exceptions"] if isinstance(found, dict) else found
    return next(e["id"] for e in rows if e["rule"] == rule and e["source_id"] == source_id)


def test_a_clerk_maps_an_unmapped_record_and_an_approver_approves(project: Project) -> None:
    bob, csrf = _client(project, "bob")
    ident = _exception_id(bob, "UNMAPPED_SOURCE_RECORD", "cus_9")
    page = bob.get(f"/exceptions/{ident}").text
    section = page.split('id="mapping"')[1].split('id="records"')[0]
    assert "Grünwald Robotics AG" in section and "GRUN" in section and "Gruenwald Robotics GmbH" in section
    assert "legal name similar (score 100)" in section
    assert 'name="canonical_id" value="GRUN"' in section and "Map to a new entity" in section

    before = project.entity_map_path.read_bytes()
    asked = bob.post("/map-requests", data={"csrf": csrf, "source_system": "billing", "source_id": "cus_9",
                                            "canonical_id": "GRUN", "reason": HOSTILE, "effective_from": "",
                                            "back": f"/exceptions/{ident}"})
    assert asked.status_code == 303 and asked.headers["location"] == f"/exceptions/{ident}?mapped=MR-1#mapping"
    after_ask = bob.get(asked.headers["location"]).text
    assert "Asked as MR-1" in after_ask and "MR-1</span> waits for a second person" in after_ask
    assert "<script>alert(1)</script>" not in after_ask and "&lt;script&gt;" in after_ask
    assert project.entity_map_path.read_bytes() == before
    assert bob.post("/map-requests/MR-1/approve", data={"csrf": csrf}).status_code == 403  # not an approver

    carol, carol_csrf = _client(project, "carol")
    queue = carol.get("/corrections").text
    row = queue.split('id="MR-1"')[1].split("</tr>")[0]
    assert "cus_9" in row and "GRUN" in row and "&lt;script&gt;" in row and "legal name similar" in row
    assert 'action="/map-requests/MR-1/approve"' in row
    assert carol.post("/map-requests/MR-1/approve", data={"comment": "no token"}).status_code == 403
    done = carol.post("/map-requests/MR-1/approve", data={"csrf": carol_csrf, "comment": "order form checked"})
    assert done.status_code == 303 and done.headers["location"] == "/corrections?done=approved-MR-1#map-requests"
    assert "MR-1 approved: the row is in the entity map" in carol.get("/corrections?done=approved-MR-1").text
    added = project.entity_map_path.read_bytes()[len(before):].decode()
    assert added.startswith("GRUN,billing,cus_9,2026-01-21,,") and "\n" == added[-1] and added.count("\n") == 1
    assert "<script>" in added  # the map keeps the text as written, on one line; pages escape it
    assert [(a["action"], a["actor"], a["outcome"], a["os_user"])
            for a in reversed(entries(project, object="map:MR-1", limit=5))] == [
        ("map.request", "bob", "allowed", None), ("map.approve", "bob", "refused", None),
        ("map.approve", "carol", "allowed", None)]
    again = carol.post("/api/map-requests/MR-1/reject", headers={"X-CSRF-Token": carol_csrf}, json={})
    assert again.status_code == 409


def test_an_auditor_sees_the_evidence_but_no_button(project: Project) -> None:
    dave, csrf = _client(project, "dave")
    ident = _exception_id(dave, "AMBIGUOUS_ENTITY_MATCH", "cus_8")
    section = dave.get(f"/exceptions/{ident}").text.split('id="mapping"')[1].split('id="records"')[0]
    assert "a tie: NORTH, SOUTH match equally" in section and "Map to this entity" not in section
    assert "A team member or an admin may ask" in section
    refused = dave.post("/api/map-requests", headers={"X-CSRF-Token": csrf}, json={
        "source_system": "billing", "source_id": "cus_8", "canonical_id": "NORTH", "reason": "r"})
    assert refused.status_code == 403


def test_the_entity_page_offers_its_ambiguous_records_and_the_api_explains_the_tie(project: Project) -> None:
    alice, csrf = _client(project, "alice")
    page = alice.get("/entities/SOUTH").text
    section = page.split('id="mapping"')[1]
    assert "cus_8" in section and 'value="SOUTH"' in section and 'value="NORTH"' not in section
    assert "shared-north.com" in section
    api = alice.get("/api/records/billing/cus_8/candidates").json()
    assert [c["canonical_id"] for c in api["candidates"]] == ["NORTH", "SOUTH"] and "a tie" in api["explanation"]
    assert alice.get("/api/records/billing/nope/candidates").status_code == 404
    asked = alice.post("/api/map-requests", headers={"X-CSRF-Token": csrf}, json={
        "source_system": "billing", "source_id": "cus_8", "canonical_id": "SOUTH", "reason": "their AP mailbox",
        "effective_from": "2026-01-21"})
    assert asked.status_code == 200 and asked.json()["request"]["ref"] == "MR-1"
    assert "shares the domain" not in asked.json()["request"]["evidence"]  # the evidence itself, not a verdict
    assert "domain 'shared-north.com'" in asked.json()["request"]["evidence"]
    twice = alice.post("/api/map-requests", headers={"X-CSRF-Token": csrf}, json={
        "source_system": "billing", "source_id": "cus_8", "canonical_id": "NORTH", "reason": "r"})
    assert twice.status_code == 409


def test_the_correction_form_fills_the_old_value_from_the_record(project: Project) -> None:
    bob, csrf = _client(project, "bob")
    current = bob.get("/api/corrections/current?entity=ACME&system=billing&field=billed_fte").json()
    assert (current["value"], current["day"], current["kind"]) == ("50", "2026-01-20", "fte")
    page = bob.get("/corrections?entity=ACME&system=billing&field=billed_fte").text
    form = page.split('class="correct-form"')[1]
    assert re.search(r'name="old_value" value="50"', form) and "as the record holds it on 2026-01-20" in form
    assert '<option value="billed_fte" selected>billed_fte (fte)</option>' in form
    wrong = bob.post("/corrections", data={"csrf": csrf, "canonical_id": "ACME", "system": "billing",
                                           "field": "billed_fte", "old_value": "12", "new_value": "55",
                                           "reason": HOSTILE})
    assert wrong.status_code == 409 and "&#39;12&#39; does not match the record" in wrong.text
    assert "<script>alert(1)</script>" not in wrong.text
    done = bob.post("/corrections", data={"csrf": csrf, "canonical_id": "ACME", "system": "billing",
                                          "field": "billed_fte", "old_value": "50", "new_value": "55",
                                          "reason": HOSTILE})
    assert done.status_code == 303
    [c] = corrections_for(project)
    assert (c.who, c.os_user, c.field, c.old_value, c.new_value) == ("bob", None, "billed_fte", "50", "55")
    assert "&lt;script&gt;" in bob.get("/corrections").text
