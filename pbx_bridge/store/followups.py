"""A stored call's follow-ups: the link to a repeat caller's earlier call, the callback the
core decided the caller is owed (`screening.outcome`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx_bridge.store.models import Callback, CallRecord


async def add_followups(
    session: AsyncSession,
    record: CallRecord,
    now: datetime,
    *,
    owes_callback: bool,
    repeat_window: timedelta,
) -> None:
    """In the record's own transaction: link a repeat caller, open a callback if owed."""
    if record.caller_number and record.repeat_of is None:
        earlier = await session.scalar(
            select(CallRecord.id)
            .where(
                CallRecord.caller_number == record.caller_number,
                CallRecord.id != record.id,
                CallRecord.arrived_at < record.arrived_at,
                CallRecord.arrived_at >= record.arrived_at - repeat_window,
            )
            .order_by(CallRecord.arrived_at.desc())
            .limit(1)
        )
        record.repeat_of = earlier
    if owes_callback:
        existing = await session.scalar(select(Callback.id).where(Callback.call_id == record.id))
        if existing is None:
            session.add(
                Callback(
                    call_id=record.id,
                    caller_number=record.caller_number,
                    reason=record.disposition,
                    status="open",
                    created_at=now,
                    updated_at=now,
                )
            )
