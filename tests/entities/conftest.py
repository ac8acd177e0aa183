"""Fixtures of the entity tests; makes `src/` importable when the package is not installed in the venv."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

try:
    import tieout  # noqa: F401
except ImportError:  # pragma: no cover - depends on how the venv was built
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    yield c
    c.close()
