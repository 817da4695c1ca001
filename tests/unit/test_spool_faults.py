"""A busy or unreachable database is not a refusal: records wait for it, in order, and the spool
drains by moving its head, not by rewriting what is left."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from pbx_bridge.screening.model import Call
from pbx_bridge.store.spool import CallSpool
from pbx_bridge.store.writer import SpoolingWriter, is_refusal, retry_delay
from tests.support.calls import T0, ended_call


def ended(channel_id: str, seconds_on_line: float = 15) -> Call:
    return ended_call(channel_id, seconds_on_line, T0)


def locked() -> OperationalError:
    return OperationalError("INSERT INTO calls ...", {}, sqlite3.OperationalError("locked"))


class PgError(Exception):
    """What SQLAlchemy's asyncpg adapter puts in `orig`: a generic error with its SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def pg(sqlstate: str) -> OperationalError:
    return OperationalError("INSERT INTO calls ...", {}, PgError(sqlstate))


class FlakyStore:
    """A store that fails the writes it is told to, and remembers what it took."""

    def __init__(self) -> None:
        self.saved: dict[str, Call] = {}
        self.failures: list[BaseException] = []
        self.gate: asyncio.Event | None = None  # when set up, the next write waits for it
        self.waiting = asyncio.Event()  # a write is waiting at the gate

    async def save(self, call: Call) -> None:
        if self.gate is not None:
            gate, self.gate = self.gate, None
            self.waiting.set()
            await gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        self.saved[call.channel_id] = call


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")), True),
        (DataError("INSERT", {}, Exception("value too long")), True),
        (pg("22001"), True),  # PostgreSQL: string data right truncation
        (pg("23505"), True),  # unique violation
        (ValueError("not a record"), True),
        (locked(), False),  # SQLite: database is locked (retag holds it)
        (pg("55P03"), False),  # PostgreSQL: lock not available (lock_timeout)
        (pg("57P01"), False),  # admin shutdown
        (pg("08006"), False),  # connection failure
        (pg("42P01"), False),  # no such table: a migration is missing, not a bad record
        (ConnectionRefusedError(111, "refused"), False),
        (TimeoutError(), False),
    ],
)
def test_only_errors_about_the_record_are_refusals(error: BaseException, *, refused: bool) -> None:
    """Everything else is the database being down for now."""
    assert is_refusal(error) is refused


def test_retries_back_off_doubling_to_a_cap() -> None:
    delays = [retry_delay(None, 2.0)]
    for _ in range(8):
        delays.append(retry_delay(delays[-1], 2.0, cap=30.0))
    assert delays[0] == 2.0
    assert all(2.0 <= d <= 30.0 for d in delays)
    assert delays[3] > delays[0] * 3  # it grows
    assert delays[-1] >= 30.0 * 0.8  # and settles at the cap


async def test_a_locked_database_keeps_the_record_spooled_until_it_is_free(
    tmp_path: Path,
) -> None:
    """SQLite "database is locked" during retag is not a refusal: nothing goes to rejected."""
    store = FlakyStore()
    writer = SpoolingWriter(store, await CallSpool.open(tmp_path / "calls.jsonl"))
    store.failures = [locked()]
    await writer.save(ended("a"))
    store.failures = [locked(), locked(), locked()]
    for _ in range(3):
        assert await writer.drain() == 0
        assert writer.database_down
    assert writer.spooled == 1
    assert not (tmp_path / "calls.rejected.jsonl").exists()
    assert await writer.drain() == 1
    assert not writer.database_down
    assert set(store.saved) == {"a"}


async def test_a_newer_save_never_overtakes_an_older_one_on_its_way_to_the_spool(
    tmp_path: Path,
) -> None:
    store = FlakyStore()
    writer = SpoolingWriter(store, await CallSpool.open(tmp_path / "calls.jsonl"))
    older, newer = ended("a", seconds_on_line=2), ended("a", seconds_on_line=40)
    gate = store.gate = asyncio.Event()
    store.failures = [pg("57P01")]  # the older write hangs, then fails: it will be spooled
    first = asyncio.create_task(writer.save(older))
    await store.waiting.wait()
    second = asyncio.create_task(writer.save(newer))  # the database answers it at once
    gate.set()
    await asyncio.gather(first, second)
    assert writer.spooled == 2  # the newer one queued behind the older one
    assert await writer.drain() == 2
    assert store.saved["a"] == newer


async def test_draining_moves_the_head_and_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    spool = await CallSpool.open(path)
    for index in range(10):
        await spool.append(ended(f"c{index}"))
    before = path.read_bytes()
    await spool.remove_oldest(3)
    assert path.read_bytes() == before  # no rewrite of the seven left
    assert spool.depth == 7
    assert [c.channel_id for c in await spool.oldest(2)] == ["c3", "c4"]
    again = await CallSpool.open(path)  # a restart resumes at the head
    assert again.depth == 7
    assert [c.channel_id for c in await again.oldest(1)] == ["c3"]
    await again.reject_oldest()
    assert '"c3"' in again.rejected_path.read_text()
    await again.remove_oldest(6)
    assert again.depth == 0
    assert path.read_bytes() == b""  # everything drained: the file is emptied


async def test_the_drained_part_is_compacted_once_it_outgrows_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    spool = await CallSpool.open(path)
    for index in range(10):
        await spool.append(ended(f"c{index}"))
    await spool.remove_oldest(6)
    assert path.read_text().count("\n") == 4
    assert [c.channel_id for c in await (await CallSpool.open(path)).oldest(10)] == [
        "c6", "c7", "c8", "c9",
    ]  # fmt: skip


async def test_a_head_past_the_end_reads_the_whole_file_again(tmp_path: Path) -> None:
    """A crash between emptying the file and resetting the head: nothing is skipped."""
    path = tmp_path / "calls.jsonl"
    spool = await CallSpool.open(path)
    await spool.append(ended("a"))
    spool.head_path.write_text("999999\n")
    assert [c.channel_id for c in await (await CallSpool.open(path)).oldest(5)] == ["a"]


async def test_the_retention_purge_after_a_partial_drain_keeps_the_head_right(
    tmp_path: Path,
) -> None:
    path = tmp_path / "calls.jsonl"
    spool = await CallSpool.open(path)
    for index in range(4):
        await spool.append(replace(ended(f"c{index}"), caller_name="Budi Santoso"))
    await spool.remove_oldest(1)
    assert await spool.purge_numbers(T0 + timedelta(days=1)) == 3
    assert [c.channel_id for c in await spool.oldest(10)] == ["c1", "c2", "c3"]
    assert {c.caller_number for c in await spool.oldest(10)} == {""}
    await spool.append(ended("c4"))
    await spool.remove_oldest(2)
    assert [c.channel_id for c in await (await CallSpool.open(path)).oldest(10)] == ["c3", "c4"]


class FullDisk:
    """The spool's file system, full until told otherwise."""

    def __init__(self, spool: CallSpool, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = True
        append = spool.append

        async def append_unless_full(call: Call) -> None:
            if self.full:
                raise OSError(28, "No space left on device")
            await append(call)

        monkeypatch.setattr(spool, "append", append_unless_full)


async def test_records_wait_in_memory_while_the_spools_disk_is_full_and_reach_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Database down and spool disk full: nothing is lost; the records reach the database in
    the order they ended once it returns, though the disk is still full."""
    store = FlakyStore()
    spool = await CallSpool.open(tmp_path / "calls.jsonl")
    FullDisk(spool, monkeypatch)
    writer = SpoolingWriter(store, spool)
    store.failures = [locked()]
    for name in ("a", "b", "c"):
        await writer.save(ended(name))
    assert (writer.spooled, writer.held_in_memory) == (3, 3)
    store.failures = [locked()]
    assert await writer.drain() == 0
    assert writer.database_down
    await writer.save(ended("a", seconds_on_line=40))  # a newer version waits behind the rest
    assert writer.held_in_memory == 4
    assert await writer.drain() == 4
    assert (writer.spooled, writer.database_down) == (0, False)
    assert list(store.saved) == ["a", "b", "c"]
    assert store.saved["a"].ended_at == ended("a", seconds_on_line=40).ended_at


async def test_held_records_move_to_the_spool_once_its_disk_has_room_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FlakyStore()
    spool = await CallSpool.open(tmp_path / "calls.jsonl")
    disk = FullDisk(spool, monkeypatch)
    writer = SpoolingWriter(store, spool)
    store.failures = [locked(), locked()]
    await writer.save(ended("a"))
    await writer.save(ended("b"))  # behind "a", in memory, without trying the database
    assert writer.held_in_memory == 2
    disk.full = False
    store.failures = [locked(), locked()]  # the held head's try, then the spool's
    assert await writer.drain() == 0  # the database is still down: the spool takes them
    assert (writer.held_in_memory, spool.depth) == (0, 2)
    assert await writer.drain() == 2
    assert set(store.saved) == {"a", "b"}
