"""Helpers for the signed-in tests: a state database of its own per test, people, and signing in."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tieout.config import Project, Workflow
from tieout.people import add_user

PASSWORD = "correct horse battery"
# The demo world routes exceptions to ar, account_managers and product.
PEOPLE = {
    "root": ("admin", ()),
    "alice": ("team_member", ("ar",)),
    "bob": ("team_member", ("ar",)),
    "olga": ("team_member", ("product",)),
    "carol": ("approver", ()),
    "dave": ("auditor", ()),
}
LATER = (date.today() + timedelta(days=30)).isoformat()


# The signed-in tests run with maker-checker for corrections on: above USD 1,000.00 a correction waits.
THRESHOLD = Decimal("1000.00")


def guarded(project: Project) -> Project:
    """`project` with `workflow.correction_approval_over` set to THRESHOLD (as tieout.yml would)."""
    return project.model_copy(update={"workflow": Workflow(correction_approval_over=THRESHOLD)})


def add_people(project: Project) -> None:
    for name, (role, teams) in PEOPLE.items():
        add_user(project, name, role, PASSWORD, teams)


def login_token(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert found
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign `client` in as `name`; return the session's CSRF token."""
    response = client.post("/login", data={"name": name, "password": password, "csrf": login_token(client),
                                           "next": "/"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(client.get("/api/session").json()["csrf"])


def state_env(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


def client_for(app: FastAPI, name: str) -> tuple[TestClient, str]:
    """A client of `app` signed in as `name`, and its session's CSRF token."""
    client = TestClient(app, follow_redirects=False)
    return client, sign_in(client, name)
