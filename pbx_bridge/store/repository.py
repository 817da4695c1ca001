"""Reading and writing call records: one session per unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from pbx_bridge.screening.model import Call, TimelineEntry
from pbx_bridge.screening.outcome import REPEAT_WINDOW, Judge, Outcome, Reclassify
from pbx_bridge.store.database import sessions
from pbx_bridge.store.followups import add_followups
from pbx_bridge.store.models import Callback, CallEvent, CallRecord


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands datetimes back naive; everything stored is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max(0.0, (end - start).total_seconds()), 3)


def _fit(value: str, column: InstrumentedAttribute[str]) -> str:
    """Cut text to its column: PostgreSQL refuses what SQLite would have kept whole."""
    length = getattr(column.property.columns[0].type, "length", None)
    return value[:length] if length else value


def record_from_call(call: Call, outcome: Outcome) -> CallRecord:
    """The row for a call whose outcome the core has judged."""
    record = CallRecord(
        id=call.channel_id,
        caller_number=_fit(call.caller_number, CallRecord.caller_number),
        caller_name=_fit(call.caller_name, CallRecord.caller_name),
        arrived_at=call.arrived_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        ring_seconds=_seconds(call.arrived_at, call.answered_at),
        connected_seconds=outcome.connected_seconds,
        total_seconds=_seconds(call.arrived_at, call.ended_at),
        validity=outcome.validity.value,
        disposition=outcome.disposition.value,
        queue_reason=call.queue_reason.value if call.queue_reason else "",
        queue_priority=call.queue_priority,
        cannot_speak=call.cannot_speak,
        agent=_fit(call.agent, CallRecord.agent),
        connected_at=call.connected_at,
        hangup_cause=call.hangup_cause,
        hangup_cause_text=_fit(call.hangup_cause_text, CallRecord.hangup_cause_text),
        adopted=call.adopted,
        sip_call_id=_fit(call.sip_call_id, CallRecord.sip_call_id),
    )
    record.events = [
        CallEvent(
            seq=index,
            at=entry.at,
            kind=_fit(entry.kind, CallEvent.kind),
            detail=_fit(entry.detail, CallEvent.detail),
        )
        for index, entry in enumerate(call.timeline)
    ]
    return record


@dataclass(frozen=True)
class CallView:
    """A stored call as the API and CLI show it."""

    id: str
    caller_number: str
    caller_name: str
    arrived_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    ring_seconds: float | None
    connected_seconds: float | None
    total_seconds: float | None
    validity: str
    disposition: str
    queue_reason: str
    queue_priority: int | None
    cannot_speak: bool
    agent: str
    connected_at: datetime | None
    repeat_of: str | None
    hangup_cause: int | None
    hangup_cause_text: str
    adopted: bool
    sip_call_id: str
    timeline: list[dict[str, str]]

    def as_json(self, mask: Any = None) -> dict[str, Any]:
        number = mask(self.caller_number) if mask else self.caller_number
        return {
            "id": self.id,
            "caller_number": number,
            "caller_name": self.caller_name,
            "arrived_at": self.arrived_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "ring_seconds": self.ring_seconds,
            "connected_seconds": self.connected_seconds,
            "total_seconds": self.total_seconds,
            "validity": self.validity,
            "disposition": self.disposition,
            "queue_reason": self.queue_reason,
            "queue_priority": self.queue_priority,
            "cannot_speak": self.cannot_speak,
            "agent": self.agent,
            "connected_at": self.connected_at.isoformat() if self.connected_at else None,
            "repeat_of": self.repeat_of,
            "hangup_cause": self.hangup_cause,
            "hangup_cause_text": self.hangup_cause_text,
            "adopted": self.adopted,
            "sip_call_id": self.sip_call_id,
            "timeline": self.timeline,
        }


def _view(record: CallRecord) -> CallView:
    arrived = _utc(record.arrived_at)
    assert arrived is not None  # noqa: S101 - the column is NOT NULL
    return CallView(
        id=record.id,
        caller_number=record.caller_number,
        caller_name=record.caller_name,
        arrived_at=arrived,
        answered_at=_utc(record.answered_at),
        ended_at=_utc(record.ended_at),
        ring_seconds=record.ring_seconds,
        connected_seconds=record.connected_seconds,
        total_seconds=record.total_seconds,
        validity=record.validity,
        disposition=record.disposition,
        queue_reason=record.queue_reason,
        queue_priority=record.queue_priority,
        cannot_speak=record.cannot_speak,
        agent=record.agent,
        connected_at=_utc(record.connected_at),
        repeat_of=record.repeat_of,
        hangup_cause=record.hangup_cause,
        hangup_cause_text=record.hangup_cause_text,
        adopted=record.adopted,
        sip_call_id=record.sip_call_id,
        timeline=[
            {"at": (_utc(e.at) or e.at).isoformat(), "kind": e.kind, "detail": e.detail}
            for e in record.events
        ],
    )


class CallRepository:
    """Persists calls. What a call was is the core's judgement (`screening.outcome`), handed in."""

    def __init__(self, engine: AsyncEngine, judge: Judge) -> None:
        self._sessions = sessions(engine)
        self._judge = judge

    async def _persist(self, session: AsyncSession, call: Call, *, merge: bool) -> None:
        outcome = self._judge(call)
        record = record_from_call(call, outcome)
        if merge:
            record = await session.merge(record)
        else:
            session.add(record)
        await session.flush()
        await add_followups(
            session,
            record,
            datetime.now(UTC),
            owes_callback=outcome.owes_callback,
            repeat_window=REPEAT_WINDOW,
        )

    async def save(self, call: Call) -> None:
        """Write (or rewrite) the call's record, timeline and follow-ups in one transaction."""
        async with self._sessions() as session, session.begin():
            await self._persist(session, call, merge=True)

    async def existing(self, ids: list[str]) -> set[str]:
        """Which of these call ids the store already has."""
        found: set[str] = set()
        async with self._sessions() as session:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                query = select(CallRecord.id).where(CallRecord.id.in_(chunk))
                found.update((await session.scalars(query)).all())
        return found

    async def insert_missing(self, calls: list[Call]) -> int:
        """Insert calls that are not stored yet; a record written meanwhile is never replaced."""
        added = 0
        for call in calls:
            try:
                async with self._sessions() as session, session.begin():
                    await self._persist(session, call, merge=False)
            except IntegrityError:
                continue
            added += 1
        return added

    async def callbacks(self, status: str = "open", limit: int = 100) -> list[dict[str, Any]]:
        """The callback worklist, oldest first (numbers as stored: mask them for display)."""
        query = (
            select(Callback)
            .where(Callback.status == status)
            .order_by(Callback.created_at)
            .limit(limit)
        )
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [
            {
                "id": row.id,
                "call_id": row.call_id,
                "caller_number": row.caller_number,
                "reason": row.reason,
                "status": row.status,
                "taken_by": row.taken_by,
                "created_at": (_utc(row.created_at) or row.created_at).isoformat(),
            }
            for row in rows
        ]

    async def retag(self, reclassify: Reclassify, batch: int = 500) -> tuple[int, int]:
        """Rewrite validity and disposition of every stored call as `reclassify` judges its
        timeline now.

        Returns (calls seen, calls whose tags changed).
        """
        seen = changed = 0
        last_id = ""
        while True:
            query = (
                select(CallRecord)
                .options(selectinload(CallRecord.events))
                .where(CallRecord.id > last_id)
                .order_by(CallRecord.id)
                .limit(batch)
            )
            async with self._sessions() as session, session.begin():
                records = (await session.scalars(query)).all()
                for record in records:
                    timeline = [
                        TimelineEntry(_utc(e.at) or e.at, e.kind, e.detail) for e in record.events
                    ]
                    validity, disposition = reclassify(timeline)
                    if (record.validity, record.disposition) != (validity, disposition):
                        record.validity, record.disposition = validity.value, disposition.value
                        changed += 1
            seen += len(records)
            if len(records) < batch:
                return seen, changed
            last_id = records[-1].id

    async def get(self, call_id: str) -> CallView | None:
        query = (
            select(CallRecord)
            .options(selectinload(CallRecord.events))
            .where(CallRecord.id == call_id)
        )
        async with self._sessions() as session:
            record = (await session.scalars(query)).first()
        return None if record is None else _view(record)

    async def earlier_calls(
        self, view: CallView, window: timedelta = timedelta(days=30), limit: int = 10
    ) -> list[dict[str, Any]]:
        """The same number's calls before this one, newest first (none for a withheld number)."""
        if not view.caller_number:
            return []
        query = (
            select(
                CallRecord.id,
                CallRecord.arrived_at,
                CallRecord.disposition,
                CallRecord.validity,
                CallRecord.agent,
            )
            .where(
                CallRecord.caller_number == view.caller_number,
                CallRecord.id != view.id,
                CallRecord.arrived_at < view.arrived_at,
                CallRecord.arrived_at >= view.arrived_at - window,
            )
            .order_by(CallRecord.arrived_at.desc())
            .limit(limit)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            {
                "id": row.id,
                "arrived_at": row.arrived_at,
                "disposition": row.disposition,
                "validity": row.validity,
                "agent": row.agent,
            }
            for row in rows
        ]

    async def list(self, limit: int = 100) -> list[CallView]:
        query = (
            select(CallRecord)
            .options(selectinload(CallRecord.events))
            .order_by(CallRecord.arrived_at.desc())
            .limit(limit)
        )
        async with self._sessions() as session:
            records = (await session.scalars(query)).all()
        return [_view(record) for record in records]
