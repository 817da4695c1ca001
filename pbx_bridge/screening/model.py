"""The call, the events that happen to it, and the commands the core asks the transports for.

Everything here is a frozen value: the core (`machine.step`) returns new calls, never mutates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Phase(StrEnum):
    ARRIVED = "arrived"
    ANSWERING = "answering"  # Answer sent, waiting for the channel to be Up
    GREETING = "greeting"  # the greeting plays; talk detection and DTMF are on
    LISTENING = "listening"  # greeting done, waiting for speech until the silence timer fires
    PROMPTING = "prompting"  # "if you cannot speak, press 5 twice" plays; DTMF collected
    AWAITING_55 = "awaiting_55"  # the prompt is done, waiting for 55 until its timer fires
    CLOSING = "closing"  # silent call, policy "hangup": the closing message plays, then hang-up
    QUEUED = "queued"  # handed to the dialplan's queue; we still watch for its hang-up
    CONNECTED = "connected"  # a call taker answered (AMI AgentConnect)
    ENDED = "ended"


class Validity(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNANSWERED = "unanswered"


class Disposition(StrEnum):
    """The system's disposition of a call, computed from its timeline (policy.classify)."""

    ABANDONED_BEFORE_ANSWER = "abandoned_before_answer"  # hung up before we answered
    HUNG_UP_IMMEDIATELY = "hung_up_immediately"  # no speech, gone within a few seconds
    HUNG_UP_IN_SCREENING = "hung_up_in_screening"  # gone during screening, after speech/longer
    SILENT = "silent"  # no speech and no 55 when screening timed out
    SILENT_55 = "silent_55"  # could not speak, pressed 55: an emergency
    ABANDONED_IN_QUEUE = "abandoned_in_queue"  # reached the queue, gave up before a call taker
    ANSWERED = "answered"  # a call taker answered


class SilentPolicy(StrEnum):
    """What happens to a silent call (no speech, no 55): configurable, documented."""

    QUEUE = "queue"  # on to the queue at low priority, flagged silent (the default: safest)
    HANGUP = "hangup"  # the closing message, then hang-up


class QueueReason(StrEnum):
    SPEECH = "speech"  # speech detected: normal priority
    PRESSED_55 = "pressed_55"  # top priority, flagged "caller cannot speak"
    SILENT = "silent"  # silent policy QUEUE: low priority, flagged silent
    ADOPTED = "adopted"  # state lost (controller restarted): on to the queue, normal priority
    COMMAND_FAILED = "command_failed"  # something failed while we held the call
    SHUTDOWN = "shutdown"  # the controller stopped while screening: handed back to the queue
    # Moved by the guard (pbx_bridge/guard), never by the controller itself:
    CONTROLLER_FAILED = "controller_failed"  # the controller stopped answering while it held it
    HELD_TOO_LONG = "held_too_long"  # in our Stasis app longer than any screening takes


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
    sip_call_id: str = ""  # the trunk's SIP Call-ID: ties the record to the carrier's/SIPp's logs
    greeting_id: str = ""  # playback ids are derived from the channel id: "<id>-greeting" etc.
    digits: str = ""  # DTMF collected while screening
    speech_at: datetime | None = None  # first speech detected
    cannot_speak: bool = False  # pressed 55
    silent: bool = False  # screening timed out with no speech and no 55
    queued_at: datetime | None = None
    queue_reason: QueueReason | None = None
    queue_priority: int | None = None
    agent: str = ""  # the call taker who answered (from AMI AgentConnect)
    connected_at: datetime | None = None
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
class TalkingStarted:
    """TALK_DETECT heard the caller (ARI ChannelTalkingStarted)."""

    at: datetime


@dataclass(frozen=True)
class TalkingFinished:
    at: datetime
    duration_ms: int


@dataclass(frozen=True)
class DtmfReceived:
    at: datetime
    digit: str


@dataclass(frozen=True)
class TimerFired:
    """A timer the core started with StartTimer (the runtime owns the clock)."""

    at: datetime
    name: str


@dataclass(frozen=True)
class LeftStasis:
    at: datetime


@dataclass(frozen=True)
class QueueJoined:
    """AMI QueueCallerJoin: the caller joined the queue."""

    at: datetime
    queue: str
    position: int


@dataclass(frozen=True)
class AgentConnected:
    """AMI AgentConnect: a call taker answered."""

    at: datetime
    agent: str


@dataclass(frozen=True)
class AgentCompleted:
    """AMI AgentComplete: the call with the call taker ended; reason says who hung up."""

    at: datetime
    agent: str
    reason: str  # "caller", "agent" or "transfer"


@dataclass(frozen=True)
class QueueAbandoned:
    """AMI QueueCallerAbandon: the caller hung up before a call taker answered."""

    at: datetime
    queue: str


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


@dataclass(frozen=True)
class HandBack:
    """The runtime lets go of a call it still holds in Stasis: on to the queue with the
    screening done so far (`reason` ADOPTED after an ARI reconnect, SHUTDOWN on SIGTERM)."""

    at: datetime
    reason: QueueReason


Event = (
    Arrived
    | Answered
    | PlaybackFinished
    | TalkingStarted
    | TalkingFinished
    | DtmfReceived
    | TimerFired
    | LeftStasis
    | QueueJoined
    | AgentConnected
    | AgentCompleted
    | QueueAbandoned
    | HangupRequested
    | HungUp
    | CommandFailed
    | HandBack
)


# --- commands (what the transports must do) ---------------------------------------------------


@dataclass(frozen=True)
class Answer:
    pass


@dataclass(frozen=True)
class WatchHangup:
    """Keep the channel's events flowing after it leaves Stasis."""


@dataclass(frozen=True)
class Play:
    prompt: str  # a sound name, e.g. "pbx-bridge/greeting"
    playback_id: str


@dataclass(frozen=True)
class StopPlayback:
    playback_id: str


@dataclass(frozen=True)
class StartTimer:
    name: str
    seconds: float


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class ContinueToQueue:
    reason: QueueReason
    priority: int = 0  # app_queue QUEUE_PRIO: higher is served first
    flags: tuple[str, ...] = ()  # e.g. ("cannot_speak",), ("silent",): shown to the call taker


@dataclass(frozen=True)
class Hangup:
    """Only ever after the closing message of a silent call under SilentPolicy.HANGUP."""

    reason: str


@dataclass(frozen=True)
class StoreRecord:
    call: Call


Command = (
    Answer
    | WatchHangup
    | Play
    | StopPlayback
    | StartTimer
    | CancelTimer
    | ContinueToQueue
    | Hangup
    | StoreRecord
)
