"""Incidents, their calls and handoffs in the store: one session per unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from pbx_bridge.dispatch.model import (
    CallClosure,
    Category,
    Handoff,
    HandoffState,
    Incident,
    IncidentStatus,
    Location,
    LocationSource,
    VerificationState,
)
from pbx_bridge.store.database import sessions
from pbx_bridge.store.models import (
    CallClosureRecord,
    CallRecord,
    HandoffRecord,
    IncidentCall,
    IncidentEvent,
    IncidentRecord,
)


class AlreadyDone(Exception):
    """The call is already attached or closed: the unit of work was not applied."""


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    actor: str = ""
    detail: str = ""


@dataclass(frozen=True)
class CallStatus:
    exists: bool
    incident_id: int | None = None
    closure: CallClosure | None = None


def _utc(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; everything stored is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _maybe_utc(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


def _incident(record: IncidentRecord, call_ids: Iterable[str]) -> Incident:
    return Incident(
        id=record.id,
        category=Category(record.category),
        description=record.description,
        location=Location(
            text=record.location_text,
            latitude=record.latitude,
            longitude=record.longitude,
            source=LocationSource(record.location_source),
        ),
        priority=record.priority,
        verification=VerificationState(record.verification),
        status=IncidentStatus(record.status),
        created_at=_utc(record.created_at),
        created_by=record.created_by,
        closed_at=_maybe_utc(record.closed_at),
        call_ids=tuple(call_ids),
    )


def _handoff(record: HandoffRecord) -> Handoff:
    return Handoff(
        id=record.id,
        incident_id=record.incident_id,
        agency=record.agency,
        second_agency=record.second_agency,
        state=HandoffState(record.state),
        sent_at=_maybe_utc(record.sent_at),
        due_at=_maybe_utc(record.due_at),
        acknowledged_at=_maybe_utc(record.acknowledged_at),
        acknowledged_by=record.acknowledged_by,
        closed_at=_maybe_utc(record.closed_at),
        second_notified=record.second_notified,
    )


def _handoff_values(handoff: Handoff) -> dict[str, object]:
    return {
        "state": handoff.state.value,
        "sent_at": handoff.sent_at,
        "due_at": handoff.due_at,
        "acknowledged_at": handoff.acknowledged_at,
        "acknowledged_by": handoff.acknowledged_by,
        "closed_at": handoff.closed_at,
        "second_notified": handoff.second_notified,
    }


def _events(incident_id: int, items: Sequence[TimelineItem]) -> list[IncidentEvent]:
    return [
        IncidentEvent(
            incident_id=incident_id,
            at=item.at,
            kind=item.kind,
            actor=item.actor[:80],
            detail=item.detail[:500],
        )
        for item in items
    ]


def _agency_filter(agency: str) -> ColumnElement[bool]:
    return or_(
        HandoffRecord.agency == agency,
        (HandoffRecord.second_agency == agency) & HandoffRecord.second_notified,
    )


class DispatchRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = sessions(engine)

    async def call_status(self, call_id: str) -> CallStatus:
        async with self._sessions() as session:
            if await session.get(CallRecord, call_id) is None:
                return CallStatus(exists=False)
            attached = await session.get(IncidentCall, call_id)
            closure = await session.get(CallClosureRecord, call_id)
        return CallStatus(
            exists=True,
            incident_id=attached.incident_id if attached else None,
            closure=CallClosure(closure.disposition) if closure else None,
        )

    async def create_incident(
        self, incident: Incident, call_id: str, timeline: Sequence[TimelineItem]
    ) -> Incident:
        """Store the incident with its first call; returns it with its new id."""
        record = IncidentRecord(
            category=incident.category.value,
            description=incident.description,
            location_text=incident.location.text,
            latitude=incident.location.latitude,
            longitude=incident.location.longitude,
            location_source=incident.location.source.value,
            priority=incident.priority,
            verification=incident.verification.value,
            status=incident.status.value,
            created_at=incident.created_at,
            created_by=incident.created_by,
        )
        try:
            async with self._sessions() as session, session.begin():
                session.add(record)
                await session.flush()
                session.add(
                    IncidentCall(
                        call_id=call_id,
                        incident_id=record.id,
                        attached_at=incident.created_at,
                        attached_by=incident.created_by,
                    )
                )
                session.add_all(_events(record.id, timeline))
        except IntegrityError as error:
            raise AlreadyDone(call_id) from error
        return _incident(record, [call_id])

    async def attach_call(
        self,
        incident_id: int,
        call_id: str,
        by: str,
        at: datetime,
        timeline: Sequence[TimelineItem],
    ) -> None:
        try:
            async with self._sessions() as session, session.begin():
                session.add(
                    IncidentCall(
                        call_id=call_id, incident_id=incident_id, attached_at=at, attached_by=by
                    )
                )
                session.add_all(_events(incident_id, timeline))
        except IntegrityError as error:
            raise AlreadyDone(call_id) from error

    async def close_call(
        self, call_id: str, disposition: CallClosure, by: str, at: datetime, note: str
    ) -> None:
        try:
            async with self._sessions() as session, session.begin():
                session.add(
                    CallClosureRecord(
                        call_id=call_id, disposition=disposition.value, by=by, at=at, note=note
                    )
                )
        except IntegrityError as error:
            raise AlreadyDone(call_id) from error

    async def incident(self, incident_id: int) -> Incident | None:
        async with self._sessions() as session:
            record = await session.get(IncidentRecord, incident_id)
            if record is None:
                return None
            return _incident(record, await self._call_ids(session, incident_id))

    async def _call_ids(self, session: AsyncSession, incident_id: int) -> list[str]:
        query = (
            select(IncidentCall.call_id)
            .where(IncidentCall.incident_id == incident_id)
            .order_by(IncidentCall.attached_at, IncidentCall.call_id)
        )
        return list((await session.scalars(query)).all())

    async def incidents(
        self, limit: int, status: IncidentStatus | None = None, agency: str | None = None
    ) -> list[Incident]:
        """Newest first; for an agency, only incidents handed to it."""
        query = select(IncidentRecord).order_by(IncidentRecord.id.desc()).limit(limit)
        if status is not None:
            query = query.where(IncidentRecord.status == status.value)
        if agency is not None:
            handed = select(HandoffRecord.incident_id).where(_agency_filter(agency))
            query = query.where(IncidentRecord.id.in_(handed))
        async with self._sessions() as session:
            records = (await session.scalars(query)).all()
            return [_incident(r, await self._call_ids(session, r.id)) for r in records]

    async def timeline(self, incident_id: int) -> list[TimelineItem]:
        query = (
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.id)
        )
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [TimelineItem(_utc(r.at), r.kind, r.actor, r.detail) for r in rows]

    async def add_timeline(self, incident_id: int, items: Sequence[TimelineItem]) -> None:
        async with self._sessions() as session, session.begin():
            session.add_all(_events(incident_id, items))

    async def set_verification(
        self, incident_id: int, state: VerificationState, item: TimelineItem
    ) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(IncidentRecord)
                .where(IncidentRecord.id == incident_id)
                .values(verification=state.value)
            )
            session.add_all(_events(incident_id, [item]))

    async def close_incident(self, incident_id: int, at: datetime, item: TimelineItem) -> bool:
        """Close it if it is open; False when it was already closed."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(IncidentRecord)
                .where(
                    IncidentRecord.id == incident_id,
                    IncidentRecord.status == IncidentStatus.OPEN.value,
                )
                .values(status=IncidentStatus.CLOSED.value, closed_at=at)
            )
            if result.rowcount == 0:
                return False
            session.add_all(_events(incident_id, [item]))
        return True

    async def add_handoff(self, handoff: Handoff, timeline: Sequence[TimelineItem]) -> Handoff:
        record = HandoffRecord(
            incident_id=handoff.incident_id,
            agency=handoff.agency,
            second_agency=handoff.second_agency,
            **_handoff_values(handoff),
        )
        async with self._sessions() as session, session.begin():
            session.add(record)
            session.add_all(_events(handoff.incident_id, timeline))
            await session.flush()
        return _handoff(record)

    async def update_handoff(
        self, before: Handoff, after: Handoff, timeline: Sequence[TimelineItem]
    ) -> bool:
        """Write `after` only if the stored handoff is still in `before`'s state.

        The escalation loop and an acknowledgement may race; the loser re-reads and steps again.
        """
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(HandoffRecord)
                .where(HandoffRecord.id == before.id, HandoffRecord.state == before.state.value)
                .values(**_handoff_values(after))
            )
            if result.rowcount == 0:
                return False
            session.add_all(_events(after.incident_id, timeline))
        return True

    async def handoff(self, handoff_id: int) -> Handoff | None:
        async with self._sessions() as session:
            record = await session.get(HandoffRecord, handoff_id)
        return None if record is None else _handoff(record)

    async def handoffs(
        self,
        incident_id: int | None = None,
        agency: str | None = None,
        states: Iterable[HandoffState] | None = None,
        limit: int = 1000,
    ) -> list[Handoff]:
        query = select(HandoffRecord).order_by(HandoffRecord.id).limit(limit)
        if incident_id is not None:
            query = query.where(HandoffRecord.incident_id == incident_id)
        if agency is not None:
            query = query.where(_agency_filter(agency))
        if states is not None:
            query = query.where(HandoffRecord.state.in_([s.value for s in states]))
        async with self._sessions() as session:
            return [_handoff(r) for r in (await session.scalars(query)).all()]

    async def due_handoffs(self, now: datetime, limit: int = 500) -> list[Handoff]:
        query = (
            select(HandoffRecord)
            .where(HandoffRecord.due_at.is_not(None), HandoffRecord.due_at <= now)
            .order_by(HandoffRecord.due_at)
            .limit(limit)
        )
        async with self._sessions() as session:
            return [_handoff(r) for r in (await session.scalars(query)).all()]
