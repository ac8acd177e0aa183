"""The store is the only way to read a past day: once a project is backfilled, deleting its `exports/` folder
changes nothing any read command or page gives — the exceptions, a story (its records side by side and what
changed on its first day), an entity, the history of its records, the timeline, the patterns, the golden record,
the entities and their resolution, the three reports and the web pages (exception, entity, corrections).

And a day opened from the store is the day a run loaded: the same tables, columns, types and rows as reading
its exports again."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_FIRST, DEMO_LAST, backfilled_demo, invoke
from tieout.config import load_project
from tieout.ingest import resolve_day
from tieout.store import DAY_TABLES, open_day
from tieout.web.app import create_app

pytestmark = pytest.mark.slow

FIRST, LAST = DEMO_FIRST, DEMO_LAST


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the backfilled demo world of its own: this module deletes its exports."""
    built = backfilled_demo(tmp_path_factory)
    copy = tmp_path_factory.mktemp("store-only") / "world"
    shutil.copytree(built, copy)
    return copy


def _out(project: Path, *args: str) -> str:
    result = invoke(*args, "-p", str(project))
    assert result.exit_code == 0, result.output
    return result.stdout


def _json(project: Path, *args: str) -> Any:
    return json.loads(_out(project, *args, "--format", "json"))


def _subjects(project: Path) -> tuple[list[str], str]:
    """Exceptions whose story reads the store — records side by side on their last day, what changed on their
    first day, with a day stored before it — and the entity with the most of them."""
    found = _json(project, "exceptions", "--status", "all")
    later = [e for e in found if e["first_seen"] > FIRST and e["canonical_id"]]
    assert later, "the demo world raises exceptions after its first day"
    by_entity: dict[str, int] = {}
    for e in later:
        by_entity[e["canonical_id"]] = by_entity.get(e["canonical_id"], 0) + 1
    per_rule = {e["rule"]: e["id"] for e in later}  # one exception of each rule
    return sorted(per_rule.values()), max(sorted(by_entity), key=lambda c: by_entity[c])


def _web(project: Path, ids: list[str], entity: str) -> dict[str, str]:
    # A new app each time: its readings are cached per version of the store, which deleting exports keeps.
    with TestClient(create_app(load_project(project), auth=False)) as client:
        pages = {"/corrections", f"/entities/{entity}", "/ownership", *(f"/exceptions/{i}" for i in ids)}
        out = {}
        for page in sorted(pages):
            response = client.get(page)
            assert response.status_code == 200, (page, response.text[:500])
            out[page] = response.text
        for api in (f"/api/entities/{entity}", *(f"/api/exceptions/{i}" for i in ids)):
            response = client.get(api)
            assert response.status_code == 200, (api, response.text[:500])
            out[api] = response.text
        return out


def _everything(project: Path, ids: list[str], entity: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "exceptions": _json(project, "exceptions", "--status", "all"),
        "timeline": _json(project, "timeline"),
        "timeline text": _out(project, "timeline"),
        "patterns": _json(project, "patterns"),
        "golden": _out(project, "golden", "--format", "json"),
        "golden as of a past day": _out(project, "golden", "--format", "json", "--as-of", "2026-02-01"),
        "ownership check": _out(project, "ownership", "check"),
        "entities": _json(project, "entities"),
        "entities of a past day": _json(project, "entities", "--as-of", "2026-02-01"),
        "entity": _json(project, "show", entity),
        "entity text": _out(project, "show", entity),
        "history": _json(project, "history", entity),
        "daily": _out(project, "report", "daily", "--as-of", LAST, "--format", "json"),
        "weekly": _out(project, "report", "weekly", "--as-of", LAST, "--format", "json"),
        "monthly": _out(project, "report", "monthly", "--period", "2026-02", "--format", "json"),
        "monthly md": _out(project, "report", "monthly", "--period", "2026-02"),
        "web": _web(project, ids, entity),
    }
    for ident in ids:
        out[f"show {ident}"] = _json(project, "show", ident)
        out[f"show {ident} text"] = _out(project, "show", ident)
    return out


def test_deleting_the_exports_changes_no_read(project: Path) -> None:
    ids, entity = _subjects(project)
    before = _everything(project, ids, entity)
    stories = [before[f"show {i}"] for i in ids]
    # The stories read records and changes from the store: nothing in them is "unavailable".
    assert all(s["records"]["unavailable"] is None for s in stories)
    assert any(s["first_day"]["unavailable"] is None and s["first_day"]["changes"] for s in stories)
    assert before["entity"]["source_records"] and before["history"]["records"]
    assert json.loads(before["monthly"])["active_customers"]["crm"] > 0

    shutil.rmtree(project / "exports")

    after = _everything(project, ids, entity)
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], key


def test_a_stored_day_opens_as_its_exports_load(tmp_path_factory: pytest.TempPathFactory) -> None:
    world = load_project(backfilled_demo(tmp_path_factory))
    for day in (date.fromisoformat(FIRST), date(2026, 2, 1), date.fromisoformat(LAST)):
        read, _ = resolve_day(world, day)
        stored = open_day(world, day)
        for table in DAY_TABLES:
            assert stored.sql(f"DESCRIBE {table}").fetchall() == read.sql(f"DESCRIBE {table}").fetchall(), table
            # Timestamps as text: comparing them as Python values needs pytz, which tieout does not depend on.
            rows = f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM {table}"
            got, want = stored.sql(rows).fetchall(), read.sql(rows).fetchall()
            assert sorted(got, key=repr) == sorted(want, key=repr) and want, table
        read.close()
        stored.close()


def test_a_story_is_the_same_whatever_order_its_days_rows_load_in(project: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A story's day is loaded in no particular order (`open_day(ordered=False)`: the sort was most of a large
    day's load): every `tieout show` and every story page reads the same with that day's rows in key order and
    in the reverse."""
    import tieout.store.open as opening
    from tieout import record_versions

    ids, entity = _subjects(project)

    def stories() -> dict[str, Any]:
        out: dict[str, Any] = {i: _json(project, "show", i) for i in [*ids, entity]}
        return {**out, **_web(project, ids, entity)}

    load, order = opening.open_day, opening._order
    monkeypatch.setattr(record_versions, "open_day", lambda *a, **k: load(*a, **{**k, "ordered": True}))
    ascending = stories()
    monkeypatch.setattr(opening, "_order", lambda table: " DESC, ".join(order(table).split(", ")) + " DESC")
    descending = stories()
    assert ascending.keys() == descending.keys()
    for key in ascending:
        assert descending[key] == ascending[key], key
