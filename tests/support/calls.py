"""Calls for tests, played through the pure core (`machine.step`), so their timelines are the ones
the controller really writes, never typed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pbx_bridge.screening import machine
from pbx_bridge.screening.machine import ScreeningConfig
from pbx_bridge.screening.model import (
    AgentCompleted,
    AgentConnected,
    Answered,
    Arrived,
    Call,
    Event,
    HungUp,
    LeftStasis,
    Phase,
    QueueJoined,
    TalkingStarted,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 15:00 in Jakarta, the reports' default zone
NUMBER = "081234567890"
CONFIG = ScreeningConfig()


def played(
    channel_id: str, events: list[Event], *, arrived: datetime = T0, number: str = NUMBER
) -> Call:
    """The call after its arrival at `arrived` and `events`, exactly as the core keeps it."""
    first = Arrived(arrived, channel_id, number, "Budi", sip_call_id=f"sip-{channel_id}")
    call, _ = machine.start(first, CONFIG)
    for event in events:
        call, _ = machine.step(call, event, CONFIG)
    return call


def ended_call(
    channel_id: str,
    seconds_on_line: float = 15,
    arrived: datetime = T0,
    *,
    agent: str = "",
    number: str = NUMBER,
) -> Call:
    """A caller who spoke, went to the queue and hung up `seconds_on_line` after our answer:
    unanswered in the queue, or answered by `agent` 4 s after our answer."""
    answered = arrived + timedelta(seconds=0.25)
    ended = answered + timedelta(seconds=seconds_on_line)
    events: list[Event] = [
        Answered(answered),
        TalkingStarted(answered),
        LeftStasis(answered),
        QueueJoined(answered, "emergency-112", 1),
    ]
    if agent:
        connected = answered + timedelta(seconds=4)
        events += [AgentConnected(connected, agent), AgentCompleted(ended, agent, "caller")]
    call = played(channel_id, [*events, HungUp(ended, 16, "Normal Clearing")], arrived=arrived,
                  number=number)  # fmt: skip
    if call.phase is not Phase.ENDED:
        raise AssertionError(f"the core did not end {channel_id}: {call.phase}")
    return call
