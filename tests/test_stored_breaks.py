"""The ownership breaks stored at commit (tieout.store.breaks) are the ones found in the source history, and a
registry edited since is read as the history reads it."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import new_project, run_days
from tests.ownership.helpers import with_registry
from tests.test_show_timeline import WORLD
from tieout.config import load_project
from tieout.store import breaks
from tieout.store.manifest import MANIFEST, days_dir, read
from tieout.timeline import Edits, ownership_edits

RENAMED_ON = date(2026, 1, 21)  # billing renames the customer, a field the CRM owns


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = new_project(tmp_path_factory.mktemp("breaks") / "p", WORLD)
    run_days(project, "2026-01-23", "2026-01-20", "2026-01-22", "2026-01-21")  # out of order
    return project


def _found_in_history(project: Path) -> Edits:
    """`ownership_edits` of a copy of the project whose manifest names no stored breaks (a store from before)."""
    copy = project.parent / f"{project.name}-derived"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(project, copy)
    path = days_dir(load_project(copy)) / MANIFEST
    body = json.loads(path.read_text())
    del body["ownership"]
    path.write_text(json.dumps(body))
    return ownership_edits(load_project(copy))


def test_the_stored_breaks_are_the_ones_in_the_history(world: Path) -> None:
    p = load_project(world)
    stored = breaks.read(p, read(p).ownership)
    assert sorted(stored) == [date(2026, 1, d) for d in (20, 21, 22, 23)]
    assert [(e["canonical_id"], e["system"], e["field"], e["old"], e["new"]) for e in stored[RENAMED_ON][1]] == [
        ("ACME", "billing", "legal_name", "Acme Analytics Inc.", "Acme Analytix Inc.")]
    edits = ownership_edits(p)
    assert set(edits) == {("ACME", RENAMED_ON)}  # renaming it back agrees with the owner: not a break
    assert edits == _found_in_history(world)


def test_any_order_stores_the_same_breaks(world: Path, tmp_path: Path) -> None:
    in_order = new_project(tmp_path / "in-order", WORLD)
    run_days(in_order, *sorted(WORLD))
    assert read(load_project(in_order)).ownership == read(load_project(world)).ownership


def test_a_registry_edited_since_is_read_from_the_history(world: Path, tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(world, project)
    # Billing now owns the legal name: its rename is no longer a break, the CRM's copy is not edited.
    with_registry(project, "fields:\n  legal_name:\n    kind: name\n"
                           "    held_in: {crm: accounts.legal_name, billing: customers.name}\n    owner: billing\n")
    p = load_project(project)
    assert breaks.read(p, read(p).ownership)[RENAMED_ON][1]  # stored with the registry of the run…
    assert ownership_edits(p) == {} == _found_in_history(project)  # …and not read with this one


def test_stored_values_read_back_as_the_history_gives_them(tmp_path: Path) -> None:
    p = load_project(new_project(tmp_path / "p", {}))
    days_dir(p).mkdir(parents=True)
    values = ["Acme", 50, Decimal("120000.0000"), date(2026, 1, 20), None, True,
              datetime(2026, 1, 20, 23, 0, tzinfo=ZoneInfo("Europe/Berlin"))]
    edits = [{"canonical_id": "ACME", "day": RENAMED_ON, "system": "billing", "field": "legal_name",
              "column": "customers.name", "source_id": "cus_1", "old": v, "new": values[0], "owner_system": "crm"}
             for v in values]
    name = breaks.write(p, None, [RENAMED_ON], [RENAMED_ON], lambda days, stored: {RENAMED_ON: edits})
    _, got = breaks.read(p, name)[RENAMED_ON]
    assert got == edits
    assert [type(e["old"]) for e in got] == [type(v) for v in values]
    assert [list(e) for e in got] == [list(e) for e in edits]  # in the order the edits list their keys
    # A value tieout could not write back exactly is not stored: readers find that day in the history.
    odd = breaks.write(p, name, [RENAMED_ON], [RENAMED_ON], lambda days, stored: {RENAMED_ON: [
        {**edits[0], "old": 1.5 + 0j}]})
    assert breaks.read(p, odd) == {}
