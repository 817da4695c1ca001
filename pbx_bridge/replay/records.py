"""What the store holds for a replay's callers, and the incidents its call takers file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.dispatch.model import Category, Location, VerificationState
from pbx_bridge.dispatch.services import DispatchService, IncidentDraft
from pbx_bridge.replay.plan import PlannedCall
from pbx_bridge.replay.verdict import Recorded
from pbx_bridge.store.database import sessions
from pbx_bridge.store.models import CallRecord, IncidentCall, IncidentRecord
from pbx_bridge.store.users import Role, User

_CHUNK = 500  # numbers per IN (...): well under SQLite's and PostgreSQL's parameter limits
REPLAY_TAKER = User("replay call taker", Role.CALL_TAKER)
REPLAY_SUPERVISOR = User("replay supervisor", Role.SUPERVISOR)


async def recorded(
    engine: AsyncEngine, calls: Sequence[PlannedCall], since: datetime
) -> dict[str, tuple[str, Recorded]]:
    """Caller number -> (call id, what the store says), for calls that arrived since `since`."""
    numbers = [call.caller for call in calls]
    found: dict[str, tuple[str, Recorded]] = {}
    async with sessions(engine)() as session:
        for start in range(0, len(numbers), _CHUNK):
            chunk = numbers[start : start + _CHUNK]
            rows = await session.execute(
                select(
                    CallRecord.caller_number,
                    CallRecord.id,
                    CallRecord.disposition,
                    CallRecord.validity,
                    IncidentRecord.category,
                )
                .outerjoin(IncidentCall, IncidentCall.call_id == CallRecord.id)
                .outerjoin(IncidentRecord, IncidentRecord.id == IncidentCall.incident_id)
                .where(CallRecord.caller_number.in_(chunk), CallRecord.arrived_at >= since)
            )
            for number, call_id, disposition, validity, category in rows:
                incidents = (category,) if category else ()
                shown = disposition
                if number in found:  # a second record for one planned call: show both
                    incidents = (*found[number][1].incidents, *incidents)
                    shown = f"{found[number][1].disposition}+{disposition}"
                found[number] = (call_id, Recorded(shown, validity, incidents))
    return found


async def file_emergencies(
    dispatch: DispatchService,
    calls: Sequence[PlannedCall],
    records: dict[str, tuple[str, Recorded]],
) -> int:
    """What the call takers do with the planned emergencies: an incident per call, verified,
    handed to its agency. Returns how many were filed."""
    filed = 0
    for call in calls:
        if not call.emergency or call.caller not in records:
            continue
        call_id = records[call.caller][0]
        draft = IncidentDraft(
            Category(call.emergency), f"replayed call {call.index}", Location("replay")
        )
        incident = await dispatch.create_incident(call_id, draft, REPLAY_TAKER)
        await dispatch.verify(incident.id, VerificationState.VERIFIED, "replay", REPLAY_SUPERVISOR)
        await dispatch.hand_off(incident.id, "", REPLAY_SUPERVISOR)
        filed += 1
    return filed
