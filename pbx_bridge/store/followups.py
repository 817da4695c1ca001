"""What a stored call leads to: a callback for an abandoned caller, a link for a repeat caller.

NENA: abandoned calls get at least one callback attempt. Repeat callers are flagged and linked,
never blocked (NENA-INF-023).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx_bridge.screening.model import Disposition
from pbx_bridge.store.models import Callback, CallRecord

# Callers who hung up before a call taker answered. Silent lines and instant hang-ups are not
# called back by default: they are most of the traffic and almost never an emergency.
CALLBACK_DISPOSITIONS = frozenset(
    {Disposition.ABANDONED_BEFORE_ANSWER, Disposition.ABANDONED_IN_QUEUE, Disposition.SILENT_55}
)
REPEAT_WINDOW = timedelta(hours=24)


def needs_callback(record: CallRecord) -> bool:
    if not record.caller_number or record.agent:
        return False  # no number to call, or a call taker spoke with the caller
    return record.disposition in CALLBACK_DISPOSITIONS


async def add_followups(session: AsyncSession, record: CallRecord, now: datetime) -> None:
    """In the record's own transaction: link a repeat caller, open a callback if owed."""
    if record.caller_number and record.repeat_of is None:
        earlier = await session.scalar(
            select(CallRecord.id)
            .where(
                CallRecord.caller_number == record.caller_number,
                CallRecord.id != record.id,
                CallRecord.arrived_at < record.arrived_at,
                CallRecord.arrived_at >= record.arrived_at - REPEAT_WINDOW,
            )
            .order_by(CallRecord.arrived_at.desc())
            .limit(1)
        )
        record.repeat_of = earlier
    if needs_callback(record):
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
