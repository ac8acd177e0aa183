# ruff: noqa: F811 - the fixtures of tests.security.web_app are imported by name and taken as parameters
"""Sign-in under attack: throttling per name and per address (kept in the state database), the login form
writing nothing without its token, and nothing typed into the name box kept unless it names a user.

The app's clock is moved by the test (`clock.advance`), never slept on.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.security.web_app import Clock, app, clock, project, world  # noqa: F401 - its fixtures
from tests.web.flow import PASSWORD
from tieout import state
from tieout.config import Project
from tieout.people import throttle
from tieout.state.tables import metadata, signin_throttle
from tieout.web.signin import TOO_MANY
from tieout.workflow.audit import entries


def _client(app: FastAPI, address: str = "192.0.2.10") -> TestClient:
    return TestClient(app, follow_redirects=False, client=(address, 50000))


def _attempt(c: TestClient, name: str, password: str) -> object:
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token
    return c.post("/login", data={"name": name, "password": password, "csrf": token.group(1), "next": "/"})


def _codes(responses: list[object]) -> list[int]:
    return [r.status_code for r in responses]  # type: ignore[attr-defined]


def _logins(project: Project) -> list[dict[str, object]]:
    return [e for e in entries(project) if e["action"] == "login"]


def test_brute_force_30_wrong_passwords_then_the_right_one_is_refused_until_the_lock_expires(
        app: FastAPI, project: Project, clock: Clock) -> None:
    c = _client(app)
    tries = [_attempt(c, "alice", f"guess number {i}") for i in range(30)]
    assert _codes(tries) == [401] * throttle.USER_LIMIT + [429] * (30 - throttle.USER_LIMIT)
    right = _attempt(c, "alice", PASSWORD)
    assert right.status_code == 429 and TOO_MANY in right.text  # type: ignore[attr-defined]
    wait = int(right.headers["retry-after"])  # type: ignore[attr-defined]
    assert 0 < wait <= throttle.FIRST_LOCK.total_seconds()
    assert c.get("/api/session").status_code == 401
    # Only the attempts whose password was checked reach the audit log: the throttle bounds it.
    assert len(_logins(project)) == throttle.USER_LIMIT
    clock.advance(wait - 1)
    assert _attempt(c, "alice", PASSWORD).status_code == 429  # type: ignore[attr-defined]
    clock.advance(2)
    assert _attempt(c, "alice", PASSWORD).status_code == 303  # type: ignore[attr-defined]
    assert c.get("/api/session").json()["name"] == "alice"


def test_the_lock_grows_with_each_failure_after_it_and_a_success_starts_afresh(app: FastAPI, project: Project,
                                                                               clock: Clock) -> None:
    c = _client(app)
    waits = []
    for _ in range(4):
        while (r := _attempt(c, "bob", "not the password")).status_code == 401:  # type: ignore[attr-defined]
            pass
        waits.append(int(r.headers["retry-after"]))  # type: ignore[attr-defined]
        clock.advance(waits[-1] + 1)
    minute = int(throttle.FIRST_LOCK.total_seconds())
    assert waits == [minute, 2 * minute, 4 * minute, 8 * minute]
    assert _attempt(c, "bob", PASSWORD).status_code == 303  # type: ignore[attr-defined]
    assert _codes([_attempt(c, "bob", "wrong again") for _ in range(throttle.USER_LIMIT)]) == \
        [401] * throttle.USER_LIMIT  # afresh: the lock comes back only at the limit


def test_an_unknown_name_is_throttled_exactly_like_a_user(app: FastAPI, project: Project) -> None:
    """The answers tell nothing about who exists: the same codes, messages and waits."""
    def story(name: str, address: str) -> list[tuple[int, str | None, str]]:
        c = _client(app, address)
        out = []
        for _ in range(throttle.USER_LIMIT + 2):
            r = _attempt(c, name, "not the password")
            text = re.sub(r'value="[^"]+"', "", r.text)  # type: ignore[attr-defined]
            out.append((r.status_code, r.headers.get("retry-after"), text))  # type: ignore[attr-defined]
        return out

    assert story("alice", "192.0.2.21") == story("nobody-here", "192.0.2.22")


def test_an_address_trying_many_names_is_locked_whatever_the_name(app: FastAPI, project: Project,
                                                                 clock: Clock) -> None:
    sprayer = _client(app, "198.51.100.7")
    codes = _codes([_attempt(sprayer, f"user{i}", "Winter2026!") for i in range(throttle.ADDRESS_LIMIT + 3)])
    assert codes == [401] * throttle.ADDRESS_LIMIT + [429] * 3
    assert _attempt(sprayer, "alice", PASSWORD).status_code == 429  # type: ignore[attr-defined]
    # Someone else, elsewhere, is not locked out by it.
    assert _attempt(_client(app, "198.51.100.8"), "alice", PASSWORD).status_code == 303  # type: ignore[attr-defined]


def test_the_count_is_shared_by_concurrent_attempts(app: FastAPI, project: Project) -> None:
    """Charged before the password is checked, in one write transaction: a burst of parallel guesses (as
    several worker processes would receive them) gets exactly USER_LIMIT checked, never more."""
    def guess(i: int) -> int:
        return _attempt(_client(app, f"203.0.113.{i}"), "carol", f"parallel guess {i}").status_code  # type: ignore

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(guess, range(16)))
    assert sorted(codes) == [401] * throttle.USER_LIMIT + [429] * (16 - throttle.USER_LIMIT)


def test_a_login_post_without_its_form_token_writes_nothing(app: FastAPI, project: Project) -> None:
    before = len(entries(project))
    c = _client(app)
    huge = "x" * 900_000
    for data in ({"name": huge, "password": "p"}, {"name": "alice", "password": PASSWORD, "csrf": "forged"}):
        assert c.post("/login", data=data).status_code == 403
    assert len(entries(project)) == before
    with state.open(project) as connection:
        assert connection.execute(select(func.count()).select_from(signin_throttle)).scalar() == 0


def _everything_stored(project: Project) -> str:
    with state.open(project) as connection:
        return "\n".join(repr(row) for table in metadata.sorted_tables for row in connection.execute(select(table)))


def test_a_name_that_is_no_user_is_never_stored(app: FastAPI, project: Project) -> None:
    """A password typed into the name box, or 900 KB of text, is recorded as "unknown user" and the address."""
    c = _client(app, "192.0.2.99")
    typed_password = "MyS3cret-Passw0rd!"
    assert _attempt(c, typed_password, "something").status_code == 401  # type: ignore[attr-defined]
    assert _attempt(c, "y" * 900_000, "something").status_code == 401  # type: ignore[attr-defined]
    refused = _logins(project)[:2]
    assert {(e["actor"], e["object"], e["outcome"]) for e in refused} == {("unknown user", "user:?", "refused")}
    assert all('"address": "192.0.2.99"' in str(e["detail"]) for e in refused)
    stored = _everything_stored(project)
    assert typed_password not in stored and "y" * 101 not in stored
    assert max(len(str(e[k])) for e in _logins(project) for k in ("actor", "object", "detail")) < 200


def test_a_user_that_exists_is_named_in_the_audit_log(app: FastAPI, project: Project) -> None:
    c = _client(app, "192.0.2.50")
    assert _attempt(c, "alice", "wrong password").status_code == 401  # type: ignore[attr-defined]
    assert _attempt(c, "alice", PASSWORD).status_code == 303  # type: ignore[attr-defined]
    assert [(e["actor"], e["object"], e["outcome"]) for e in _logins(project)[:2]] == [
        ("alice", "user:alice", "allowed"), ("alice", "user:alice", "refused")]
