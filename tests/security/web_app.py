"""The web app of the security battery: the web tests' demo world with an app whose clock the test moves, and
the app's project with its people in a state database of each test's own. Imported by the test modules that
use them (not a conftest: `project` means the root conftest's one-day project everywhere else)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.web.conftest import world  # noqa: F401 - the demo world, shared with tests/web
from tests.web.flow import add_people, guarded, state_env
from tieout import state
from tieout.config import Project, load_project
from tieout.web.app import create_app


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
