"""The approval threshold measures what a correction really moves, and bad values are refused, never a 500.

ACME's invoice and contract hold USD 10,000.00 a month and nothing is at risk on the healthy day, so only the
amount a correction moves can pass the threshold of USD 1,000.00.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tests.conftest import new_project, run_days
from tests.web.flow import add_people, sign_in
from tests.workflow.test_correction_approval import AMOUNT_REGISTRY as REGISTRY
from tieout.cli import cli
from tieout.config import Project, load_project
from tieout.corrections import corrections_for, request_correction, requests
from tieout.errors import BadArgument
from tieout.web.app import create_app

pytestmark = pytest.mark.usefixtures("state_in_the_project")

AMOUNT = ("--entity", "ACME", "--system", "billing", "--field", "amount", "--reason", "credit note")
NOT_AMOUNTS = ("NaN", "nan", "-NaN", "sNaN", "+snan", "Infinity", "-infinity", "inf", "-Inf", "1e3", "abc",
               "1.2.3", "12345678901234567", "0x10", "１２")


def _cli(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))




@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = new_project(tmp_path / "p", {"2026-01-20": {}}, yml="workflow:\n  correction_approval_over: '1000.00'\n")
    (root / "ownership.yml").write_text(REGISTRY)
    run_days(root, "2026-01-20")
    return root


def test_a_claimed_old_value_does_not_shrink_the_impact(folder: Path) -> None:
    """The record holds 10,000.00: a claimed old value of 4,999,999 is refused (a conflict naming both values),
    and 10,000.00 → 5,000,000 — the old value left out, so the stored one is recorded — moves it by 4,990,000."""
    claimed = _cli("correct", "-p", str(folder), *AMOUNT, "--old", "4999999", "--new", "5000000", "--who", "ana")
    assert claimed.exit_code == 9, claimed.output
    assert "'4999999'" in claimed.output and "'10000.00' USD" in claimed.output
    assert corrections_for(load_project(folder)) == [] and requests(load_project(folder)) == []
    done = _cli("correct", "-p", str(folder), *AMOUNT, "--new", "5000000", "--who", "ana", "--format", "json")
    assert done.exit_code == 0, done.output
    held = json.loads(done.output)
    assert held["old_value"] == "10000.00"
    assert held["applied"] is False and held["ref"] == "CR-1" and held["impact"] == 4990000
    assert corrections_for(load_project(folder)) == []


def test_an_old_value_that_is_not_an_amount_is_refused(folder: Path) -> None:
    for bad in ("abc", "NaN", "sNaN", "-Infinity"):
        done = _cli("correct", "-p", str(folder), *AMOUNT, "--old", bad, "--new", "5000000", "--who", "ana")
        assert done.exit_code == 2, done.output
        assert "--old" in done.output and "is not an amount" in done.output and "Traceback" not in done.output
    project = load_project(folder)
    assert corrections_for(project) == [] and requests(project) == []


def test_nan_infinity_and_friends_are_not_amounts(folder: Path) -> None:
    project = load_project(folder)
    for bad in NOT_AMOUNTS:
        with pytest.raises(BadArgument, match="--new: .* is not an amount"):
            request_correction(project, canonical_id="ACME", system="billing", field="amount", old_value="10000",
                               new_value=bad, reason="credit note", who="ana")
        with pytest.raises(BadArgument, match="--old: .* is not an amount"):
            request_correction(project, canonical_id="ACME", system="billing", field="amount", old_value=bad,
                               new_value="10000", reason="credit note", who="ana")
    assert corrections_for(project) == [] and requests(project) == []


def test_many_small_steps_add_up(folder: Path) -> None:
    """Steps of 100.00 down from 10,000.00: each claims to move 100.00, but each is measured from where the
    field stood before the first, so once they add up to more than 1,000.00 every further step waits. (Each
    step reads the stored day's exports: 14 steps keep the test short; the count does not matter.)"""
    project = load_project(folder)
    value, outcomes = Decimal("10000.00"), []
    for _ in range(14):
        done = request_correction(project, canonical_id="ACME", system="billing", field="amount",
                                  old_value=str(value), new_value=str(value - 100), reason="step", who="ana",
                                  found=[])
        outcomes.append((done.applied, done.impact))
        if done.applied:
            value -= 100
    assert outcomes[:10] == [(True, Decimal(100 * (i + 1)).quantize(Decimal("0.01"))) for i in range(10)]
    assert outcomes[10:] == [(False, Decimal("1100.00"))] * 4
    assert len(corrections_for(project)) == 10 and len(requests(project, status="pending")) == 4


def test_an_overflowing_request_number_is_not_found(folder: Path) -> None:
    for verb in ("approve", "reject"):
        done = _cli(verb, "CR-99999999999999999999999", "--as", "carol", "-p", str(folder))
        assert done.exit_code == 7, done.output
        assert "no correction request CR-99999999999999999999999" in done.output
    for huge in ("CR-" + "9" * 5000, "CR-0", "CR-2147483648"):
        done = _cli("approve", huge, "--as", "carol", "-p", str(folder))
        assert done.exit_code == 7 and "no correction request CR-" in done.output, done.output[:200]


@pytest.fixture
def signed_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str, Project]]:
    project = load_project(folder)
    add_people(project)
    client = TestClient(create_app(project, auth=True), follow_redirects=False, raise_server_exceptions=False)
    yield client, sign_in(client, "bob"), project


def test_the_web_refuses_bad_amounts_with_a_client_error(signed_in: tuple[TestClient, str, Project]) -> None:
    client, csrf, project = signed_in
    fields = {"canonical_id": "ACME", "system": "billing", "field": "amount", "reason": "credit note"}
    for old, new in [(bad, "9000") for bad in NOT_AMOUNTS[:8]] + [("10000", bad) for bad in NOT_AMOUNTS[:8]]:
        api = client.post("/api/corrections", json={**fields, "old_value": old, "new_value": new},
                          headers={"X-CSRF-Token": csrf})
        assert api.status_code in (400, 422), api.text
        assert "is not an amount" in api.text
        form = client.post("/corrections", data={"csrf": csrf, **fields, "old_value": old, "new_value": new})
        assert form.status_code in (400, 422) and "is not an amount" in form.text
    assert corrections_for(project) == [] and requests(project) == []


def test_the_api_measures_against_the_record_too(signed_in: tuple[TestClient, str, Project]) -> None:
    client, csrf, project = signed_in
    fields = {"canonical_id": "ACME", "system": "billing", "field": "amount", "reason": "credit note"}
    claimed = client.post("/api/corrections", headers={"X-CSRF-Token": csrf},
                          json={**fields, "old_value": "4999999", "new_value": "5000000"})
    assert claimed.status_code == 409 and "'4999999'" in claimed.text and "'10000.00' USD" in claimed.text
    done = client.post("/api/corrections", headers={"X-CSRF-Token": csrf}, json={**fields, "new_value": "5000000"})
    assert done.status_code == 200, done.text
    assert done.json()["applied"] is False and done.json()["impact"] == 4990000
    for bad in ("cr-99999999999999999999999", "CR-0"):
        decided = client.post(f"/api/corrections/requests/{bad}/approve", headers={"X-CSRF-Token": csrf})
        assert decided.status_code == 404, decided.text
