"""Numbers are purged after the retention; the agencies file is checked; the migration
matches the models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.dispatch.agencies import AgencyConfigError, load_agencies, parse_agencies
from pbx_bridge.dispatch.model import Category
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.database import make_engine, migrate, sessions
from pbx_bridge.store.models import Base, Callback
from pbx_bridge.store.privacy import PrivacyRepository
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.users import Role, UserRepository, hash_token
from tests.support.calls import T0, ended_call


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


async def test_numbers_older_than_the_retention_are_blanked_on_calls_and_callbacks(
    engine: AsyncEngine,
) -> None:
    calls = CallRepository(engine, judge_by(Thresholds()))
    await calls.save(ended_call("old", arrived=T0 - timedelta(days=91)))
    await calls.save(ended_call("new", arrived=T0 - timedelta(days=89)))
    # Both callers gave up in the queue: each has a callback (made when its record was saved).
    result = await PrivacyRepository(engine).purge_numbers(90, now=T0)
    assert (result.calls, result.callbacks) == (1, 1)
    numbers = {view.id: view.caller_number for view in await calls.list()}
    assert numbers == {"old": "", "new": "081234567890"}
    async with sessions(engine)() as session:
        rows = (await session.execute(select(Callback.call_id, Callback.caller_number))).all()
        assert dict(rows) == {"old": "", "new": "081234567890"}
    again = await PrivacyRepository(engine).purge_numbers(90, now=T0)
    assert (again.calls, again.callbacks) == (0, 0)


async def test_users_keep_only_a_hash_of_their_token(engine: AsyncEngine) -> None:
    users = UserRepository(engine)
    token = await users.add("ani", Role.AGENCY, "dinkes")
    found = await users.by_token(token)
    assert found is not None
    assert (found.name, found.role, found.agency) == ("ani", Role.AGENCY, "dinkes")
    assert await users.by_token(token + "x") is None
    async with engine.connect() as connection:
        stored = (await connection.exec_driver_sql("SELECT token_hash FROM users")).scalar()
    assert stored == hash_token(token)
    assert token not in str(stored)


DISPATCH_TABLES = {
    "incidents",
    "incident_calls",
    "call_closures",
    "handoffs",
    "incident_events",
    "users",
    "number_views",
}


def _table(difference: Any) -> str:
    """The table an autogenerate difference is about (its shapes vary by kind)."""
    first = difference[0] if isinstance(difference, list) else difference
    for part in first[1:]:
        if isinstance(part, str) and part in DISPATCH_TABLES:
            return part
        if isinstance(part, Table):
            return part.name
        table = getattr(part, "table", None)
        if isinstance(table, Table):
            return table.name
    return ""


async def test_migration_0004_creates_exactly_the_dispatch_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert [d for d in differences if _table(d) in DISPATCH_TABLES] == []


def test_the_shipped_agencies_route_every_category() -> None:
    agencies = load_agencies()
    assert set(agencies.routes) == set(Category)
    assert agencies.route(Category.FIRE).primary == "damkar"
    assert agencies.route(Category.ACCIDENT).second == "police"
    assert agencies.route(Category.OTHER).primary == "satpol_pp"


def test_a_bad_agencies_file_names_the_key_at_fault(tmp_path: Path) -> None:
    base = load_agencies()
    routes = {c.value: {"primary": r.primary} for c, r in base.routes.items()}
    data = {"agencies": dict(base.names), "routes": routes}
    with pytest.raises(AgencyConfigError, match=r"routes\.fire\.primary = 'army'"):
        parse_agencies({**data, "routes": {**routes, "fire": {"primary": "army"}}})
    with pytest.raises(AgencyConfigError, match=r"routes\.hearse needs a primary"):
        parse_agencies({**data, "routes": {k: v for k, v in routes.items() if k != "hearse"}})
    with pytest.raises(AgencyConfigError, match=r"routes\.volcano is not a category"):
        parse_agencies({**data, "routes": {**routes, "volcano": {"primary": "bpbd"}}})
    broken = tmp_path / "agencies.toml"
    broken.write_text("[routes\n")
    with pytest.raises(AgencyConfigError, match="not valid TOML"):
        load_agencies(broken)
