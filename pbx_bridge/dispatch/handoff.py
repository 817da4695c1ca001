"""The pure handoff machine: `step(handoff, event, policy) -> (handoff, commands)`.

No I/O and no clock: every event carries its time. The rules:
- a handoff is sent once; from then it waits for the agency's acknowledgement;
- unacknowledged after `ack_timeout`, it escalates to the supervisor; still unacknowledged after
  `supervisor_timeout`, to the category's second agency (when it has one);
- a timer that fires early, or for a handoff no longer waiting, changes nothing (the loop that
  fires timers may be late, early or run twice);
- acknowledged or closed, it never escalates again; closed is final.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from pbx_bridge.dispatch.model import AWAITING_ACK, Handoff, HandoffPolicy, HandoffState

# --- events


@dataclass(frozen=True)
class Sent:
    at: datetime


@dataclass(frozen=True)
class Acknowledged:
    at: datetime
    by: str


@dataclass(frozen=True)
class Closed:
    at: datetime


@dataclass(frozen=True)
class EscalationTimerFired:
    at: datetime


Event = Sent | Acknowledged | Closed | EscalationTimerFired

# --- commands


@dataclass(frozen=True)
class NotifyAgency:
    agency: str


@dataclass(frozen=True)
class NotifySupervisor:
    reason: str


@dataclass(frozen=True)
class RecordTimeline:
    """An entry on the incident's timeline."""

    kind: str
    detail: str = ""


Command = NotifyAgency | NotifySupervisor | RecordTimeline
Outcome = tuple[Handoff, list[Command]]


def step(handoff: Handoff, event: Event, policy: HandoffPolicy) -> Outcome:
    if handoff.state is HandoffState.CLOSED:
        return handoff, []
    match event:
        case Sent(at=at):
            return _sent(handoff, at, policy)
        case Acknowledged(at=at, by=by):
            return _acknowledged(handoff, at, by)
        case Closed(at=at):
            closed = replace(handoff, state=HandoffState.CLOSED, due_at=None, closed_at=at)
            return closed, [RecordTimeline("handoff_closed", handoff.agency)]
        case EscalationTimerFired(at=at):
            return _timer(handoff, at, policy)


def _sent(handoff: Handoff, at: datetime, policy: HandoffPolicy) -> Outcome:
    if handoff.state is not HandoffState.NEW:
        return handoff, []
    sent = replace(handoff, state=HandoffState.PENDING, sent_at=at, due_at=at + policy.ack_timeout)
    return sent, [NotifyAgency(handoff.agency), RecordTimeline("handoff_sent", handoff.agency)]


def _acknowledged(handoff: Handoff, at: datetime, by: str) -> Outcome:
    if handoff.state not in AWAITING_ACK:
        return handoff, []
    acknowledged = replace(
        handoff,
        state=HandoffState.ACKNOWLEDGED,
        due_at=None,
        acknowledged_at=at,
        acknowledged_by=by,
    )
    return acknowledged, [RecordTimeline("handoff_acknowledged", f"{handoff.agency} by {by}")]


def _timer(handoff: Handoff, at: datetime, policy: HandoffPolicy) -> Outcome:
    if handoff.due_at is None or at < handoff.due_at:
        return handoff, []
    if handoff.state is HandoffState.PENDING:
        reason = f"{handoff.agency} did not acknowledge in {policy.ack_timeout}"
        escalated = replace(
            handoff,
            state=HandoffState.ESCALATED_TO_SUPERVISOR,
            due_at=at + policy.supervisor_timeout if handoff.second_agency else None,
        )
        return escalated, [
            NotifySupervisor(reason),
            RecordTimeline("handoff_escalated_to_supervisor", reason),
        ]
    if handoff.state is HandoffState.ESCALATED_TO_SUPERVISOR and handoff.second_agency:
        escalated = replace(
            handoff,
            state=HandoffState.ESCALATED_TO_SECOND_AGENCY,
            due_at=None,
            second_notified=True,
        )
        return escalated, [
            NotifyAgency(handoff.second_agency),
            NotifySupervisor(f"handed to the second agency {handoff.second_agency}"),
            RecordTimeline("handoff_escalated_to_second_agency", handoff.second_agency),
        ]
    return handoff, []
