"""The pure core: `step(call, event) -> (call, commands)`. No I/O, no clock, no randomness.

Rules that keep a 112 caller safe:
- answer at once (ringing a 112 caller is wasted time);
- whatever goes wrong while we hold the call, it goes on to the queue, never to a hang-up;
- a hang-up in any phase ends the call and stores exactly one record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pbx_bridge.screening.model import (
    Answer,
    Answered,
    Arrived,
    Call,
    Command,
    CommandFailed,
    ContinueToQueue,
    Event,
    HangupRequested,
    HungUp,
    LeftStasis,
    Phase,
    Play,
    PlaybackFinished,
    StoreRecord,
    TimelineEntry,
    WatchHangup,
)

Outcome = tuple[Call, list[Command]]


@dataclass(frozen=True)
class Script:
    """What the caller hears: sound names, so an operator can swap in a recorded voice."""

    greeting: str = "pbx-bridge/greeting"


def _note(call: Call, at: Any, kind: str, detail: str = "") -> Call:
    return replace(call, timeline=(*call.timeline, TimelineEntry(at, kind, detail)))


def start(event: Arrived, script: Script = Script()) -> Outcome:  # noqa: ARG001 - symmetry with step
    """A new call: answer it, or, if it was adopted already answered, send it to the queue."""
    call = Call(
        channel_id=event.channel_id,
        caller_number=event.caller_number,
        caller_name=event.caller_name,
        arrived_at=event.at,
        adopted=event.answered,
        sip_call_id=event.sip_call_id,
        greeting_id=f"{event.channel_id}-greeting",
        timeline=(TimelineEntry(event.at, "arrived"),),
    )
    if event.answered:
        # Adopted after a reconnect: its screening state is lost, so it goes to the queue.
        return replace(call, phase=Phase.QUEUED), [WatchHangup(), ContinueToQueue("adopted")]
    return replace(call, phase=Phase.ANSWERING), [WatchHangup(), Answer()]


def _answered(call: Call, event: Answered, script: Script) -> Outcome:
    if call.answered_at is not None:
        return call, []
    answered = replace(_note(call, event.at, "answered"), answered_at=event.at)
    if call.phase is Phase.ANSWERING:
        return replace(answered, phase=Phase.GREETING), [Play(script.greeting, call.greeting_id)]
    return answered, []


def _playback_finished(call: Call, event: PlaybackFinished, _script: Script) -> Outcome:
    if call.phase is Phase.GREETING and event.playback_id == call.greeting_id:
        queued = replace(_note(call, event.at, "greeted"), phase=Phase.QUEUED)
        return queued, [ContinueToQueue("screened")]
    return call, []


def _left_stasis(call: Call, event: LeftStasis, _script: Script) -> Outcome:
    # Whoever took the call out of our hands, the dialplan goes on to Queue() after Stasis.
    left = replace(_note(call, event.at, "left_stasis"), in_stasis=False)
    return replace(left, phase=Phase.QUEUED), []


def _hangup_requested(call: Call, event: HangupRequested, _script: Script) -> Outcome:
    if call.hangup_cause is None and event.cause:
        return replace(call, hangup_cause=event.cause), []
    return call, []


def _hung_up(call: Call, event: HungUp, _script: Script) -> Outcome:
    # Asterisk reports cause 0 when a channel is destroyed after leaving Stasis; the cause
    # of the hang-up request is the real one then.
    cause = event.cause or call.hangup_cause or 0
    ended = replace(
        _note(call, event.at, "hung_up", str(cause)),
        phase=Phase.ENDED,
        ended_at=event.at,
        hangup_cause=cause,
        hangup_cause_text=event.cause_text if event.cause else "",
        in_stasis=False,
    )
    return ended, [StoreRecord(ended)]


def _command_failed(call: Call, event: CommandFailed, _script: Script) -> Outcome:
    failed = _note(call, event.at, "command_failed", f"{event.command}: {event.reason}")
    if call.phase in (Phase.ANSWERING, Phase.GREETING) and call.in_stasis:
        return replace(failed, phase=Phase.QUEUED), [ContinueToQueue("command_failed")]
    return failed, []


def _ignore(call: Call, _event: Any, _script: Script) -> Outcome:
    return call, []


_HANDLERS: dict[type, Callable[[Call, Any, Script], Outcome]] = {
    Answered: _answered,
    PlaybackFinished: _playback_finished,
    LeftStasis: _left_stasis,
    HangupRequested: _hangup_requested,
    HungUp: _hung_up,
    CommandFailed: _command_failed,
    Arrived: _ignore,
}


def step(call: Call, event: Event, script: Script = Script()) -> Outcome:
    if call.phase is Phase.ENDED:
        return call, []
    return _HANDLERS[type(event)](call, event, script)
