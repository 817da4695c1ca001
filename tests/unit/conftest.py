"""The store's fixtures: every store test runs against SQLite and a real, throwaway PostgreSQL.

With CI=true a missing PostgreSQL fails the run loudly; elsewhere the PostgreSQL half skips and
says how to install it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.store.database import make_engine, migrate
from tests.pg import PostgresCluster, PostgresUnavailable

IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", "postgresql"]
_database_numbers = itertools.count()


def postgres_unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the PostgreSQL store tests must run, not skip)")
    pytest.skip(reason)


def start_cluster() -> PostgresCluster:
    try:
        cluster = PostgresCluster.create()
    except PostgresUnavailable as error:
        postgres_unavailable(str(error))
        raise  # unreachable: skip and fail raise
    try:
        cluster.start()
    except RuntimeError:
        cluster.remove()
        raise  # installed but broken: an error, never a skip
    return cluster


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
