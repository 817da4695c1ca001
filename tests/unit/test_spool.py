"""The spool keeps records in order across instances, sets aside what it cannot read, and
carries records over a SQLite database that cannot be opened."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import REGISTRY

from pbx_bridge import metrics
from pbx_bridge.screening.model import Call, TimelineEntry
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.database import make_engine, migrate
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.spool import CallSpool
from pbx_bridge.store.writer import SpoolingWriter

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def call(channel_id: str) -> Call:
    return Call(channel_id, "0812", "", T0, timeline=(TimelineEntry(T0, "arrived"),))


async def test_records_come_back_oldest_first_from_a_new_instance(tmp_path: Path) -> None:
    path = tmp_path / "spool" / "calls.jsonl"
    first = await CallSpool.open(path)
    for channel_id in ("a", "b", "c"):
        await first.append(call(channel_id))
    again = await CallSpool.open(path)
    assert again.depth == 3
    assert [c.channel_id for c in await again.oldest(2)] == ["a", "b"]
    await again.remove_oldest(2)
    assert [c.channel_id for c in await again.oldest(10)] == ["c"]
    assert (await CallSpool.open(path)).depth == 1


async def test_a_line_torn_by_a_crash_is_set_aside_and_appends_go_on(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    spool = await CallSpool.open(path)
    await spool.append(call("a"))
    with path.open("a") as file:
        file.write('{"v": 1, "call": {"channel_id": "torn"')  # no newline: the crash came
    reopened = await CallSpool.open(path)
    assert reopened.depth == 1
    await reopened.append(call("b"))
    assert [c.channel_id for c in await reopened.oldest(10)] == ["a", "b"]
    assert '"torn"' in reopened.rejected_path.read_text()


async def test_removing_more_than_is_spooled_empties_it(tmp_path: Path) -> None:
    spool = await CallSpool.open(tmp_path / "calls.jsonl")
    await spool.append(call("a"))
    await spool.remove_oldest(5)
    assert spool.depth == 0
    assert await spool.oldest(5) == []


async def test_sqlite_that_cannot_be_opened_spools_until_it_can(tmp_path: Path) -> None:
    database = tmp_path / "not-yet" / "calls.db"  # its folder does not exist: SQLite cannot open
    engine = make_engine(f"sqlite+aiosqlite:///{database}")
    repo = CallRepository(engine, judge_by(Thresholds()))

    writer = SpoolingWriter(
        repo, await CallSpool.open(tmp_path / "spool.jsonl"), on_depth=metrics.SPOOLED_CALLS.set
    )
    await writer.save(call("a"))
    await writer.save(call("b"))
    assert writer.spooled == 2
    assert REGISTRY.get_sample_value("pbx_bridge_spooled_calls") == 2
    assert await writer.drain() == 0
    await migrate(engine)  # creates the folder and the schema: the database is back
    assert await writer.drain() == 2
    assert REGISTRY.get_sample_value("pbx_bridge_spooled_calls") == 0
    assert {view.id for view in await repo.list()} == {"a", "b"}
    await engine.dispose()


async def test_when_database_and_disk_both_fail_save_still_does_not_raise(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'calls.db'}")
    spool_path = tmp_path / "spool.jsonl"
    spool = await CallSpool.open(spool_path)
    spool_path.mkdir()  # appending to it now fails

    writer = SpoolingWriter(CallRepository(engine, judge_by(Thresholds())), spool)
    await writer.save(call("a"))  # held in memory; the caller's call task goes on
    assert (writer.spooled, writer.held_in_memory) == (1, 1)
    await engine.dispose()
