"""The JSON API: the CLI's keys and numbers, the queue's filters, errors named, 401 when sign-in is on."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import invoke
from tieout.config import load_project
from tieout.due import DUE_KEYS
from tieout.story import JSON_KEYS
from tieout.web.app import create_app


def _cli(world: Path, *args: str) -> list[dict]:
    result = invoke("exceptions", "-p", str(world), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout, parse_float=Decimal)


def _api(client: TestClient, query: str) -> list[dict]:
    response = client.get(f"/api/exceptions{query}")
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


def test_healthz_answers_without_anything_else(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(("query", "args"), [
    ("", ()),
    ("?status=all", ("--status", "all")),
    ("?status=resolved", ("--status", "resolved")),
    ("?team=ar&severity=P2&severity=P3", ("--team", "ar", "--severity", "P2", "--severity", "P3")),
    ("?status=all&rule=OWNED_FIELD_MISMATCH", ("--status", "all", "--rule", "OWNED_FIELD_MISMATCH")),
    ("?as_of=2026-01-21", ("--as-of", "2026-01-21")),
])
def test_the_queue_is_what_tieout_exceptions_prints(client: TestClient, world: Path, query: str,
                                                     args: tuple[str, ...]) -> None:
    # sort=severity is the CLI's order (severity, then impact)
    sep = "&" if query else "?"
    assert _api(client, f"{query}{sep}sort=severity") == _cli(world, *args)


def test_keys_in_the_contract_order_and_exact_decimal_impacts(client: TestClient) -> None:
    text = client.get("/api/exceptions?status=all").text
    found = json.loads(text)
    # then each exception's age and due date on the as-of day (tieout.due), as `tieout exceptions` adds them
    assert found and all(tuple(e) == (*JSON_KEYS, *DUE_KEYS) for e in found)
    # written from the Decimal's digits: 60000.00, never 60000.0 or a string
    assert re.search(r'"impact": 60000\.00[,}]', text)
    assert not re.search(r'"impact": "', text)


def test_filters_only_the_web_has(client: TestClient) -> None:
    every = _api(client, "?status=all")
    classes = {e["classification"] for e in every}
    assert {"timing", "ownership", "structural"} <= classes
    for c in classes:
        assert _api(client, f"?status=all&classification={c}") == [e for e in every if e["classification"] == c]
    old = _api(client, "?status=all&age=31%2B")
    assert old and all(e["first_seen"] <= "2026-01-29" for e in old)  # 31 days or more before 2026-03-01 ...
    assert all(e["status"] == "open" or e["resolved_on"] > e["first_seen"] for e in old)
    found = _api(client, "?status=all&q=cus_shared")
    assert [e["rule"] for e in found] == ["AMBIGUOUS_ENTITY_MATCH"]


def test_sorted_by_impact_largest_first(client: TestClient) -> None:
    impacts = [e["impact"] for e in _api(client, "?status=all")]
    assert impacts == sorted(impacts, reverse=True)


@pytest.mark.parametrize(("query", "named"), [
    ("?severity=P9", "severity: unknown value 'P9'"),
    ("?rule=NOPE", "rule: unknown value 'NOPE'"),
    ("?status=closed", "status: unknown value 'closed'"),
    ("?age=3-4", "age: unknown value '3-4'"),
    ("?as_of=01/02/2026", "as_of: '01/02/2026' is not a date"),
    ("?sort=random", "sort: unknown value 'random'"),
])
def test_an_unknown_filter_is_refused_by_name(client: TestClient, query: str, named: str) -> None:
    response = client.get(f"/api/exceptions{query}")
    assert response.status_code == 422
    assert named in response.json()["detail"]


def test_one_exception_is_tieout_show_with_its_owned_fields(client: TestClient, world: Path) -> None:
    mismatch = _api(client, "?rule=OWNED_FIELD_MISMATCH")[0]
    got = client.get(f"/api/exceptions/{mismatch['id']}").json()
    shown = json.loads(invoke("show", mismatch["id"], "-p", str(world), "--format", "json").stdout)
    assert {k: v for k, v in got.items() if k != "owned_fields"} == shown
    field = next(f for f in got["owned_fields"]["fields"] if f["field"] == mismatch["field"])
    assert field["differs"] and field["owner_system"] == "crm"
    assert [v["agrees"] for v in field["values"]["billing"]] == [False]
    assert field["winner_value"] == field["values"]["crm"][0]["value"]


def test_one_entity_is_tieout_show_with_its_records(client: TestClient, world: Path) -> None:
    got = client.get("/api/entities/C00004").json()
    shown = json.loads(invoke("show", "C00004", "-p", str(world), "--format", "json").stdout)
    assert {k: v for k, v in got.items() if k not in ("records", "owned_fields")} == shown
    assert got["records"]["crm"]["crm_accounts"] and got["records"]["day"] == "2026-03-01"


def test_timeline_is_tieout_timeline(client: TestClient, world: Path) -> None:
    shown = json.loads(invoke("timeline", "-p", str(world), "--format", "json").stdout)
    assert client.get("/api/timeline").json() == shown


@pytest.mark.parametrize("path", ["/api/exceptions/0123456789abcdef", "/api/exceptions/nope", "/api/entities/NOPE"])
def test_not_found_is_404_with_a_message(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "no exception" in response.json()["detail"]


def test_with_sign_in_required_the_api_is_401_and_pages_go_to_login(world: Path, tmp_path: Path) -> None:
    with TestClient(create_app(load_project(world)), follow_redirects=False) as c:
        assert c.get("/healthz").status_code == 200
        for path in ("/api/exceptions", "/api/exceptions/c5091e9703615cde", "/api/entities/C00004",
                     "/api/timeline", "/api/exceptions/c5091e9703615cde/actions"):
            response = c.get(path)
            assert response.status_code == 401, path
            assert response.json() == {"detail": "not logged in"}
        for path in ("/", "/timeline", "/ownership", "/entities/C00004", "/audit"):
            response = c.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=%2F"), path
