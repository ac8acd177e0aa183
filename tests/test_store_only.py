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
from tieout.systems import CATALOGUE
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


def _more_subjects(project: Path) -> tuple[list[str], list[str]]:
    """One exception of each rule about a record of no entity, and the entities a record of the last day names
    among its candidates (an ambiguous record belongs to each one's story)."""
    found = _json(project, "exceptions", "--status", "all")
    records = sorted({e["rule"]: e["id"] for e in found if not e["canonical_id"] and e["source_id"]}.values())
    con = open_day(load_project(project), date.fromisoformat(LAST), tables=["source_records"])
    named = [c for (c,) in con.execute("SELECT DISTINCT unnest(candidates) AS c FROM source_records ORDER BY c")
             .fetchall()]
    con.close()
    assert records and named, "the demo world has exceptions about records of no entity, and ambiguous records"
    return records, named[:2]


def test_a_story_read_from_its_subjects_rows_is_the_story_of_the_whole_day(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A story's day is loaded only as far as the story asks (`PartDay`: its entities' and records' rows, where
    a day may hold millions): every `tieout show` and every story page reads the same as from the whole day
    (`open_day`, what the stories read before)."""
    from tieout.errors import StoreError
    from tieout.record_versions import DayReader

    ids, entity = _subjects(project)
    records, named = _more_subjects(project)

    def stories() -> dict[str, Any]:
        out: dict[str, Any] = {i: _json(project, "show", i) for i in [*ids, *records, entity, *named]}
        for ident in [*ids, *records, *named]:
            out[f"{ident} as of {FIRST}"] = invoke("show", ident, "-p", str(project), "--as-of", "2026-02-01").output
        return {**out, **_web(project, [*ids, *records], entity), **_web(project, [], named[0])}

    def whole_day(self: DayReader, day: date, entities: Any = (), records: Any = ()) -> Any:
        if day not in self._open:
            try:
                self._open[day] = open_day(self.project, day, normalisers=self.normalisers)  # type: ignore[assignment]
            except StoreError as e:
                self._open[day] = f"the store cannot give back the records of {day}: {e}"
        return self._open[day]

    part = stories()
    monkeypatch.setattr(DayReader, "get", whole_day)
    whole = stories()
    assert part.keys() == whole.keys()
    for key in whole:
        assert part[key] == whole[key], key


def test_a_part_day_loads_the_rows_of_what_is_asked_and_no_other(project: Path) -> None:
    from tieout.store import PartDay

    world, day = load_project(project), date.fromisoformat(LAST)
    whole = open_day(world, day)
    _, entity = _subjects(project)
    (other,) = whole.execute("SELECT min(canonical_id) FROM source_records WHERE canonical_id <> ?",
                             [entity]).fetchone()  # type: ignore[misc]
    (account,) = whole.execute("SELECT min(account_id) FROM crm_accounts WHERE account_id NOT IN "
                               "(SELECT source_id FROM source_records WHERE canonical_id IN (?, ?))",
                               [entity, other]).fetchone()  # type: ignore[misc]

    def rows(con: Any, where: str = "true", params: Any = None) -> dict[str, list[Any]]:
        return {t: sorted(con.execute(f"SELECT * FROM {t} WHERE {where.format(id=s.id_column)}", params).fetchall(),
                          key=repr)
                for s in CATALOGUE for t in (s.record_table, s.child_table)}

    # the records of both entities and the account
    mine = "{id} IN (SELECT source_id FROM source_records WHERE canonical_id IN ($1, $2)) OR {id} = $3"
    part = PartDay(world, day, normalisers=False)
    try:
        assert part.con.execute("SELECT count(*) FROM crm_accounts").fetchone() == (0,)
        assert part.load([entity]) is part.con
        part.load([other], [("crm", account)])
        part.load([entity])  # asked again: loaded once
        want = rows(whole, mine, [entity, other, account])
        assert rows(part.con) == want
        assert all(want.values()) and sum(map(len, want.values())) < whole.execute(
            "SELECT count(*) FROM ops_usage").fetchone()[0] / 10  # type: ignore[index]
        assert (part.con.execute("SELECT count(*) FROM source_records").fetchone()
                == whole.execute("SELECT count(*) FROM source_records").fetchone())
    finally:
        part.close()
        whole.close()
