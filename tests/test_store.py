"""The store's schema version: created on first write, migrated forward, refused when too new; a damaged store is
exit 11."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import invoke, run_days
from tieout.config import load_project
from tieout.errors import NotFound
from tieout.store import MANIFEST, SCHEMA_VERSION, migrate, open_day, schema_version


def test_first_write_records_the_schema(project: Path) -> None:
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    manifest = json.loads((project / ".tieout" / MANIFEST).read_text())
    assert manifest == {"schema_version": SCHEMA_VERSION}


def test_a_store_from_before_manifests_is_migrated(project: Path) -> None:
    run_days(project, "2026-01-20")
    (project / ".tieout" / MANIFEST).unlink()
    p = load_project(project)
    assert schema_version(p) == 0
    assert migrate(p) == 0
    assert schema_version(p) == SCHEMA_VERSION
    assert invoke("exceptions", "-p", str(project)).exit_code == 0


def test_a_store_from_a_newer_tieout_is_refused(project: Path) -> None:
    run_days(project, "2026-01-20")
    (project / ".tieout" / MANIFEST).write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}))
    for args in (("exceptions",), ("run", "--as-of", "2026-01-20")):
        result = invoke(*args, "-p", str(project))
        assert result.exit_code == 11  # a store error, not a configuration error
        assert "newer tieout" in result.output


# --- a damaged store is a store error (exit 11), never a configuration error ---------------------------------


def _stored(project: Path) -> Path:
    run_days(project, "2026-01-20")
    return project / ".tieout"


def test_an_unreadable_day_manifest_is_a_store_error(project: Path) -> None:
    (_stored(project) / "days" / "manifest.json").write_text("{not json")
    result = invoke("exceptions", "-p", str(project))
    assert result.exit_code == 11 and "manifest.json: not a tieout day manifest" in result.output


@pytest.mark.parametrize("damaged", ["2026-01-20.*.parquet", "episodes.*.parquet"])
def test_an_unreadable_day_file_is_a_store_error(project: Path, damaged: str) -> None:
    store = _stored(project)
    if damaged.startswith("2026"):  # a store from before the stored timeline reads the day files
        manifest = store / "days" / "manifest.json"
        manifest.write_text(json.dumps({k: v for k, v in json.loads(manifest.read_text()).items()
                                        if k != "episodes"}))
    for day_file in (store / "days").glob(damaged):
        day_file.write_bytes(b"not parquet")
    result = invoke("exceptions", "-p", str(project))
    assert result.exit_code == 11 and "a file of the day store cannot be read" in result.output


def test_unreadable_stored_ownership_breaks_are_a_store_error(project: Path) -> None:
    for stored in (_stored(project) / "days").glob("ownership.*.json"):
        stored.write_text("{not json")
    result = invoke("exceptions", "-p", str(project))
    assert result.exit_code == 11 and "ownership" in result.output and "not tieout's" in result.output


def test_an_unreadable_history_state_is_a_store_error(project: Path) -> None:
    (_stored(project) / "history" / "state" / "state.json").write_text("{not json")
    result = invoke("entities", "-p", str(project), "--format", "json")
    assert result.exit_code == 11 and "state.json: not a tieout source history state" in result.output


def test_opening_a_day_that_is_not_stored_is_not_found(project: Path) -> None:
    _stored(project)
    with pytest.raises(NotFound, match="2026-01-19 is not a reconciled day"):
        open_day(load_project(project), date(2026, 1, 19))
