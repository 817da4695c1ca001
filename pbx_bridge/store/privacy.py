"""The caller's number: who saw it in clear (the audit), and its purge after the retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.store.database import sessions
from pbx_bridge.store.models import Callback, CallRecord, NumberView


@dataclass(frozen=True)
class NumberViewEntry:
    who: str
    call_id: str
    at: datetime
    why: str


@dataclass(frozen=True)
class PurgeResult:
    calls: int
    callbacks: int
    file_lines: int = 0  # spool, rejected and CDR lines blanked (see store/number_files.py)


def retention_cutoff(days: int, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=days)


class PrivacyRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = sessions(engine)

    async def record_view(self, who: str, call_id: str, why: str, at: datetime) -> None:
        await self.record_views(who, [call_id], why, at)

    async def record_views(self, who: str, call_ids: list[str], why: str, at: datetime) -> None:
        async with self._sessions() as session, session.begin():
            session.add_all(
                NumberView(who=who[:80], call_id=call_id, at=at, why=why[:200])
                for call_id in call_ids
            )

    async def views(self, limit: int = 100) -> list[NumberViewEntry]:
        query = select(NumberView).order_by(NumberView.id.desc()).limit(limit)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [
            NumberViewEntry(r.who, r.call_id, r.at.replace(tzinfo=r.at.tzinfo or UTC), r.why)
            for r in rows
        ]

    async def purge_numbers(self, days: int, now: datetime | None = None) -> PurgeResult:
        """Blank the caller's number, name and SIP Call-ID on calls (and their callbacks) older
        than `days` days; on SQLite no copy is left in the database's files."""
        cutoff = retention_cutoff(days, now)
        old_calls = select(CallRecord.id).where(CallRecord.arrived_at < cutoff)
        async with self._sessions() as session, session.begin():
            calls = await session.execute(
                update(CallRecord)
                .where(
                    CallRecord.arrived_at < cutoff,
                    or_(
                        CallRecord.caller_number != "",
                        CallRecord.caller_name != "",
                        CallRecord.sip_call_id != "",
                    ),
                )
                .values(caller_number="", caller_name="", sip_call_id="")
            )
            callbacks = await session.execute(
                update(Callback)
                .where(Callback.call_id.in_(old_calls), Callback.caller_number != "")
                .values(caller_number="")
            )
        if self._engine.dialect.name == "sqlite" and (calls.rowcount or callbacks.rowcount):
            await self._forget_old_pages()
        return PurgeResult(calls.rowcount, callbacks.rowcount)

    async def _forget_old_pages(self) -> None:
        # secure_delete zeroes what the purge freed; the pages' old images wait in the WAL
        # until a checkpoint copies the new ones over them and TRUNCATE empties it.
        async with self._engine.connect() as connection:
            await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
