"""The state suite runs every test against SQLite and, when its binaries are here, a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import new_project
from tests.state.pg import Cluster, fresh_database, start_cluster
from tieout.config import Project, load_project


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    yield from start_cluster()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None for the default (SQLite in the project's store), else a fresh Postgres database's URL."""
    if request.param == "sqlite":
        yield None
        return
    cluster = request.getfixturevalue("pg_cluster")
    yield from fresh_database(cluster)


@pytest.fixture
def project_dir(tmp_path: Path, backend: str | None) -> Path:
    """A healthy one-day project whose state lives in `backend`."""
    return new_project(tmp_path / "p", {"2026-01-20": {}}, yml=f"state_url: '{backend}'\n" if backend else "")


@pytest.fixture
def state_project(project_dir: Path) -> Project:
    return load_project(project_dir)


@pytest.fixture(autouse=True)
def _close_engines() -> Iterator[None]:
    yield
    from tieout.state import dispose_all

    dispose_all()
