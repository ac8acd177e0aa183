"""The differential test of issue 12: the demo world exported in the systems' own shapes (Salesforce Data
Loader CSV, Stripe JSON, the product database's CSV, read through `sources:`) gives exactly the findings of the
same world in the standard layout, over a whole backfill — every exception with every field, its timeline and
the entities behind it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DEMO_FIRST, DEMO_LAST, backfilled_demo, invoke

pytestmark = pytest.mark.slow

FIRST, LAST = DEMO_FIRST, DEMO_LAST


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return backfilled_demo(tmp_path_factory), backfilled_demo(tmp_path_factory, vendor=True)


def _json(project: Path, *args: str) -> object:
    result = invoke(*args, "-p", str(project), "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_vendor_shaped_world_raises_exactly_the_standard_worlds_exceptions(worlds: tuple[Path, Path]) -> None:
    standard, vendor = worlds
    found = _json(standard, "exceptions", "--status", "all")
    assert found, "the demo world raises exceptions"
    assert _json(vendor, "exceptions", "--status", "all") == found
    assert _json(vendor, "timeline") == _json(standard, "timeline")


def test_every_planted_case_is_found_in_the_vendor_shapes(worlds: tuple[Path, Path]) -> None:
    _, vendor = worlds
    found = {(e["rule"], e["canonical_id"]) for e in _json(vendor, "exceptions", "--status", "all")}  # type: ignore[union-attr]
    planted = json.loads((vendor / "planted.json").read_text())
    in_window = [p for p in planted if p["first_seen"] <= LAST]
    assert in_window and {(p["rule"], p["canonical_id"]) for p in in_window} <= found


def test_entities_resolve_the_same_way(worlds: tuple[Path, Path]) -> None:
    standard, vendor = worlds
    assert _json(vendor, "entities", "--as-of", LAST) == _json(standard, "entities", "--as-of", LAST)
