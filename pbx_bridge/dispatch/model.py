"""Incidents and handoffs as frozen values; the vocabulary the call takers and agencies share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Category(StrEnum):
    HEALTH = "health"
    FIRE = "fire"
    ACCIDENT = "accident"
    CRIME = "crime"
    DISASTER = "disaster"
    ANIMAL = "animal"  # snakes, mostly (Bengkulu)
    FALLEN_TREE = "fallen_tree"
    TRAFFIC = "traffic"
    SOCIAL = "social"
    HEARSE = "hearse"
    OTHER = "other"


class VerificationState(StrEnum):
    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    FALSE = "false"
    PRANK = "prank"


class LocationSource(StrEnum):
    """Who said where: the caller, the network (AML / PIDF-LO) or the call taker."""

    CALLER = "caller"
    NETWORK = "network"
    CALL_TAKER = "call_taker"


class CallClosure(StrEnum):
    """Why a call that is not an emergency was closed (NENA's dispositions)."""

    INFORMATION_REQUEST = "information_request"
    MISDIAL = "misdial"
    PRANK = "prank"
    FALSE = "false"
    REDUNDANT = "redundant"  # another call about an incident already reported
    MISROUTED = "misrouted"


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class HandoffState(StrEnum):
    NEW = "new"  # created, not yet sent
    PENDING = "pending"  # sent, waiting for the agency's acknowledgement
    ESCALATED_TO_SUPERVISOR = "escalated_to_supervisor"
    ESCALATED_TO_SECOND_AGENCY = "escalated_to_second_agency"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


# A handoff in one of these states still waits for an acknowledgement.
AWAITING_ACK = frozenset(
    {
        HandoffState.PENDING,
        HandoffState.ESCALATED_TO_SUPERVISOR,
        HandoffState.ESCALATED_TO_SECOND_AGENCY,
    }
)


@dataclass(frozen=True)
class Location:
    text: str = ""
    latitude: float | None = None
    longitude: float | None = None
    source: LocationSource = LocationSource.CALLER


@dataclass(frozen=True)
class Incident:
    id: int
    category: Category
    description: str
    location: Location
    priority: int
    verification: VerificationState
    status: IncidentStatus
    created_at: datetime
    created_by: str
    closed_at: datetime | None = None
    call_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Handoff:
    """One incident handed to one agency; `due_at` is when it escalates if not acknowledged."""

    id: int
    incident_id: int
    agency: str  # the primary agency of the category
    second_agency: str  # "" when the category has none
    state: HandoffState = HandoffState.NEW
    sent_at: datetime | None = None
    due_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str = ""
    closed_at: datetime | None = None
    second_notified: bool = False  # the second agency was told (escalation reached it)

    @property
    def agencies_notified(self) -> tuple[str, ...]:
        """The agencies that have been told: they may see and acknowledge the handoff."""
        return (self.agency, self.second_agency) if self.second_notified else (self.agency,)


@dataclass(frozen=True)
class HandoffPolicy:
    """How long an agency has to acknowledge, then how long the supervisor has."""

    ack_timeout: timedelta = timedelta(minutes=3)
    supervisor_timeout: timedelta = timedelta(minutes=3)
