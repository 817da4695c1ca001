"""What call takers, supervisors and agencies do with incidents: the use cases over the store.

Rules live here or in the pure handoff machine; the repository only reads and writes, and the
web layer only parses, authorizes and renders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import structlog

from pbx_bridge.dispatch import handoff as machine
from pbx_bridge.dispatch.agencies import Agencies
from pbx_bridge.dispatch.model import (
    AWAITING_ACK,
    CallClosure,
    Category,
    Handoff,
    HandoffPolicy,
    HandoffState,
    Incident,
    IncidentStatus,
    Location,
    VerificationState,
)
from pbx_bridge.dispatch.repository import (
    AlreadyDone,
    CallStatus,
    DispatchRepository,
    TimelineItem,
)
from pbx_bridge.store.users import Role, User

log = structlog.get_logger(__name__)

Publish = Callable[[str, dict[str, Any]], None]


class DispatchError(Exception):
    """A use case refused; `field` names the request field at fault when there is one."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DispatchError):
    pass


class Conflict(DispatchError):
    """The request is well formed but the incident, call or handoff is not in a state for it."""


@dataclass(frozen=True)
class IncidentDraft:
    category: Category
    description: str
    location: Location
    priority: int = 3


@dataclass(frozen=True)
class IncidentDetail:
    incident: Incident
    timeline: list[TimelineItem]
    handoffs: list[Handoff]


def handoff_event(handoff: Handoff, commands: Sequence[machine.Command]) -> dict[str, Any]:
    return {
        "handoff_id": handoff.id,
        "incident_id": handoff.incident_id,
        "state": handoff.state.value,
        "agencies": list(handoff.agencies_notified),
        "notify_agencies": [c.agency for c in commands if isinstance(c, machine.NotifyAgency)],
        "notify_supervisor": [
            c.reason for c in commands if isinstance(c, machine.NotifySupervisor)
        ],
    }


EVENT_KIND = {
    HandoffState.PENDING: "handoff.sent",
    HandoffState.ESCALATED_TO_SUPERVISOR: "handoff.escalated",
    HandoffState.ESCALATED_TO_SECOND_AGENCY: "handoff.escalated",
    HandoffState.ACKNOWLEDGED: "handoff.acknowledged",
    HandoffState.CLOSED: "handoff.closed",
}


class DispatchService:
    def __init__(
        self,
        repo: DispatchRepository,
        agencies: Agencies,
        policy: HandoffPolicy,
        publish: Publish,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.repo = repo
        self.agencies = agencies
        self.policy = policy
        self._publish = publish
        self._now = now

    # --- calls

    async def call_status(self, call_id: str) -> CallStatus:
        return await self.repo.call_status(call_id)

    async def _open_call(self, call_id: str) -> None:
        status = await self.repo.call_status(call_id)
        if not status.exists:
            raise NotFound(f"no call {call_id!r}")
        if status.incident_id is not None:
            raise Conflict(f"call {call_id} is already on incident {status.incident_id}")
        if status.closure is not None:
            raise Conflict(f"call {call_id} was closed as {status.closure}")

    async def create_incident(self, call_id: str, draft: IncidentDraft, actor: User) -> Incident:
        await self._open_call(call_id)
        now = self._now()
        incident = Incident(
            id=0,
            category=draft.category,
            description=draft.description,
            location=draft.location,
            priority=draft.priority,
            verification=VerificationState.UNVERIFIED,
            status=IncidentStatus.OPEN,
            created_at=now,
            created_by=actor.name,
        )
        timeline = [
            TimelineItem(now, "created", actor.name, f"{draft.category} from call {call_id}"),
        ]
        try:
            stored = await self.repo.create_incident(incident, call_id, timeline)
        except AlreadyDone as error:
            raise Conflict(f"call {call_id} was attached or closed meanwhile") from error
        self._publish("incident.created", _incident_event(stored))
        return stored

    async def attach_call(self, call_id: str, incident_id: int, actor: User) -> Incident:
        """A redundant call: another report of an incident already open."""
        incident = await self._incident(incident_id, field="incident_id")
        if incident.status is IncidentStatus.CLOSED:
            raise Conflict(f"incident {incident_id} is closed", "incident_id")
        await self._open_call(call_id)
        now = self._now()
        item = TimelineItem(now, "call_attached", actor.name, call_id)
        try:
            await self.repo.attach_call(incident_id, call_id, actor.name, now, [item])
        except AlreadyDone as error:
            raise Conflict(f"call {call_id} was attached or closed meanwhile") from error
        attached = replace(incident, call_ids=(*incident.call_ids, call_id))
        self._publish("incident.call_attached", _incident_event(attached))
        return attached

    async def close_call(
        self, call_id: str, disposition: CallClosure, note: str, actor: User
    ) -> None:
        await self._open_call(call_id)
        try:
            await self.repo.close_call(call_id, disposition, actor.name, self._now(), note)
        except AlreadyDone as error:
            raise Conflict(f"call {call_id} was attached or closed meanwhile") from error
        self._publish("call.closed", {"call_id": call_id, "disposition": disposition.value})

    # --- incidents

    async def _incident(self, incident_id: int, field: str = "") -> Incident:
        incident = await self.repo.incident(incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}", field)
        return incident

    async def visible_incidents(
        self, actor: User, limit: int, status: IncidentStatus | None = None
    ) -> list[Incident]:
        """Newest first; an agency sees only the incidents handed to it."""
        agency = actor.agency if actor.role is Role.AGENCY else None
        return await self.repo.incidents(limit, status, agency)

    async def visible_incident(self, incident_id: int, actor: User) -> IncidentDetail:
        """The incident, its timeline and handoffs; an agency sees only what was handed to it."""
        incident = await self._incident(incident_id)
        handoffs = await self.repo.handoffs(incident_id=incident_id)
        if actor.role is Role.AGENCY:
            handoffs = [h for h in handoffs if actor.agency in h.agencies_notified]
            if not handoffs:
                raise NotFound(f"no incident {incident_id} handed to {actor.agency}")
        return IncidentDetail(incident, await self.repo.timeline(incident_id), handoffs)

    async def verify(
        self, incident_id: int, state: VerificationState, note: str, actor: User
    ) -> Incident:
        incident = await self._incident(incident_id)
        if incident.status is IncidentStatus.CLOSED:
            raise Conflict(f"incident {incident_id} is closed")
        detail = f"{incident.verification} -> {state}" + (f": {note}" if note else "")
        item = TimelineItem(self._now(), "verification", actor.name, detail)
        await self.repo.set_verification(incident_id, state, item)
        changed = replace(incident, verification=state)
        self._publish("incident.verified", _incident_event(changed))
        return changed

    async def close_incident(self, incident_id: int, note: str, actor: User) -> Incident:
        """Close the incident and every handoff still open on it."""
        incident = await self._incident(incident_id)
        if incident.status is IncidentStatus.CLOSED:
            raise Conflict(f"incident {incident_id} is already closed")
        for handoff in await self.repo.handoffs(incident_id=incident_id):
            await self._apply(handoff.id, machine.Closed, actor.name)
        now = self._now()
        item = TimelineItem(now, "closed", actor.name, note)
        if not await self.repo.close_incident(incident_id, now, item):
            raise Conflict(f"incident {incident_id} is already closed")
        closed = replace(incident, status=IncidentStatus.CLOSED, closed_at=now)
        self._publish("incident.closed", _incident_event(closed))
        return closed

    # --- handoffs

    async def hand_off(self, incident_id: int, agency: str, actor: User) -> Handoff:
        """Hand a verified incident to its category's agency (or to the one named)."""
        incident = await self._incident(incident_id)
        if incident.status is IncidentStatus.CLOSED:
            raise Conflict(f"incident {incident_id} is closed")
        if incident.verification is not VerificationState.VERIFIED:
            raise Conflict(
                f"incident {incident_id} is {incident.verification}: only verified incidents "
                "are handed off; verify it first",
                "verification",
            )
        route = self.agencies.route(incident.category)
        agency = agency or route.primary
        if agency not in self.agencies.names:
            raise DispatchError(f"unknown agency {agency!r}; see GET /api/agencies", "agency")
        active = await self.repo.handoffs(incident_id=incident_id, states=AWAITING_ACK)
        if any(agency in h.agencies_notified for h in active):
            raise Conflict(f"incident {incident_id} already waits for {agency}", "agency")
        second = route.second if agency == route.primary else ""
        new = Handoff(id=0, incident_id=incident_id, agency=agency, second_agency=second)
        sent, commands = machine.step(new, machine.Sent(self._now()), self.policy)
        stored = await self.repo.add_handoff(sent, self._timeline(commands, actor.name))
        self._publish("handoff.sent", handoff_event(stored, commands))
        return stored

    async def acknowledge(self, handoff_id: int, actor: User) -> Handoff:
        handoff = await self.repo.handoff(handoff_id)
        if handoff is None or (
            actor.role is Role.AGENCY and actor.agency not in handoff.agencies_notified
        ):
            raise NotFound(f"no handoff {handoff_id}" + _for_agency(actor))
        if handoff.state is HandoffState.CLOSED:
            raise Conflict(f"handoff {handoff_id} is closed")
        return await self._apply(
            handoff_id, lambda at: machine.Acknowledged(at, actor.name), actor.name
        )

    async def close_handoff(self, handoff_id: int, actor: User) -> Handoff:
        """The agency's work on it is done (the centre closes the incident itself)."""
        handoff = await self.repo.handoff(handoff_id)
        if handoff is None or (
            actor.role is Role.AGENCY and actor.agency not in handoff.agencies_notified
        ):
            raise NotFound(f"no handoff {handoff_id}" + _for_agency(actor))
        if handoff.state is HandoffState.CLOSED:
            raise Conflict(f"handoff {handoff_id} is already closed")
        if handoff.state is not HandoffState.ACKNOWLEDGED:
            raise Conflict(f"handoff {handoff_id} is {handoff.state}: acknowledge it first")
        return await self._apply(handoff_id, machine.Closed, actor.name)

    async def unacknowledged(self, limit: int = 100) -> list[Handoff]:
        """Handoffs still waiting for an agency's acknowledgement, oldest first."""
        return await self.repo.handoffs(states=AWAITING_ACK, limit=limit)

    async def visible_handoffs(self, actor: User, limit: int) -> list[Handoff]:
        agency = actor.agency if actor.role is Role.AGENCY else None
        return await self.repo.handoffs(agency=agency, limit=limit)

    async def escalate_due(self) -> int:
        """Step every handoff whose escalation is due; returns how many escalated."""
        escalated = 0
        for handoff in await self.repo.due_handoffs(self._now()):
            after = await self._apply(handoff.id, machine.EscalationTimerFired, "system")
            escalated += after.state is not handoff.state
        return escalated

    async def _apply(
        self, handoff_id: int, event: Callable[[datetime], machine.Event], actor: str
    ) -> Handoff:
        """Step the stored handoff and write the result, re-reading if someone else won."""
        for _ in range(5):
            before = await self.repo.handoff(handoff_id)
            if before is None:
                raise NotFound(f"no handoff {handoff_id}")
            after, commands = machine.step(before, event(self._now()), self.policy)
            if after == before:
                return before
            if await self.repo.update_handoff(before, after, self._timeline(commands, actor)):
                self._publish(EVENT_KIND[after.state], handoff_event(after, commands))
                log.info("handoff.changed", handoff=handoff_id, state=after.state.value)
                return after
        raise Conflict(f"handoff {handoff_id} keeps changing; try again")

    def _timeline(self, commands: Sequence[machine.Command], actor: str) -> list[TimelineItem]:
        now = self._now()
        return [
            TimelineItem(now, c.kind, actor, c.detail)
            for c in commands
            if isinstance(c, machine.RecordTimeline)
        ]


def _for_agency(actor: User) -> str:
    return f" handed to {actor.agency}" if actor.role is Role.AGENCY else ""


def _incident_event(incident: Incident) -> dict[str, Any]:
    # No caller's number: events carry ids, the category and the state only.
    return {
        "incident_id": incident.id,
        "category": incident.category.value,
        "priority": incident.priority,
        "verification": incident.verification.value,
        "status": incident.status.value,
        "call_ids": list(incident.call_ids),
    }
