"""A project's first run that fails leaves no trace of itself — and only of itself: the state database, which
another command may create in the project's store folder while the run works, is people's work and stays."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.conftest import invoke, write_day
from tieout import run as run_module
from tieout.config import load_project
from tieout.errors import InputError
from tieout.people.users import add_user, list_users


def _state_written_while_the_run_works(monkeypatch: pytest.MonkeyPatch, project: Path) -> None:
    """Make the run's source history step (the store exists by then) create the state database the way
    `tieout users add` would, then fail as a bad export does."""
    real = run_module.source_history.prepare

    def prepare(*args, **kwargs):  # type: ignore[no-untyped-def]
        real(*args, **kwargs).discard()  # the run has written into the store by now
        add_user(load_project(project), "ana", "admin", "correct horse battery")
        raise InputError("refused for the test", file="exports/2026-01-20/crm_accounts.csv")

    monkeypatch.setattr(run_module.source_history, "prepare", prepare)


def test_a_failed_first_run_keeps_the_state_database(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _state_written_while_the_run_works(monkeypatch, project)
    result = invoke("run", "-p", str(project), "--as-of", "2026-01-20")
    assert result.exit_code == 4, result.output
    store = project / ".tieout"
    # the run's own work is gone; the database and its SQLite companions are all that is left
    assert {p.name for p in store.iterdir()} <= {"state.db", "state.db-wal", "state.db-shm", "state.db-journal"}
    assert "state.db" in {p.name for p in store.iterdir()}
    assert [u.name for u in list_users(load_project(project))] == ["ana"]
    monkeypatch.undo()
    # and the next run starts the store afresh beside it
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 0
    assert [u.name for u in list_users(load_project(project))] == ["ana"]


def test_a_failed_first_backfill_keeps_the_state_database(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_day(project, "2026-01-21")
    loaded = load_project(project)
    real = run_module.prepare_history

    def prepare_history(*args, **kwargs):  # type: ignore[no-untyped-def]
        real(*args, **kwargs).discard()  # the parent has written into the store by now
        add_user(loaded, "ana", "admin", "correct horse battery")
        raise InputError("refused for the test", file="exports/2026-01-21")

    monkeypatch.setattr(run_module, "prepare_history", prepare_history)
    with pytest.raises(InputError):
        run_module.run_days(loaded, [date(2026, 1, 20), date(2026, 1, 21)],
                            rules=run_module.load_rules(loaded), jobs=2)
    assert {p.name for p in (project / ".tieout").iterdir()} <= {"state.db", "state.db-wal", "state.db-shm"}
    assert [u.name for u in list_users(loaded)] == ["ana"]


def test_a_failed_first_run_without_a_state_database_leaves_no_folder(project: Path) -> None:
    (project / "exports" / "2026-01-20" / "ops_usage.csv").unlink()
    assert invoke("run", "-p", str(project), "--as-of", "2026-01-20").exit_code == 4
    assert not (project / ".tieout").exists()
