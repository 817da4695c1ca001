"""The call, the events that happen to it, and the commands the core asks the transports for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Phase(StrEnum):
    ARRIVED = "arrived"
    ANSWERING = "answering"
    GREETING = "greeting"
    QUEUED = "queued"  # handed to the dialplan's queue; we still watch for its hang-up
    ENDED = "ended"


class Validity(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNANSWERED = "unanswered"


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class Call:
    channel_id: str
    caller_number: str
    caller_name: str
    arrived_at: datetime
    phase: Phase = Phase.ARRIVED
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: int | None = None
    hangup_cause_text: str = ""
    in_stasis: bool = True
    adopted: bool = False
    sip_call_id: str = (
        ""  # the trunk's SIP Call-ID: ties the record to the carrier's and SIPp's logs
    )
    greeting_id: str = ""
    timeline: tuple[TimelineEntry, ...] = field(default=())


# --- events (what happened, as facts with Asterisk's own timestamps) --------------------------


@dataclass(frozen=True)
class Arrived:
    at: datetime
    channel_id: str
    caller_number: str
    caller_name: str = ""
    answered: bool = False  # adopted after a reconnect: the channel may be up already
    sip_call_id: str = ""


@dataclass(frozen=True)
class Answered:
    at: datetime


@dataclass(frozen=True)
class PlaybackFinished:
    at: datetime
    playback_id: str


@dataclass(frozen=True)
class LeftStasis:
    at: datetime


@dataclass(frozen=True)
class HangupRequested:
    """Someone asked for the hang-up (the caller's BYE, or us); the cause may come only later."""

    at: datetime
    cause: int | None = None


@dataclass(frozen=True)
class HungUp:
    at: datetime
    cause: int
    cause_text: str = ""


@dataclass(frozen=True)
class CommandFailed:
    at: datetime
    command: str
    reason: str


Event = (
    Arrived | Answered | PlaybackFinished | LeftStasis | HangupRequested | HungUp | CommandFailed
)


# --- commands (what the transports must do) ---------------------------------------------------


@dataclass(frozen=True)
class Answer:
    pass


@dataclass(frozen=True)
class Play:
    prompt: str
    playback_id: str


@dataclass(frozen=True)
class WatchHangup:
    """Keep the channel's events flowing after it leaves Stasis."""


@dataclass(frozen=True)
class ContinueToQueue:
    reason: str


@dataclass(frozen=True)
class StoreRecord:
    call: Call


Command = Answer | Play | WatchHangup | ContinueToQueue | StoreRecord
