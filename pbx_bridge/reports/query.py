"""The calls of a period, read from the store as report rows (no caller numbers)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.reports.model import CallRow, Period
from pbx_bridge.store.models import CallRecord

COLUMNS = (
    CallRecord.arrived_at,
    CallRecord.connected_at,
    CallRecord.ended_at,
    CallRecord.validity,
    CallRecord.disposition,
    CallRecord.cannot_speak,
    CallRecord.queue_reason,
)


async def calls_in(engine: AsyncEngine, period: Period) -> list[CallRow]:
    """Every call that arrived in the period (UTC bounds: the store keeps UTC), oldest first."""
    query = (
        select(*COLUMNS)
        .where(CallRecord.arrived_at >= period.start, CallRecord.arrived_at < period.end)
        .order_by(CallRecord.arrived_at)
    )
    async with engine.connect() as connection:
        result = await connection.execute(query)
        return [CallRow(*row) for row in result]
