"""AMI queue events -> the core's events for the caller's channel (matched by Uniqueid).

app_queue's events time every second of the wait: join, the call taker connected (and after how
long), the caller giving up, who hung up. With `timestampevents = yes` each carries Asterisk's
own time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pbx_bridge.screening.model import (
    AgentCompleted,
    AgentConnected,
    Event,
    QueueAbandoned,
    QueueJoined,
)

AmiEvent = dict[str, str]


def event_time(event: AmiEvent) -> datetime:
    stamp = event.get("Timestamp")
    try:
        return datetime.fromtimestamp(float(stamp), UTC) if stamp else datetime.now(UTC)
    except (ValueError, OverflowError, OSError):  # not a number, or no time a clock has
        return datetime.now(UTC)


def _member(event: AmiEvent) -> str:
    return event.get("MemberName") or event.get("Interface", "").removeprefix("PJSIP/")


def _position(event: AmiEvent) -> int:
    value = event.get("Position", "0")
    return int(value) if value.isdigit() else 0


_TRANSLATIONS: dict[str, Callable[[AmiEvent, datetime], Event]] = {
    "QueueCallerJoin": lambda e, at: QueueJoined(at, e.get("Queue", ""), _position(e)),
    "AgentConnect": lambda e, at: AgentConnected(at, _member(e)),
    "AgentComplete": lambda e, at: AgentCompleted(at, _member(e), e.get("Reason", "")),
    "QueueCallerAbandon": lambda e, at: QueueAbandoned(at, e.get("Queue", "")),
}

EVENT_NAMES = tuple(_TRANSLATIONS)


def translate(event: AmiEvent) -> tuple[str, Event] | None:
    """(caller's channel id, core event), or None for events the core does not follow."""
    make = _TRANSLATIONS.get(event.get("Event", ""))
    uniqueid = event.get("Uniqueid", "")
    if make is None or not uniqueid:
        return None
    return uniqueid, make(event, event_time(event))
