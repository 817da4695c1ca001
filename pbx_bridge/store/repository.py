"""Reading and writing call records: one session per unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import selectinload

from pbx_bridge.screening.model import Call
from pbx_bridge.screening.policy import Thresholds, connected_seconds, validity
from pbx_bridge.store.database import sessions
from pbx_bridge.store.models import CallEvent, CallRecord


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands datetimes back naive; everything stored is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max(0.0, (end - start).total_seconds()), 3)


def record_from_call(call: Call, thresholds: Thresholds) -> CallRecord:
    record = CallRecord(
        id=call.channel_id,
        caller_number=call.caller_number,
        caller_name=call.caller_name,
        arrived_at=call.arrived_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        ring_seconds=_seconds(call.arrived_at, call.answered_at),
        connected_seconds=(None if (s := connected_seconds(call)) is None else round(s, 3)),
        total_seconds=_seconds(call.arrived_at, call.ended_at),
        validity=validity(call, thresholds).value,
        hangup_cause=call.hangup_cause,
        hangup_cause_text=call.hangup_cause_text[:64],
        adopted=call.adopted,
        sip_call_id=call.sip_call_id,
    )
    record.events = [
        CallEvent(seq=index, at=entry.at, kind=entry.kind, detail=entry.detail[:200])
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
    def __init__(self, engine: AsyncEngine, thresholds: Thresholds) -> None:
        self._sessions = sessions(engine)
        self._thresholds = thresholds

    async def save(self, call: Call) -> None:
        """Write (or rewrite) the call's record and timeline in one transaction."""
        async with self._sessions() as session, session.begin():
            await session.merge(record_from_call(call, self._thresholds))

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
