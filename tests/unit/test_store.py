"""The store behaves the same on SQLite and PostgreSQL (each test runs on both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.screening.model import Call, TimelineEntry
from pbx_bridge.screening.outcome import judge_by, reclassify_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.database import _alembic_config, migrate
from pbx_bridge.store.repository import CallRepository
from tests.support.calls import T0, ended_call

WITA = timezone(timedelta(hours=8))


def call(channel_id: str, seconds_on_line: float, *, start: datetime = T0) -> Call:
    return ended_call(channel_id, seconds_on_line, start)


async def test_migrating_twice_changes_nothing(engine: AsyncEngine) -> None:
    await migrate(engine)  # the fixture migrated once already

    def tables(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with engine.connect() as connection:
        names = await connection.run_sync(tables)
    assert {"calls", "call_events", "callbacks", "callback_attempts", "alembic_version"} <= names


async def test_times_read_back_as_the_same_instants_in_utc(engine: AsyncEngine) -> None:
    repo = CallRepository(engine, judge_by(Thresholds()))
    await repo.save(call("wita", 15, start=datetime(2026, 11, 25, 7, 30, tzinfo=WITA)))
    (view,) = await repo.list()
    assert view.arrived_at == datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert view.arrived_at.utcoffset() == timedelta(0)
    assert view.timeline[0]["at"] == "2026-11-24T23:30:00+00:00"


async def test_saving_again_replaces_the_record_and_its_timeline(engine: AsyncEngine) -> None:
    repo = CallRepository(engine, judge_by(Thresholds()))
    await repo.save(call("a", 2))
    await repo.save(call("a", 15))
    (view,) = await repo.list()
    assert view.validity == "valid"
    assert len(view.timeline) == len(call("a", 15).timeline)  # the second, not both


async def test_who_answered_and_when_is_stored(engine: AsyncEngine) -> None:
    repo = CallRepository(engine, judge_by(Thresholds()))
    connected = T0 + timedelta(seconds=12)
    answered = call("a", 30)
    await repo.save(
        Call(**{**answered.__dict__, "agent": "PJSIP/taker-1", "connected_at": connected})
    )
    (view,) = await repo.list()
    assert view.agent == "PJSIP/taker-1"
    assert view.connected_at == connected


async def test_values_longer_than_their_columns_are_cut_not_refused(engine: AsyncEngine) -> None:
    repo = CallRepository(engine, judge_by(Thresholds()))
    long = call("a", 15)
    await repo.save(
        Call(
            **{
                **long.__dict__,
                "caller_name": "N" * 300,
                "caller_number": "0" * 300,
                "sip_call_id": "c" * 300,
                "hangup_cause_text": "t" * 300,
                "agent": "a" * 300,
                "timeline": (*long.timeline, TimelineEntry(T0, "x" * 300, "d" * 300)),
            }
        )
    )
    (view,) = await repo.list()
    assert len(view.caller_name) == 80
    assert len(view.sip_call_id) == 128


async def test_existing_and_insert_missing_never_replace_a_record(engine: AsyncEngine) -> None:
    repo = CallRepository(engine, judge_by(Thresholds()))
    await repo.save(call("live", 15))
    assert await repo.existing(["live", "other"]) == {"live"}
    added = await repo.insert_missing([call("live", 2), call("other", 2)])
    assert added == 1
    views = {view.id: view for view in await repo.list()}
    assert views["live"].validity == "valid"  # the live record, not the CDR's
    assert views["other"].validity == "invalid"


async def test_retag_applies_new_thresholds_to_every_stored_call(engine: AsyncEngine) -> None:
    repo = CallRepository(engine, judge_by(Thresholds()))
    for index in range(7):
        await repo.save(call(f"c{index}", 12, start=T0 + timedelta(minutes=index)))
    assert await repo.retag(reclassify_by(Thresholds(valid_min_seconds=20)), batch=3) == (7, 7)
    assert {view.validity for view in await repo.list()} == {"invalid"}
    assert await repo.retag(reclassify_by(Thresholds(valid_min_seconds=20)), batch=3) == (7, 0)


async def test_list_is_newest_first_and_limited(engine: AsyncEngine) -> None:
    repo = CallRepository(engine, judge_by(Thresholds()))
    for index in range(5):
        await repo.save(call(f"c{index}", 12, start=T0 + timedelta(minutes=index)))
    assert [view.id for view in await repo.list(limit=3)] == ["c4", "c3", "c2"]


async def test_migrations_go_down_to_nothing_and_up_again(engine: AsyncEngine) -> None:
    def downgrade_to_base(connection: Connection) -> None:
        command.downgrade(_alembic_config(connection), "base")

    async with engine.begin() as connection:
        await connection.run_sync(downgrade_to_base)

    def tables(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names()) - {"alembic_version"}

    async with engine.connect() as connection:
        assert await connection.run_sync(tables) == set()
    await migrate(engine)
    repo = CallRepository(engine, judge_by(Thresholds()))
    await repo.save(call("a", 15))
    assert [view.id for view in await repo.list()] == ["a"]
