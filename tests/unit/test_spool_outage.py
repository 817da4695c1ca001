"""A database outage loses no call record: records spool and are written when it returns.

Against a real PostgreSQL of the test's own, stopped with `pg_ctl stop -m fast` mid-test.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.screening.model import Call
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.database import make_engine, migrate
from pbx_bridge.store.models import CallEvent, CallRecord
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.spool import CallSpool
from pbx_bridge.store.writer import SpoolingWriter
from pbx_bridge.web.api import Health
from tests.support.api import build_api
from tests.support.calls import T0, ended_call
from tests.support.postgres import PostgresCluster, start_cluster

DATABASE_NUMBERS = itertools.count()


def ended(channel_id: str, minute: int, seconds_on_line: float = 15) -> Call:
    return ended_call(channel_id, seconds_on_line, T0 + timedelta(minutes=minute))


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL of this module's own: the outage test stops and starts it."""
    own = start_cluster()
    yield own
    own.remove()


@pytest.fixture
async def engine(cluster: PostgresCluster) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(cluster.create_database(f"outage_{next(DATABASE_NUMBERS)}"))
    await migrate(engine)
    yield engine
    await engine.dispose()


async def answers(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def writer_for(engine: AsyncEngine, spool_file: Path) -> SpoolingWriter:
    return SpoolingWriter(
        CallRepository(engine, judge_by(Thresholds())), await CallSpool.open(spool_file)
    )


async def health(engine: AsyncEngine, writer: SpoolingWriter) -> dict[str, object]:
    """What /health says about the store."""

    async def database() -> bool:
        return await answers(engine)

    checks = Health(lambda: True, lambda: True, database, spooled=lambda: writer.spooled)
    api = await build_api(engine, calls=0, users=False, health=checks)
    async with TestClient(TestServer(api.app)) as client:
        body = await (await client.get("/health")).json()
    return {"database": body["database"], "spooled": body["spooled"]}


async def stored(engine: AsyncEngine) -> dict[str, int]:
    """Each stored call id with the number of its timeline entries."""
    query = (
        select(CallRecord.id, func.count(CallEvent.seq))
        .join(CallEvent, CallEvent.call_id == CallRecord.id)
        .group_by(CallRecord.id)
    )
    async with engine.connect() as connection:
        return {row[0]: row[1] for row in await connection.execute(query)}


async def test_calls_that_end_while_postgresql_is_down_are_written_when_it_returns(
    cluster: PostgresCluster, engine: AsyncEngine, tmp_path: Path
) -> None:
    writer = await writer_for(engine, tmp_path / "spool" / "calls.jsonl")
    for index in range(3):
        await writer.save(ended(f"before-{index}", index))
    assert writer.spooled == 0

    cluster.stop()
    assert not await answers(engine)
    for index in range(5):
        await writer.save(ended(f"during-{index}", 10 + index))  # nothing raises to the caller
    await writer.save(ended("before-0", 0, seconds_on_line=2))  # a newer version of a stored call
    assert writer.spooled == 6
    assert await writer.drain() == 0  # still down: the spool keeps everything, in order
    assert await health(engine, writer) == {"database": False, "spooled": 6}

    cluster.start()
    await writer.save(ended("after-0", 30))  # queues behind the spooled records
    assert writer.spooled == 7
    assert await writer.drain() == 7
    assert await health(engine, writer) == {"database": True, "spooled": 0}

    expected = {f"before-{i}" for i in range(3)} | {f"during-{i}" for i in range(5)} | {"after-0"}
    entries = len(ended("x", 0).timeline)
    assert await stored(engine) == dict.fromkeys(expected, entries)  # each once, with its timeline
    views = {view.id: view for view in await CallRepository(engine, judge_by(Thresholds())).list()}
    assert views["before-0"].validity == "invalid"  # the newest version won
    assert views["during-4"].arrived_at == T0 + timedelta(minutes=14)
    assert (tmp_path / "spool" / "calls.jsonl").read_text() == ""


SPOOL_IN_ANOTHER_PROCESS = """
import asyncio, sys
from datetime import UTC, datetime
from pathlib import Path
from pbx_bridge.screening.model import Call, TimelineEntry
from pbx_bridge.store.spool import CallSpool
from pbx_bridge.screening.outcome import judge_by

async def main() -> None:
    spool = await CallSpool.open(Path(sys.argv[1]))
    for index in range(3):
        at = datetime(2026, 11, 25, 9, index, tzinfo=UTC)
        await spool.append(Call(f"earlier-{index}", "0812", "", at,
                                timeline=(TimelineEntry(at, "arrived"),)))

asyncio.run(main())
"""


@pytest.fixture
def spool_left_by_another_process(tmp_path: Path) -> Path:
    spool_file = tmp_path / "spool" / "calls.jsonl"
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SPOOL_IN_ANOTHER_PROCESS), str(spool_file)],
        check=True,
        timeout=60,
    )
    return spool_file


async def test_a_spool_left_by_an_earlier_process_is_written_after_a_restart(
    engine: AsyncEngine, spool_left_by_another_process: Path
) -> None:
    writer = await writer_for(engine, spool_left_by_another_process)
    assert writer.spooled == 3
    assert await writer.drain() == 3
    assert set(await stored(engine)) == {"earlier-0", "earlier-1", "earlier-2"}


async def test_a_record_the_database_refuses_is_set_aside_and_the_rest_go_on(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    spool = await CallSpool.open(tmp_path / "calls.jsonl")
    refused = replace(ended("refused", 1), channel_id="x" * 100)  # longer than calls.id
    for call in (ended("first", 0), refused, ended("last", 2)):
        await spool.append(call)

    writer = SpoolingWriter(CallRepository(engine, judge_by(Thresholds())), spool)
    assert await writer.drain() == 2
    assert set(await stored(engine)) == {"first", "last"}
    assert writer.spooled == 0
    assert "x" * 100 in spool.rejected_path.read_text()
