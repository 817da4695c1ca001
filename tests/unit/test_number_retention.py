"""The caller's number after the retention: gone from every column that held it, from SQLite's
files, from the spool and rejected files, from Asterisk's CDR lines; never in an error's text;
and Asterisk writes no queue_log that would keep it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.paths import asterisk_config_dir
from pbx_bridge.reconcile.cdr import parse
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.database import _sqlite_pragmas, make_engine, migrate, sessions
from pbx_bridge.store.models import CallRecord
from pbx_bridge.store.number_files import purge_cdr, purge_jsonl
from pbx_bridge.store.privacy import PrivacyRepository
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.spool import CallSpool, encode
from tests.support.calls import ended_call

NUMBER = "081234567890"  # ended_call's caller; its name is Budi, its Call-ID sip-<id>
NOW = datetime(2027, 3, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=100)
RECENT = NOW - timedelta(days=1)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncEngine:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await migrate(engine)
    return engine


async def test_the_purge_blanks_number_name_and_call_id_of_old_calls_only(
    engine: AsyncEngine,
) -> None:
    calls = CallRepository(engine, judge_by(Thresholds()))
    await calls.save(ended_call("old", arrived=OLD))
    await calls.save(ended_call("new", arrived=RECENT))
    result = await PrivacyRepository(engine).purge_numbers(90, NOW)
    assert result.calls == 1
    views = {view.id: view for view in await calls.list()}
    assert (views["old"].caller_number, views["old"].caller_name) == ("", "")
    assert views["old"].as_json(None)["sip_call_id"] == ""
    assert views["new"].caller_number == NUMBER
    assert views["new"].caller_name == "Budi"
    await engine.dispose()


def database_bytes(folder: Path) -> bytes:
    """The database file and its -wal and -shm, as a disk thief would read them."""
    return b"".join(path.read_bytes() for path in folder.glob("store.db*"))


async def test_no_copy_of_a_purged_number_is_left_in_the_sqlite_files(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """secure_delete zeroes freed content and the WAL is emptied: the bytes are gone."""
    calls = CallRepository(engine, judge_by(Thresholds()))
    await calls.save(ended_call("old", arrived=OLD))
    await PrivacyRepository(engine).purge_numbers(90, NOW)
    # Read while the engine is open, as in a running controller (closing checkpoints anyway).
    files = await asyncio.to_thread(database_bytes, tmp_path)
    await engine.dispose()
    assert NUMBER.encode() not in files
    assert b"sip-old" not in files
    assert b"Budi" not in files


def test_sqlite_connections_zero_what_they_delete() -> None:
    """Not every SQLite build defaults to secure_delete (this machine's does): it is set."""
    executed: list[str] = []

    class Cursor:
        def execute(self, statement: str) -> None:
            executed.append(statement)

        def close(self) -> None:
            pass

    class Connection:
        def cursor(self) -> Cursor:
            return Cursor()

    _sqlite_pragmas(Connection(), None)
    assert "PRAGMA secure_delete=ON" in executed


async def test_a_database_error_never_carries_the_statements_values(
    engine: AsyncEngine,
) -> None:
    await CallRepository(engine, judge_by(Thresholds())).save(ended_call("dup", arrived=OLD))
    with pytest.raises(IntegrityError) as refused:
        async with sessions(engine)() as session, session.begin():
            session.add(
                CallRecord(id="dup", caller_number=NUMBER, arrived_at=OLD, validity="valid")
            )
    assert NUMBER not in str(refused.value)
    assert "hidden" in str(refused.value)
    await engine.dispose()


# --- the spool's files


def spooled(call_id: str, arrived: datetime) -> str:
    return encode(ended_call(call_id, arrived=arrived))


def test_the_spool_file_is_rewritten_without_expired_numbers(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    entry = json.loads(spooled("torn", OLD)) | {"spooled_at": OLD.isoformat()}
    torn = json.dumps(entry)
    torn = torn[: torn.index(NUMBER) + len(NUMBER) + 5]  # a crash cut it, no newline
    path.write_text(spooled("old", OLD) + spooled("new", RECENT) + torn)
    assert purge_jsonl(path, NOW - timedelta(days=90)) == 2
    old, new, cut = path.read_text().splitlines(keepends=True)
    assert json.loads(old)["call"]["caller_number"] == ""
    assert json.loads(old)["call"]["caller_name"] == ""
    assert json.loads(old)["call"]["sip_call_id"] == ""
    assert json.loads(new)["call"]["caller_number"] == NUMBER
    assert NUMBER not in cut
    assert not cut.endswith("\n")
    assert purge_jsonl(path, NOW - timedelta(days=90)) == 0  # nothing left to do


async def test_the_spool_purges_its_records_and_its_rejected_file(tmp_path: Path) -> None:
    spool = await CallSpool.open(tmp_path / "spool" / "calls.jsonl")
    await spool.append(ended_call("old", arrived=OLD))
    spool.rejected_path.write_text(spooled("refused", OLD))
    assert await spool.purge_numbers(NOW - timedelta(days=90)) == 2
    assert NUMBER not in spool.path.read_text()
    assert NUMBER not in spool.rejected_path.read_text()
    assert spool.depth == 1
    [call] = await spool.oldest(10)
    assert call.channel_id == "old"


# --- Asterisk's CDR file (cdr_custom.conf: every field quoted, quotes doubled)


def cdr_line(uniqueid: str, start: datetime, number: str = NUMBER) -> str:
    epoch = start.timestamp()
    fields = [
        uniqueid, uniqueid, number, f'"Budi" <{number}>', f"{epoch:.6f}", f"{epoch + 1:.6f}",
        f"{epoch + 30:.6f}", "ANSWERED", "Queue", "from-trunk", "PJSIP/trunk-0001", "speech",
    ]  # fmt: skip
    return ",".join('"' + field.replace('"', '""') + '"' for field in fields) + "\n"


def test_old_cdr_lines_lose_number_and_name_in_place_and_reconcile_still_reads_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pbx-bridge-cdr.csv"
    text = cdr_line("1.1", OLD) + cdr_line("2.2", RECENT) + "not a cdr line\n"
    path.write_text(text)
    assert purge_cdr(path, NOW - timedelta(days=90)) == 1
    after = path.read_text()
    assert len(after) == len(text)  # same length: Asterisk's appends are never lost
    old, new, other = after.splitlines(keepends=True)
    assert NUMBER not in old
    assert "Budi" not in old
    assert new == cdr_line("2.2", RECENT)
    assert other == "not a cdr line\n"
    legs = {leg.uniqueid: leg for leg in parse(after.splitlines(keepends=True))}
    assert (legs["1.1"].src, legs["1.1"].name) == ("", "")
    assert (legs["2.2"].src, legs["2.2"].name) == (NUMBER, "Budi")
    assert purge_cdr(path, NOW - timedelta(days=90)) == 0
    assert purge_cdr(tmp_path / "absent.csv", NOW) == 0


def test_asterisk_writes_no_queue_log() -> None:
    """app_queue's queue_log would keep every caller's number (ENTERQUEUE); nothing reads it."""
    lines = (asterisk_config_dir() / "logger.conf").read_text().splitlines()
    settings = [line.replace(" ", "") for line in lines if not line.startswith(";")]
    assert "queue_log=no" in settings


def test_cdr_lines_with_the_dstchannel_column_are_purged_too(tmp_path: Path) -> None:
    path = tmp_path / "pbx-bridge-cdr.csv"
    line = cdr_line("1.1", OLD).rstrip("\n") + ',"PJSIP/ct-01-00000001"\n'
    path.write_text(line)
    assert purge_cdr(path, NOW - timedelta(days=90)) == 1
    assert NUMBER not in path.read_text()
    assert path.read_text().endswith(',"PJSIP/ct-01-00000001"\n')
