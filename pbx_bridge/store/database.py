"""Engine creation and migrations: the one place that knows the database URL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from pbx_bridge.private_files import private_dir

MIGRATIONS = Path(__file__).parent / "migrations"


# A database that does not answer must fail a write in seconds, so the record spools at once.
CONNECT_TIMEOUT_SECONDS = 5


def make_engine(url: str) -> AsyncEngine:
    options: dict[str, Any] = {}
    if make_url(url).get_driver_name() == "asyncpg":
        options["connect_args"] = {"timeout": CONNECT_TIMEOUT_SECONDS}
    # hide_parameters: an error's text (logged) never carries the statement's values, which
    # include callers' numbers.
    engine = create_async_engine(url, pool_pre_ping=True, hide_parameters=True, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the CLI read while the controller writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    # Deleted and overwritten content is zeroed, so a purged number is not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def sessions(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    if engine.dialect.name == "sqlite" and engine.url.database:
        # 0700: the database holds callers' numbers.
        await asyncio.to_thread(private_dir, Path(engine.url.database).parent)
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
