"""The security battery's fixtures: the hostile world (`tests.security.hostile`, built once per run and
shared by every xdist worker under a file lock; tests only read it, a test that writes works on a copy) and
the state suite's two databases. The web app with a clock is `tests.security.web_app`."""

from __future__ import annotations

import pytest

from tests.conftest import built_once
from tests.security.hostile import HOSTILE, World, build
from tests.state.conftest import backend, pg_cluster  # noqa: F401 - SQLite and PostgreSQL, as the state suite


@pytest.fixture(scope="session")
def hostile_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(built_once(tmp_path_factory, "hostile-world", build), list(HOSTILE))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test over the hostile world is `slow`: building and reconciling it takes 15 s or more on two
    busy cores. The unit tests of each fix (no world) stay in `make test-fast`."""
    for item in items:
        if "hostile_world" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
