"""The security battery's fixtures: the hostile world (`tests.security.hostile`, built once per run and
shared by every xdist worker under a file lock; tests only read it, a test that writes works on a copy); the
web tests' demo world with an app whose clock the test moves; and the state suite's two databases."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.security.hostile import World, build
from tests.state.conftest import backend, pg_cluster  # noqa: F401 - SQLite and PostgreSQL, as the state suite
from tests.web.conftest import world  # noqa: F401 - the demo world, shared with tests/web
from tests.web.flow import add_people, guarded, state_env
from tieout import state
from tieout.config import Project, load_project
from tieout.web import create_app


@pytest.fixture(scope="session")
def hostile_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, ready = shared / "hostile-world", shared / "hostile-world.ready"
    with open(shared / "hostile-world.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            shutil.rmtree(folder, ignore_errors=True)
            build(folder)
            ready.touch()
    from tests.security.hostile import HOSTILE

    return World(folder, list(HOSTILE))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test over the hostile world is `slow`: building and reconciling it takes 15 s or more on two
    busy cores. The unit tests of each fix (no world) stay in `make test-fast`."""
    for item in items:
        if "hostile_world" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@dataclass
class Clock:
    """What the app takes as now: tests move it instead of sleeping."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def app(world: Path) -> FastAPI:  # noqa: F811 - `world` is the imported fixture
    return create_app(guarded(load_project(world)), auth=True)


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    app.state.clock = Clock()
    return app.state.clock  # type: ignore[no-any-return]


@pytest.fixture
def project(app: FastAPI, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """The app's project, its people in a state database of this test's own."""
    monkeypatch.setenv(state.ENV_URL, state_env(tmp_path))
    project: Project = app.state.project
    add_people(project)
    yield project
    state.dispose_all()
