"""The state store: where it is, how it is opened, and its migrations (SQLite and Postgres)."""

from __future__ import annotations

import multiprocessing.synchronize
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import invoke, new_project
from tests.state.processes import run_together
from tieout import state
from tieout.config import Project, load_project
from tieout.errors import ConfigError
from tieout.state import engine as state_engine
from tieout.state.tables import metadata


def test_default_is_sqlite_in_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(state.ENV_URL, raising=False)
    project = load_project(new_project(tmp_path, {}))
    assert state.state_url(project) == f"sqlite:///{(tmp_path / '.tieout' / 'state.db').absolute()}"
    assert not state.exists(project) and not state.may_exist(project)
    state.engine_for(project)
    assert (tmp_path / ".tieout" / "state.db").is_file()
    assert state.exists(project) and state.may_exist(project)


def test_environment_overrides_the_file_and_postgres_gets_psycopg(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    project = load_project(new_project(tmp_path, {}, yml="state_url: sqlite:///elsewhere/state.db\n"))
    monkeypatch.delenv(state.ENV_URL, raising=False)
    assert state.state_url(project) == f"sqlite:///{(tmp_path / 'elsewhere' / 'state.db').absolute()}"
    monkeypatch.setenv(state.ENV_URL, "postgresql://ana:secret@db.internal:5433/recon")
    assert state.state_url(project) == "postgresql+psycopg://ana:secret@db.internal:5433/recon"
    assert not state.is_sqlite(project)


@pytest.mark.parametrize("url", ["mysql://x/y", "not a url"])
def test_unsupported_state_url_is_a_configuration_error(tmp_path: Path, url: str) -> None:
    project_dir = new_project(tmp_path, {}, yml=f"state_url: '{url}'\n")
    result = invoke("corrections", "-p", str(project_dir))
    assert result.exit_code == 3
    assert "state_url" in result.output


def test_unreachable_server_is_a_configuration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(state.ENV_URL, f"postgresql://nobody@/x?host={tmp_path}&port=1&connect_timeout=2")
    project = load_project(new_project(tmp_path, {}))
    with pytest.raises(ConfigError, match="cannot open or migrate"):
        state.engine_for(project)


def test_sqlite_is_wal_with_a_busy_timeout(tmp_path: Path) -> None:
    project = load_project(new_project(tmp_path, {}))
    with state.open(project) as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == state_engine.BUSY_TIMEOUT_MS


def test_a_reader_is_not_blocked_by_a_writer(tmp_path: Path) -> None:
    project = load_project(new_project(tmp_path, {}))
    with state.open(project, write=True) as writer:
        writer.execute(text("UPDATE log_heads SET seq = 99 WHERE log = 'corrections'"))
        # A second connection reads while the first holds the write lock (WAL): no wait, the committed value.
        with state.engine_for(project).connect() as reader:
            assert reader.execute(text("SELECT seq FROM log_heads")).scalar() == 0
    with state.open(project) as reader:
        assert reader.execute(text("SELECT seq FROM log_heads")).scalar() == 99


def test_head_revision_constant_matches_the_migrations() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(state_engine.MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == state_engine.HEAD_REVISION


def test_migrated_schema_matches_the_tables(state_project: Project) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with state.open(state_project) as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == \
            state_engine.HEAD_REVISION
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_migrating_twice_is_a_no_op(state_project: Project) -> None:
    engine = state.engine_for(state_project)
    state_engine._upgrade(engine)  # as a second process would, even past the fast path
    with state.open(state_project) as connection:
        assert connection.execute(text("SELECT count(*) FROM log_heads")).scalar() == 2  # corrections and audit
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


def _open_at_once(project_dir: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    project = load_project(project_dir)
    barrier.wait()
    state.engine_for(project)


def test_processes_migrating_a_new_database_at_once(project_dir: Path, backend: str | None) -> None:
    # Four, not two: SQLite's refusal of a racing switch to WAL (`_write_ahead_log`) showed in about one start in
    # six with four processes, rarely with two.
    outcomes = run_together(_open_at_once, *[(str(project_dir),)] * 4)
    assert outcomes == ["ok"] * 4, "\n".join(outcomes)
    with state.open(load_project(project_dir)) as connection:
        assert connection.execute(text("SELECT log, seq FROM log_heads ORDER BY log")).all() == \
            [("audit", 0), ("corrections", 0)]
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == \
            [(state_engine.HEAD_REVISION,)]


def test_a_database_from_a_newer_tieout_is_refused(state_project: Project) -> None:
    with state.open(state_project, write=True) as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    state.dispose_all()
    with pytest.raises(ConfigError, match="newer tieout"):
        state.engine_for(state_project)
