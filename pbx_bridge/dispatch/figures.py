"""The report's dispatch figures from the incident records (reports.centre.DispatchSource).

Verified emergencies are incidents verified as real, counted by the day they were created;
handoff acknowledgement time runs from sending to the agency's acknowledgement.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.dispatch.model import VerificationState
from pbx_bridge.reports.centre import DispatchFigures
from pbx_bridge.reports.model import Period
from pbx_bridge.store.database import sessions
from pbx_bridge.store.models import HandoffRecord, IncidentRecord


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the store keeps UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class IncidentFigures:
    """Verified emergencies by category and agency, and acknowledgement times, for a period."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = sessions(engine)

    async def figures(self, period: Period) -> DispatchFigures:
        verified = select(IncidentRecord.id, IncidentRecord.category, IncidentRecord.created_at)
        verified = verified.where(IncidentRecord.verification == VerificationState.VERIFIED.value)
        async with self._sessions() as session:
            incidents = {
                row.id: row.category
                for row in (await session.execute(verified)).all()
                if period.start <= _utc(row.created_at) < period.end
            }
            handoffs = (
                await session.scalars(
                    select(HandoffRecord).where(HandoffRecord.incident_id.in_(list(incidents)))
                )
            ).all()
        by_agency: Counter[str] = Counter()
        acks = []
        for handoff in handoffs:
            by_agency[handoff.agency] += 1
            if handoff.sent_at is not None and handoff.acknowledged_at is not None:
                seconds = (_utc(handoff.acknowledged_at) - _utc(handoff.sent_at)).total_seconds()
                acks.append(max(0.0, seconds))
        return DispatchFigures(
            emergencies_by_category=dict(Counter(incidents.values())),
            emergencies_by_agency=dict(by_agency),
            handoff_ack_seconds=tuple(acks),
        )
