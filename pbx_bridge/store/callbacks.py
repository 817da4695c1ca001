"""The callback worklist's items and their attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.store.database import sessions
from pbx_bridge.store.models import Callback, CallbackAttempt


class CallbackNotFound(LookupError):
    pass


@dataclass(frozen=True)
class CallbackItem:
    id: int
    call_id: str
    caller_number: str
    status: str


class CallbackRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = sessions(engine)

    async def take(self, callback_id: int, taker: str) -> tuple[CallbackItem, int]:
        """Mark the item taken and open an attempt; returns the item and the attempt id."""
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            item = await session.get(Callback, callback_id)
            if item is None:
                raise CallbackNotFound(f"no callback #{callback_id}")
            item.status, item.taken_by, item.updated_at = "taken", taker, now
            attempt = CallbackAttempt(callback_id=item.id, call_taker=taker, started_at=now)
            session.add(attempt)
            await session.flush()
            return CallbackItem(item.id, item.call_id, item.caller_number, item.status), attempt.id

    async def finish(self, attempt_id: int, outcome: str, *, reached: bool) -> None:
        """Store the attempt's outcome; the item is done when the caller was reached."""
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            attempt = await session.get(CallbackAttempt, attempt_id)
            if attempt is None:
                raise CallbackNotFound(f"no callback attempt #{attempt_id}")
            attempt.ended_at, attempt.outcome = now, outcome
            item = await session.get(Callback, attempt.callback_id)
            if item is not None:
                item.status = "done" if reached else "open"
                item.updated_at = now

    async def attempts(self, callback_id: int) -> list[dict[str, Any]]:
        query = (
            select(CallbackAttempt)
            .where(CallbackAttempt.callback_id == callback_id)
            .order_by(CallbackAttempt.id)
        )
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [
            {
                "id": row.id,
                "call_taker": row.call_taker,
                "started_at": row.started_at.isoformat(),
                "ended_at": row.ended_at.isoformat() if row.ended_at else None,
                "outcome": row.outcome,
            }
            for row in rows
        ]
