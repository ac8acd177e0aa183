"""A one-day project with a team of people; workflow tests act on hand-made targets (no reconciled world)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import new_project
from tests.state.pg import Cluster, fresh_database, start_cluster
from tieout.config import Project, load_project
from tieout.people import add_user
from tieout.workflow import Target

PASSWORD = "correct horse battery"
PEOPLE = {
    "root": ("admin", ()),
    "alice": ("team_member", ("ar",)),
    "bob": ("team_member", ("ar",)),
    "olga": ("team_member", ("product",)),
    "carol": ("approver", ()),
    "cora": ("approver", ()),
    "dave": ("auditor", ()),
}
AR = Target("aaaaaaaaaaaaaaaa", "ar", date(2026, 1, 10))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    yield from start_cluster()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The workflow runs on SQLite (the default) and on a real PostgreSQL, like the state suite."""
    if request.param == "sqlite":
        yield None
        return
    yield from fresh_database(request.getfixturevalue("pg_cluster"))


@pytest.fixture
def people_project(tmp_path: Path, backend: str | None) -> Project:
    yml = f"state_url: '{backend}'\n" if backend else ""
    project = load_project(new_project(tmp_path / "p", {"2026-01-20": {}}, yml=yml))
    for name, (role, teams) in PEOPLE.items():
        add_user(project, name, role, PASSWORD, teams)
    return project


@pytest.fixture(autouse=True)
def _close_engines() -> Iterator[None]:
    yield
    from tieout.state import dispose_all

    dispose_all()
