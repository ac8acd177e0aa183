"""Fixtures of the entity tests."""

from __future__ import annotations

import duckdb
import pytest


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    yield c
    c.close()
