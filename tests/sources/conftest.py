"""The warehouse fixtures: a private PostgreSQL holding the realdata vendor tables (tests/sources/warehouse.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sources.warehouse import REALDATA, Warehouse, build
from tests.state.pg import Cluster, start_cluster


@pytest.fixture(scope="session")
def warehouse_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of this test session (skips where Debian's PostgreSQL binaries are absent)."""
    yield from start_cluster()


@pytest.fixture(scope="session")
def warehouse(warehouse_cluster: Cluster) -> Warehouse:
    """The warehouse database, its password-protected reader and, where realdata is here, the vendor tables."""
    return build(warehouse_cluster)


@pytest.fixture(scope="session")
def warehouse_url(warehouse: Warehouse) -> str:
    """The reader's SQLAlchemy URL to the warehouse holding the realdata tables (skips without realdata)."""
    if not warehouse.loaded:
        pytest.skip(f"the realdata vendor tables are not here ({REALDATA} is absent): the warehouse is empty")
    return warehouse.url
