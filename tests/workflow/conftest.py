"""A one-day project with a team of people; workflow tests act on hand-made targets (no reconciled world)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import new_project
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


@pytest.fixture
def people_project(tmp_path: Path) -> Project:
    project = load_project(new_project(tmp_path / "p", {"2026-01-20": {}}))
    for name, (role, teams) in PEOPLE.items():
        add_user(project, name, role, PASSWORD, teams)
    return project


@pytest.fixture(autouse=True)
def _close_engines() -> Iterator[None]:
    yield
    from tieout.state import dispose_all

    dispose_all()
