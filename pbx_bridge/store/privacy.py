"""The caller's number: who saw it in clear (the audit), and its purge after the retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
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


class PrivacyRepository:
    def __init__(self, engine: AsyncEngine) -> None:
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
        """Blank the caller's number on calls (and their callbacks) older than `days` days."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
        old_calls = select(CallRecord.id).where(CallRecord.arrived_at < cutoff)
        async with self._sessions() as session, session.begin():
            calls = await session.execute(
                update(CallRecord)
                .where(CallRecord.arrived_at < cutoff, CallRecord.caller_number != "")
                .values(caller_number="")
            )
            callbacks = await session.execute(
                update(Callback)
                .where(Callback.call_id.in_(old_calls), Callback.caller_number != "")
                .values(caller_number="")
            )
        return PurgeResult(calls.rowcount, callbacks.rowcount)
