"""The state database at rest: the SQLite file (and its -wal/-shm) private to its owner, no session or CSRF
secret in it, the 0005 migration ending sessions stored the old way, and the sign-in throttle on both
SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from tests.conftest import new_project
from tieout import state
from tieout.config import Project, load_project
from tieout.people import add_user, sessions
from tieout.state import engine as state_engine
from tieout.state.tables import metadata


@pytest.fixture
def at_rest(tmp_path: Path, backend: str | None) -> Iterator[Project]:
    yml = f"state_url: '{backend}'\n" if backend else ""
    yield load_project(new_project(tmp_path / "p", {"2026-01-20": {}}, yml=yml))
    state.dispose_all()


def _dump(project: Project) -> str:
    with state.open(project) as connection:
        return "\n".join(repr(row) for table in metadata.sorted_tables for row in connection.execute(select(table)))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_session_and_csrf_tokens_are_stored_only_as_hashes(at_rest: Project) -> None:
    add_user(at_rest, "alice", "auditor", "correct horse battery")
    token, csrf = sessions.start(at_rest, "alice")
    found = sessions.lookup(at_rest, token)
    assert found is not None and found[1] == csrf  # the server still knows the CSRF token from the cookie
    stored = _dump(at_rest)
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in stored and csrf not in stored
    if state.is_sqlite(at_rest):  # nor anywhere in the files' bytes, journal included
        store = at_rest.store_path
        raw = b"".join(p.read_bytes() for p in store.glob("state.db*"))
        assert token.encode() not in raw and csrf.encode() not in raw


def test_migration_0005_ends_the_sessions_stored_with_a_clear_csrf_token(at_rest: Project) -> None:
    from alembic import command
    from alembic.config import Config

    engine = state_engine._create(state_engine._url(at_rest))
    config = Config()
    config.set_main_option("script_location", str(state_engine.MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004_correction_requests")
        connection.execute(text("INSERT INTO sessions (token_hash, user_name, csrf, created_at, last_seen, "
                                "expires_at) VALUES ('h', 'alice', 'clear-csrf-token', :t, :t, :t)"),
                           {"t": datetime.now(UTC)})
    state_engine.migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM sessions")).scalar() == 0
        assert "csrf" not in {c["name"] for c in inspect(connection).get_columns("sessions")}
    engine.dispose()


def test_the_throttle_locks_and_refunds_in_the_database(at_rest: Project) -> None:
    from tieout.people import throttle

    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with state.open(at_rest, write=True) as connection:
        verdicts = [throttle.charge(connection, "alice", "10.0.0.1", now) for _ in range(throttle.USER_LIMIT + 1)]
    assert [v.allowed for v in verdicts] == [True] * throttle.USER_LIMIT + [False]
    assert verdicts[-1].retry_after == throttle.FIRST_LOCK.total_seconds()
    later = now + throttle.FIRST_LOCK + timedelta(seconds=1)
    with state.open(at_rest, write=True) as connection:
        right = throttle.charge(connection, "ALICE", "10.0.0.1", later)  # names are compared case-folded
        throttle.refund(connection, right)
        again = throttle.charge(connection, "alice", "10.0.0.1", later)
    assert right.allowed and again.allowed  # the right password started the name's count afresh
    stored = _dump(at_rest)
    assert "alice" not in stored and "10.0.0.1" not in stored  # keys are hashes


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_new_state_database_is_private_whatever_the_umask(at_rest: Project) -> None:
    at_rest.store_path.mkdir(parents=True)
    at_rest.store_path.chmod(0o755)  # a folder of one's own (a group-writable one is shared: the test below)
    old = os.umask(0)
    try:
        add_user(at_rest, "alice", "auditor", "correct horse battery")
        with state.open(at_rest, write=True) as connection:  # the WAL files exist while a connection is open
            connection.execute(text("SELECT 1"))
            files = sorted(at_rest.store_path.glob("state.db*"))
            assert {p.name for p in files} >= {"state.db", "state.db-wal", "state.db-shm"}
            assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        os.umask(old)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_existing_world_readable_state_database_is_tightened_when_opened(at_rest: Project) -> None:
    add_user(at_rest, "alice", "auditor", "correct horse battery")
    state.dispose_all()
    database = at_rest.store_path / "state.db"
    database.chmod(0o666)
    state.engine_for(at_rest)
    assert _mode(database) == 0o600


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_group_shared_store_keeps_group_access_and_never_world_access(at_rest: Project) -> None:
    at_rest.store_path.mkdir(parents=True, exist_ok=True)
    at_rest.store_path.chmod(0o2770)  # a project folder shared by a group (setgid, group-writable)
    database = at_rest.store_path / "state.db"
    state.engine_for(at_rest)
    assert _mode(database) == 0o660
    state.dispose_all()
    database.chmod(0o664)
    state.engine_for(at_rest)
    assert _mode(database) == 0o660
