"""The report's dispatch figures from the incident tables: the `DispatchSource` of reports/summary.

Which period an emergency belongs to: **the period its first call arrived in** (the earliest
arrival among the calls attached to it). The report's call counts are by arrival too, so the
166 emergencies sit in the same days as the 5,982 calls they came from, and an incident never
moves between periods: its verification may be set, changed or set again later, which a
verification-time rule would chase. An incident counts once, if it is `verified` now (the report
is as of when it is run: an incident verified tomorrow joins today's figures tomorrow).

Per agency: each agency the incident was handed to (the primary agency, and the second one once
an escalation told it), once per incident; an incident handed to two agencies counts under both,
and one never handed off under none.

Acknowledgement times: every handoff *sent* in the period, sent to acknowledged, in seconds; one
not acknowledged has no time but counts in `handoffs_sent`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.dispatch.model import VerificationState
from pbx_bridge.reports.model import Period
from pbx_bridge.reports.summary import DispatchFigures
from pbx_bridge.store.models import CallRecord, HandoffRecord, IncidentCall, IncidentRecord


def _utc(value: datetime) -> datetime:
    # The incident tables' times come back naive from SQLite; everything stored is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class IncidentFigures:
    """Verified emergencies per category and agency, and handoff acknowledgement times."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def figures(self, period: Period) -> DispatchFigures:
        async with self._engine.connect() as connection:
            incidents = (await connection.execute(self._emergencies(period))).all()
            handoffs = (await connection.execute(self._handoffs_sent(period))).all()
        categories: dict[int, str] = {}
        agencies: defaultdict[int, set[str]] = defaultdict(set)
        for incident_id, category, agency, second, second_told in incidents:
            categories[incident_id] = category
            if agency is not None:
                agencies[incident_id].add(agency)
            if second_told and second:
                agencies[incident_id].add(second)
        acks = [
            (_utc(acknowledged) - _utc(sent)).total_seconds()
            for sent, acknowledged in handoffs
            if sent is not None and acknowledged is not None  # sent: always, by the query
        ]
        return DispatchFigures(
            emergencies_by_category=dict(sorted(Counter(categories.values()).items())),
            emergencies_by_agency=dict(
                sorted(Counter(a for names in agencies.values() for a in names).items())
            ),
            handoffs_sent=len(handoffs),
            handoff_ack_seconds=tuple(sorted(acks)),
        )

    @staticmethod
    def _emergencies(period: Period) -> Select[int, str, str | None, str | None, bool | None]:
        """Verified incidents whose first call arrived in the period, one row per handoff."""
        first_call = (
            select(
                IncidentCall.incident_id,
                func.min(CallRecord.arrived_at).label("first_arrival"),
            )
            .join(CallRecord, CallRecord.id == IncidentCall.call_id)
            .group_by(IncidentCall.incident_id)
            .subquery()
        )
        return (
            select(
                IncidentRecord.id,
                IncidentRecord.category,
                HandoffRecord.agency,
                HandoffRecord.second_agency,
                HandoffRecord.second_notified,
            )
            .join(first_call, first_call.c.incident_id == IncidentRecord.id)
            .outerjoin(HandoffRecord, HandoffRecord.incident_id == IncidentRecord.id)
            .where(
                IncidentRecord.verification == VerificationState.VERIFIED.value,
                first_call.c.first_arrival >= period.start,
                first_call.c.first_arrival < period.end,
            )
        )

    @staticmethod
    def _handoffs_sent(period: Period) -> Select[datetime | None, datetime | None]:
        return select(HandoffRecord.sent_at, HandoffRecord.acknowledged_at).where(
            HandoffRecord.sent_at >= period.start, HandoffRecord.sent_at < period.end
        )
