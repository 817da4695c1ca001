"""The pure core: `step(call, event) -> (call, commands)`. No I/O, no clock, no randomness.

Rules that keep a 112 caller safe:
- answer at once (ringing a 112 caller is wasted time);
- whatever goes wrong while we hold the call, it goes on to the queue, never to a hang-up;
- a hang-up in any phase ends the call and stores exactly one record.
"""

from __future__ import annotations

from dataclasses import replace

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

GREETING = "pbx-bridge/greeting"


def _note(call: Call, entry: TimelineEntry) -> Call:
    return replace(call, timeline=(*call.timeline, entry))


def start(event: Arrived, greeting: str = GREETING) -> tuple[Call, list[Command]]:
    """A new call: answer it, or, if it was adopted already answered, greet it."""
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
        call = replace(call, phase=Phase.QUEUED)
        return call, [WatchHangup(), ContinueToQueue("adopted")]
    return replace(call, phase=Phase.ANSWERING), [WatchHangup(), Answer()]


def step(call: Call, event: Event, greeting: str = GREETING) -> tuple[Call, list[Command]]:
    if call.phase is Phase.ENDED:
        return call, []
    match event:
        case HangupRequested(at=at, cause=cause):
            if call.hangup_cause is None and cause:
                return replace(call, hangup_cause=cause), []
            return call, []
        case HungUp(at=at, cause=cause, cause_text=text):
            # Asterisk reports cause 0 when the channel is destroyed after leaving Stasis;
            # the cause of the hang-up request is the real one then.
            final_cause = cause or call.hangup_cause or 0
            ended = replace(
                _note(call, TimelineEntry(at, "hung_up", f"{final_cause} {text}".strip())),
                phase=Phase.ENDED, ended_at=at, hangup_cause=final_cause,
                hangup_cause_text=text if cause else "", in_stasis=False,
            )
            return ended, [StoreRecord(ended)]
        case Answered(at=at):
            if call.answered_at is not None:
                return call, []
            answered = replace(_note(call, TimelineEntry(at, "answered")), answered_at=at)
            if call.phase is Phase.ANSWERING:
                greeting_call = replace(answered, phase=Phase.GREETING)
                return greeting_call, [Play(greeting, call.greeting_id)]
            return answered, []
        case PlaybackFinished(at=at, playback_id=playback_id):
            if call.phase is Phase.GREETING and playback_id == call.greeting_id:
                queued = replace(
                    _note(call, TimelineEntry(at, "greeted")), phase=Phase.QUEUED
                )
                return queued, [ContinueToQueue("screened")]
            return call, []
        case LeftStasis(at=at):
            left = replace(_note(call, TimelineEntry(at, "left_stasis")), in_stasis=False)
            if call.phase is not Phase.QUEUED:
                # Someone else took the call out of our hands: it still reaches the dialplan's
                # queue (the dialplan goes on to Queue() after Stasis).
                left = replace(left, phase=Phase.QUEUED)
            return left, []
        case CommandFailed(at=at, command=command, reason=reason):
            failed = _note(call, TimelineEntry(at, "command_failed", f"{command}: {reason}"))
            if call.phase in (Phase.ANSWERING, Phase.GREETING) and call.in_stasis:
                return replace(failed, phase=Phase.QUEUED), [ContinueToQueue("command_failed")]
            return failed, []
        case Arrived():
            return call, []
    return call, []
