# ruff: noqa: F811 - the fixtures of tests.security.web_app are imported by name and taken as parameters
"""The web's own controls: no GET writes to the audit log, an active user is not signed out by a short idle
timeout, no documentation page and no CDN, the OpenAPI document only to a signed-in user, and security
headers (a strict Content-Security-Policy among them) on every response.

The browser's side of the policy (no violation in Chromium, htmx still working) is
tests/web/test_browser_csp.py (beside the browser fixtures).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.security.routes import app_routes
from tests.security.web_app import Clock, app, clock, project, world  # noqa: F401 - its fixtures
from tests.web.flow import PASSWORD, add_people, sign_in, state_env
from tieout import state
from tieout.config import Project
from tieout.web.headers import CSP
from tieout.workflow.audit import entries


def _client(app: FastAPI, name: str | None = None) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    if name:
        sign_in(c, name, PASSWORD)
    return c


def _get_paths(app: FastAPI) -> list[str]:
    """Every GET route of the app with its path parameters filled in (a real object, and an unknown one)."""
    e = next(e for e in app.state.reads.exceptions() if e.team == "ar" and e.canonical_id)
    values = {"ident": [e.id, "ffffffffffffffff"], "canonical_id": [e.canonical_id, "NO-SUCH-ENTITY"],
              "system": ["billing", "no-such-system"], "period": ["2026-01", "1999-13"], "fmt": ["json", "exe"]}
    paths = []
    for route in app_routes(app, "GET"):
        params = re.findall(r"{(\w+)}", route)
        unknown = [p for p in params if p not in values]
        assert not unknown, f"{route}: fill in {unknown} here so the test covers this GET route"
        paths += [re.sub(r"{(\w+)}", lambda m: values[m.group(1)][i], route) for i in range(2 if params else 1)]  # noqa: B023
    return [*paths, "/static/tieout.css", "/no/such/page", "/audit?seq=1", "/?team=ar&q=x"]


@pytest.mark.parametrize("who", [None, "alice"])
def test_no_get_writes_to_the_audit_log(app: FastAPI, project: Project, who: str | None) -> None:
    """Every GET route, without a session and as a team member (refused at /audit): the audit log is as it was.
    Refused reads go to the application log only."""
    c = _client(app, who)
    before = entries(project)
    codes = {path: c.get(path).status_code for path in _get_paths(app)}
    assert entries(project) == before, codes
    assert codes["/audit"] == (303 if who is None else 403)
    assert codes["/api/exceptions"] == (401 if who is None else 200)


def test_no_role_writes_to_the_audit_log_by_reading_it(app: FastAPI, project: Project) -> None:
    """The one page whose answer depends on the role, for every role (the other pages: the test above)."""
    for who, code in {"root": 200, "dave": 200, "alice": 403, "olga": 403, "carol": 403}.items():
        c = _client(app, who)
        before = entries(project)
        assert c.get("/audit").status_code == code
        assert entries(project) == before


def test_a_one_minute_idle_timeout_keeps_an_active_user_signed_in(app: FastAPI, project: Project,
                                                                 clock: Clock) -> None:
    app.state.idle_minutes = 1  # as `tieout serve --idle-minutes 1`
    try:
        c = _client(app, "alice")
        for _ in range(6):  # a request every 40 s for four minutes: never idle for a minute
            clock.advance(40)
            assert c.get("/api/session").status_code == 200
        clock.advance(61)  # and a minute without one ends it
        assert c.get("/api/session").status_code == 401
    finally:
        app.state.idle_minutes = 30


@pytest.mark.parametrize("path", ["/api/docs", "/docs", "/redoc", "/docs/oauth2-redirect", "/api/redoc"])
def test_no_documentation_page_is_served(app: FastAPI, project: Project, path: str) -> None:
    """FastAPI's pages load Swagger UI or ReDoc from a CDN: there are none, signed in or not."""
    assert _client(app).get(path).status_code in (303, 404)  # no session: the sign-in page, or nothing
    assert _client(app, "dave").get(path).status_code == 404


def test_the_openapi_document_is_for_signed_in_users(app: FastAPI, project: Project) -> None:
    assert _client(app).get("/api/openapi.json").status_code == 401
    document = _client(app, "dave").get("/api/openapi.json")
    assert document.status_code == 200 and "/api/exceptions" in document.json()["paths"]


@pytest.fixture(scope="module")
def as_admin(app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every GET route's answer to an admin (who sees every page and button), fetched once for the tests below."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(state.ENV_URL, state_env(tmp_path_factory.mktemp("admin")))
        add_people(app.state.project)
        c = _client(app, "root")
        answers = {path: c.get(path) for path in _get_paths(app)}
        state.dispose_all()
    return answers


def _pages(answers: dict[str, Any]) -> dict[str, str]:
    return {p: r.text for p, r in answers.items() if not p.startswith(("/api/", "/static/"))}


def test_no_page_fetches_anything_from_another_site(as_admin: dict[str, Any]) -> None:
    for path, html in _pages(as_admin).items():
        assert not re.search(r'(src|href|action)="(https?:)?//', html), path


def test_pages_hold_no_inline_script_or_style(as_admin: dict[str, Any]) -> None:
    """What the policy forbids is not in any page: a script without src, a style attribute or element, an
    event-handler attribute, a javascript: URL."""
    assert "/timeline" in _pages(as_admin) and "/corrections" in _pages(as_admin)
    for path, html in _pages(as_admin).items():
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", html, re.IGNORECASE), path


def test_the_policy_is_strict() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["object-src"] == "'none'"
    assert "unsafe" not in CSP and "*" not in CSP and "http" not in CSP


def test_every_response_carries_the_security_headers(app: FastAPI, project: Project,
                                                     as_admin: dict[str, Any]) -> None:
    anonymous, signed_in = _client(app), _client(app, "alice")
    responses = [anonymous.get(p) for p in ("/login", "/healthz", "/", "/api/exceptions", "/static/htmx.min.js",
                                            "/nope")]
    responses += [*as_admin.values(), signed_in.get("/audit")]
    responses += [anonymous.post("/login", data={"name": "x", "password": "y"}),
                  signed_in.post("/logout", data={"csrf": "wrong"})]
    for r in responses:
        assert r.headers.get("content-security-policy") == CSP, r.url
        assert r.headers.get("x-frame-options") == "DENY", r.url
        assert r.headers.get("x-content-type-options") == "nosniff", r.url
        assert r.headers.get("referrer-policy") == "same-origin", r.url
