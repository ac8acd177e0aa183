"""A run keeps the validated entity map in the store and reads it back while the file is byte for byte the same;
any other map is validated as ever (refused with the same words), and only a run writes the cache."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tieout.entities import entity_map
from tieout.entities.entity_map import load_entity_map
from tieout.errors import InputError

HEADER = "canonical_id,source_system,source_id,effective_from,effective_to,notes\n"
BODY = "B,ops,9,2025-01-01,,\nA,crm,1,2025-01-01,,\nA,billing,c1,2025-01-01,2025-06-30,closed\n" \
       "C,billing,c1,2025-07-01,,merged =HYPERLINK(\"x\")\n"


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute("SELECT rowid, * FROM entity_map ORDER BY rowid").fetchall()


def _loaded(path: Path, **cache: object) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    load_entity_map(con, path, **cache)  # type: ignore[arg-type]
    return _rows(con)


@pytest.fixture
def map_file(tmp_path: Path) -> Path:
    path = tmp_path / "entity_map.csv"
    path.write_text(HEADER + BODY, encoding="utf-8")
    return path


def test_a_run_keeps_the_map_and_reads_it_back_without_validating(map_file: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "store" / "cache"
    validated = _loaded(map_file)
    assert _loaded(map_file, cache=cache, keep=True) == validated
    assert len(list(cache.glob("entity_map.*.parquet"))) == 1

    def refuse(*args: object) -> None:
        raise AssertionError("validated again")

    monkeypatch.setattr(entity_map, "_load_and_validate", refuse)
    again = duckdb.connect()
    load_entity_map(again, map_file, cache=cache, keep=True)
    assert _rows(again) == validated  # the same rows in the same order (a refusal names rowid + 2)
    types = dict(again.execute("SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_name = 'entity_map'").fetchall())
    assert types["effective_from"] == "DATE" and types["effective_to"] == "DATE"


def test_a_changed_map_is_validated_again_and_refused_in_the_same_words(map_file: Path, tmp_path: Path) -> None:
    cache = tmp_path / "store" / "cache"
    _loaded(map_file, cache=cache, keep=True)
    kept = set(cache.glob("entity_map.*.parquet"))
    # One byte more: an overlapping range of a record the kept map holds once.
    map_file.write_text(HEADER + BODY + "D,crm,1,2025-03-01,,\n", encoding="utf-8")
    with pytest.raises(InputError) as cached_run:
        _loaded(map_file, cache=cache, keep=True)
    with pytest.raises(InputError) as plain:
        _loaded(map_file)
    assert str(cached_run.value) == str(plain.value) and "overlapping" in str(plain.value)
    assert set(cache.glob("entity_map.*.parquet")) == kept  # a refused map is not kept
    # A good edit replaces the kept map.
    map_file.write_text(HEADER + BODY + "D,ops,10,2025-03-01,,\n", encoding="utf-8")
    assert _loaded(map_file, cache=cache, keep=True) == _loaded(map_file)
    now = set(cache.glob("entity_map.*.parquet"))
    assert len(now) == 1 and now != kept


def test_only_a_run_writes_the_cache(map_file: Path, tmp_path: Path) -> None:
    cache = tmp_path / "store" / "cache"
    assert _loaded(map_file, cache=cache, keep=False) == _loaded(map_file)
    assert not cache.exists()


def test_an_unreadable_cache_file_is_validated_again(map_file: Path, tmp_path: Path) -> None:
    cache = tmp_path / "store" / "cache"
    validated = _loaded(map_file, cache=cache, keep=True)
    (kept,) = cache.glob("entity_map.*.parquet")
    kept.write_bytes(b"not parquet")
    assert _loaded(map_file, cache=cache, keep=True) == validated
    assert kept.read_bytes()[:4] == b"PAR1"  # kept anew


def test_corrections_and_map_requests_read_the_map_a_run_kept(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`tieout correct` and `tieout entities request` look entities up in the map: at a million companies
    validating it again is seconds of every such command, so they read the map the last run kept."""
    from tests.conftest import run_days
    from tieout.config import load_project
    from tieout.corrections.fields import check_entity
    from tieout.entities.map_requests import _map_rows
    from tieout.errors import NotFound

    run_days(project, "2026-01-20")
    loaded = load_project(project)

    def refuse(*args: object) -> None:
        raise AssertionError("validated again")

    monkeypatch.setattr(entity_map, "_load_and_validate", refuse)
    check_entity(loaded, "ACME", "billing", "cus_1")
    with pytest.raises(NotFound, match="no entity 'NOPE'"):
        check_entity(loaded, "NOPE", "crm", None)
    assert sorted(row[:3] for row in _map_rows(loaded)) == [
        ("ACME", "billing", "cus_1"), ("ACME", "crm", "A1"), ("ACME", "ops", "t-1")]
