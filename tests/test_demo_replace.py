"""`tieout demo DIR` over an earlier demo: arguments are checked and the new world written before anything is
deleted, and a demo that holds a state database (users, corrections, logs) or someone's files is never replaced.

Issue 11: `tieout demo DIR --days 30` deleted the earlier demo, users and logs included, then failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import invoke, tree_digest


def _earlier_demo(root: Path) -> Path:
    """A folder shaped like an earlier demo: what `tieout demo` writes, with a stored day."""
    folder = root / "demo"
    (folder / "exports" / "2026-01-01").mkdir(parents=True)
    (folder / "exports" / "2026-01-01" / "crm_accounts.csv").write_text("account_id\nA1\n")
    (folder / "tieout.yml").write_text("exports: exports/{date}\nentity_map: entity_map.csv\n")
    (folder / "entity_map.csv").write_text("canonical_id,source_system,source_id,effective_from,effective_to\n")
    (folder / "planted.json").write_text("[]\n")
    (folder / "natural_keys.json").write_text("[]\n")
    (folder / ".tieout" / "days").mkdir(parents=True)
    (folder / ".tieout" / "days" / "manifest.json").write_text('{"days": []}\n')
    return folder


@pytest.mark.parametrize(("option", "value"), [("--days", "30"), ("--companies", "20")])
def test_arguments_the_world_cannot_take_are_refused_before_anything_is_deleted(
        tmp_path: Path, option: str, value: str) -> None:
    folder = _earlier_demo(tmp_path)
    (folder / ".tieout" / "state.db").write_bytes(b"users, corrections and logs")
    before = tree_digest(folder)

    result = invoke("demo", str(folder), option, value)

    assert result.exit_code == 2, result.output
    assert option in result.output
    assert tree_digest(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # nothing staged is left behind


@pytest.mark.parametrize("state", ["state.db", "state.db-wal"])
def test_an_earlier_demo_with_a_state_database_is_kept(tmp_path: Path, state: str) -> None:
    folder = _earlier_demo(tmp_path)
    (folder / ".tieout" / state).write_bytes(b"users, corrections and logs")
    before = tree_digest(folder)

    result = invoke("demo", str(folder))

    assert result.exit_code == 3, result.output
    assert "state database" in result.output and "nothing changed" in result.output
    assert tree_digest(folder) == before


def test_an_earlier_demo_with_files_someone_added_is_kept(tmp_path: Path) -> None:
    folder = _earlier_demo(tmp_path)
    (folder / "my-notes.md").write_text("mine\n")
    before = tree_digest(folder)

    result = invoke("demo", str(folder))

    assert result.exit_code == 3, result.output
    assert "my-notes.md" in result.output
    assert tree_digest(folder) == before


def test_a_failure_while_writing_the_new_world_leaves_the_earlier_demo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tieout.demo

    folder = _earlier_demo(tmp_path)
    before = tree_digest(folder)

    def half_written(directory: Path, **_: object) -> None:
        (directory / "exports").mkdir(parents=True)
        raise OSError("disk full")

    monkeypatch.setattr(tieout.demo, "generate_world", half_written)
    with pytest.raises(OSError, match="disk full"):
        invoke("demo", str(folder))

    assert tree_digest(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_an_earlier_demo_is_replaced_once_the_new_world_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tieout.demo
    from tieout.cli import project

    folder = _earlier_demo(tmp_path)
    seen: list[bool] = []

    def written(directory: Path, **_: object) -> list[object]:
        seen.append((folder / "planted.json").is_file())  # the earlier demo is still there while writing
        directory.mkdir(parents=True)
        (directory / "planted.json").write_text('["new"]\n')
        raise RuntimeError("stop")  # before the swap: only the order is under test here

    monkeypatch.setattr(tieout.demo, "generate_world", written)
    with pytest.raises(RuntimeError, match="stop"):
        invoke("demo", str(folder))
    assert seen == [True]
    assert (folder / "planted.json").read_text() == "[]\n"

    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "planted.json").write_text('["new"]\n')
    project._replace_with(folder, staged)
    assert (folder / "planted.json").read_text() == '["new"]\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]
