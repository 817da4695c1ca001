"""The store's fixtures: every store test runs against SQLite and a real, throwaway PostgreSQL.

With CI=true a missing PostgreSQL fails the run loudly; elsewhere the PostgreSQL half skips and
says how to install it.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.store.database import make_engine, migrate
from tests.support.postgres import PostgresCluster, start_cluster

BACKENDS = ["sqlite", "postgresql"]
_database_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One cluster for the session's store tests (the outage tests start their own)."""
    cluster = start_cluster()
    yield cluster
    cluster.remove()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store' / 'calls.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.create_database(f"test_{next(_database_numbers)}")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()
