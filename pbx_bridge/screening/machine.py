"""The pure core: `step(call, event) -> (call, commands)`. No I/O, no clock, no randomness.

Screening: answer at once, greet, listen for speech, prompt "if you cannot speak, press 5
twice", wait for 55; speech or 55 sends the call to the queue at once. Rules that keep a 112
caller safe:
- answer at once (ringing a 112 caller is wasted time);
- whatever goes wrong while we hold the call, it goes on to the queue, never to a hang-up;
- we hang up only a silent call under SilentPolicy.HANGUP, after its closing message, and a
  caller who speaks or presses 55 before that goes to the queue instead;
- a ContinueToQueue that fails is retried, with capped backoff, while the call is in Stasis;
- a hang-up in any phase ends the call and stores exactly one record, the last command;
- nothing a caller or peer sends grows the call without limit (the timeline and digits are
  capped; past the cap only the first entry of each kind that decides the record is noted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pbx_bridge.screening import timeline as kind
from pbx_bridge.screening.causes import describe
from pbx_bridge.screening.model import (
    AgentCompleted,
    AgentConnected,
    Answer,
    Answered,
    Arrived,
    Call,
    CancelTimer,
    Command,
    CommandFailed,
    ContinueToQueue,
    DtmfReceived,
    Event,
    HandBack,
    Hangup,
    HangupRequested,
    HungUp,
    LeftStasis,
    Phase,
    Play,
    PlaybackFinished,
    QueueAbandoned,
    QueueJoined,
    QueueReason,
    SilentPolicy,
    StartTimer,
    StopPlayback,
    StoreRecord,
    TalkingFinished,
    TalkingStarted,
    TimelineEntry,
    TimerFired,
    WatchHangup,
)

Outcome = tuple[Call, list[Command]]

LISTEN_TIMER = "listen"
AWAIT_55_TIMER = "await_55"
RETRY_QUEUE_TIMER = "retry_queue"  # a failed ContinueToQueue is tried again when it fires
GREETING_PLAYBACK = "greeting"
PRESS_55_PLAYBACK = "press55"
CLOSING_PLAYBACK = "closing"
HANGUP_REASON = "silent"
SILENT_FLAG = "silent"  # flags are shown to the call taker
CANNOT_SPEAK_FLAG = "cannot_speak"
BY_DIALPLAN = "dialplan"  # the queued entry's detail when Stasis ended without our ContinueToQueue

# Hostile peers can send DTMF (or Asterisk repeat events) for as long as the line is up: the
# call keeps this many timeline entries, then only the first entry of each kind that decides
# the record (policy.classify reads the kinds present and the first time of each).
TIMELINE_LIMIT = 200
ALWAYS_NOTED = frozenset(
    {
        kind.ANSWERED,
        kind.SPEECH,
        kind.PRESSED_55,
        kind.SILENT,
        kind.QUEUED,
        kind.LEFT_STASIS,
        kind.AGENT_CONNECTED,
        kind.AGENT_COMPLETED,
        kind.QUEUE_ABANDONED,
        kind.HANGUP_REQUESTED,
        kind.HANGUP_SENT,
        kind.HUNG_UP,
    }
)
DIGITS_KEPT = 16  # only the last two decide (55); the rest are in the timeline

# Phases in which we screen the call ourselves, and those in which we still hold it in Stasis.
SCREENING = frozenset(
    {Phase.ANSWERING, Phase.GREETING, Phase.LISTENING, Phase.PROMPTING, Phase.AWAITING_55}
)
HELD = SCREENING | {Phase.CLOSING}

# What of ours runs in each phase: the prompt playing, the timer counting.
_PLAYING = {
    Phase.GREETING: GREETING_PLAYBACK,
    Phase.PROMPTING: PRESS_55_PLAYBACK,
    Phase.CLOSING: CLOSING_PLAYBACK,
}
_TIMING = {Phase.LISTENING: LISTEN_TIMER, Phase.AWAITING_55: AWAIT_55_TIMER}


@dataclass(frozen=True)
class ScreeningConfig:
    greeting: str = "pbx-bridge/greeting"
    press_55_prompt: str = "pbx-bridge/press-55"  # "if you cannot speak, press 5 twice"
    closing_prompt: str = "pbx-bridge/closing"  # played before hanging up a silent call (HANGUP)
    listen_seconds: float = 5.0  # after the greeting ends, wait this long for speech
    await_55_seconds: float = 10.0  # after the 55 prompt ends, wait this long for 55
    silent_policy: SilentPolicy = SilentPolicy.QUEUE
    priority_55: int = 10  # app_queue QUEUE_PRIO: higher served first
    priority_speech: int = 5
    priority_silent: int = 1
    queue_retry_seconds: float = 0.5  # a failed ContinueToQueue: first retry after this,
    queue_retry_max_seconds: float = 8.0  # doubling up to this, while the call is in Stasis


def playback_id(channel_id: str, name: str) -> str:
    """Our playback ids derive from the channel id, so a stale or foreign one is recognised."""
    return f"{channel_id}-{name}"


# --- small facts about a call


def _note(call: Call, at: datetime, what: str, detail: str = "") -> Call:
    if len(call.timeline) >= TIMELINE_LIMIT and (what not in ALWAYS_NOTED or _noted(call, what)):
        return call
    return replace(call, timeline=(*call.timeline, TimelineEntry(at, what, detail)))


def _noted(call: Call, what: str) -> bool:
    return any(entry.kind == what for entry in call.timeline)


def _hangup_sent(call: Call) -> bool:
    return _noted(call, kind.HANGUP_SENT)


def _can_send_to_queue(call: Call) -> bool:
    """We still hold the call in Stasis and have not hung it up ourselves."""
    return call.phase in HELD and call.in_stasis and not _hangup_sent(call)


def _playing(call: Call) -> str | None:
    """The id of our prompt playing now, if any (the closing one is over once we hung up)."""
    name = _PLAYING.get(call.phase)
    if name is None or _hangup_sent(call):
        return None
    return playback_id(call.channel_id, name)


def _release(call: Call) -> list[Command]:
    """Stop what of ours still runs before the call leaves our hands."""
    playing, timing = _playing(call), _TIMING.get(call.phase)
    stop: list[Command] = [] if playing is None else [StopPlayback(playing)]
    cancel: list[Command] = [] if timing is None else [CancelTimer(timing)]
    return [*stop, *cancel]


def _enter_queue(
    call: Call, at: datetime, reason: QueueReason | None, priority: int | None, detail: str
) -> Call:
    queued = replace(
        call,
        phase=Phase.QUEUED,
        queued_at=at,
        queue_reason=reason,
        queue_priority=priority,
    )
    return _note(queued, at, kind.QUEUED, detail)


def _queue_detail(reason: QueueReason, priority: int) -> str:
    return f"{reason} prio={priority}"


def _to_queue(
    call: Call,
    at: datetime,
    reason: QueueReason,
    priority: int,
    flags: tuple[str, ...] = (),
) -> Outcome:
    queued = _enter_queue(call, at, reason, priority, _queue_detail(reason, priority))
    return queued, [ContinueToQueue(reason, priority, flags)]


def _stop_ours_and_queue(
    call: Call,
    at: datetime,
    reason: QueueReason,
    priority: int,
    flags: tuple[str, ...] = (),
) -> Outcome:
    """Leave screening early: our prompt stopped, our timer cancelled, then on to the queue."""
    queued, commands = _to_queue(call, at, reason, priority, flags)
    return queued, [*_release(call), *commands]


# --- start


def start(event: Arrived, config: ScreeningConfig = ScreeningConfig()) -> Outcome:
    """A new call: answer it, or, if it was adopted already answered, send it to the queue."""
    call = Call(
        channel_id=event.channel_id,
        caller_number=event.caller_number,
        caller_name=event.caller_name,
        arrived_at=event.at,
        sip_call_id=event.sip_call_id,
        greeting_id=playback_id(event.channel_id, GREETING_PLAYBACK),
        timeline=(TimelineEntry(event.at, kind.ARRIVED),),
    )
    if event.answered:
        return _adopt(call, event.at, config)
    return replace(call, phase=Phase.ANSWERING), [WatchHangup(), Answer()]


def _adopt(call: Call, at: datetime, config: ScreeningConfig) -> Outcome:
    # The controller restarted and found the call still in its app: its screening state is
    # lost and it may have waited already, so it goes straight on to the queue. We do not
    # know when it was answered; the adoption is the best we have.
    adopted = _note(_note(call, at, kind.ADOPTED), at, kind.ANSWERED)
    adopted = replace(adopted, adopted=True, answered_at=at)
    queued, commands = _to_queue(adopted, at, QueueReason.ADOPTED, config.priority_speech)
    return queued, [WatchHangup(), *commands]


# --- screening steps


def _answered(call: Call, event: Answered, config: ScreeningConfig) -> Outcome:
    if call.answered_at is not None:
        return call, []
    answered = replace(_note(call, event.at, kind.ANSWERED), answered_at=event.at)
    if call.phase is not Phase.ANSWERING or not call.in_stasis:
        return answered, []
    # TALK_DETECT is already on: the dialplan sets it before Stasis (one ARI request less).
    greet: list[Command] = [Play(config.greeting, playback_id(call.channel_id, GREETING_PLAYBACK))]
    return replace(answered, phase=Phase.GREETING), greet


def _greeting_finished(call: Call, event: PlaybackFinished, config: ScreeningConfig) -> Outcome:
    listening = replace(_note(call, event.at, kind.GREETING_FINISHED), phase=Phase.LISTENING)
    return listening, [StartTimer(LISTEN_TIMER, config.listen_seconds)]


def _listen_timed_out(call: Call, event: TimerFired, config: ScreeningConfig) -> Outcome:
    prompting = replace(_note(call, event.at, kind.PROMPTED_55), phase=Phase.PROMPTING)
    prompt = Play(config.press_55_prompt, playback_id(call.channel_id, PRESS_55_PLAYBACK))
    return prompting, [prompt]


def _prompt_finished(call: Call, _event: PlaybackFinished, config: ScreeningConfig) -> Outcome:
    awaiting = replace(call, phase=Phase.AWAITING_55)
    return awaiting, [StartTimer(AWAIT_55_TIMER, config.await_55_seconds)]


def _await_55_timed_out(call: Call, event: TimerFired, config: ScreeningConfig) -> Outcome:
    silent = replace(_note(call, event.at, kind.SILENT), silent=True)
    if config.silent_policy is SilentPolicy.HANGUP:
        closing = replace(_note(silent, event.at, kind.CLOSING), phase=Phase.CLOSING)
        return closing, [
            Play(config.closing_prompt, playback_id(call.channel_id, CLOSING_PLAYBACK))
        ]
    return _to_queue(silent, event.at, QueueReason.SILENT, config.priority_silent, (SILENT_FLAG,))


def _closing_finished(call: Call, event: PlaybackFinished, _config: ScreeningConfig) -> Outcome:
    # The only hang-up in the whole core: a silent call, after its closing message.
    return _note(call, event.at, kind.HANGUP_SENT, HANGUP_REASON), [Hangup(HANGUP_REASON)]


_AFTER_PLAYBACK: dict[Phase, Callable[[Call, PlaybackFinished, ScreeningConfig], Outcome]] = {
    Phase.GREETING: _greeting_finished,
    Phase.PROMPTING: _prompt_finished,
    Phase.CLOSING: _closing_finished,
}

_AFTER_TIMER: dict[Phase, Callable[[Call, TimerFired, ScreeningConfig], Outcome]] = {
    Phase.LISTENING: _listen_timed_out,
    Phase.AWAITING_55: _await_55_timed_out,
}


def _playback_finished(call: Call, event: PlaybackFinished, config: ScreeningConfig) -> Outcome:
    # Only the prompt this phase is playing moves the call on; any other is stale or foreign.
    if not call.in_stasis or event.playback_id != _playing(call):
        return call, []
    return _AFTER_PLAYBACK[call.phase](call, event, config)


def _timer_fired(call: Call, event: TimerFired, config: ScreeningConfig) -> Outcome:
    if event.name == RETRY_QUEUE_TIMER:
        return (call, _continue_again(call)) if _continue_pending(call) else (call, [])
    if not call.in_stasis or event.name != _TIMING.get(call.phase):
        return call, []
    return _AFTER_TIMER[call.phase](call, event, config)


def _talking_started(call: Call, event: TalkingStarted, config: ScreeningConfig) -> Outcome:
    if call.phase not in HELD:
        return call, []
    heard = _note(replace(call, speech_at=call.speech_at or event.at), event.at, kind.SPEECH)
    # A caller who speaks goes to the queue, even a "silent" one whose closing message plays.
    if not _can_send_to_queue(heard):
        return heard, []
    return _stop_ours_and_queue(heard, event.at, QueueReason.SPEECH, config.priority_speech)


def _dtmf(call: Call, event: DtmfReceived, config: ScreeningConfig) -> Outcome:
    noted = _note(call, event.at, kind.DTMF, event.digit)
    if call.phase not in HELD:
        return noted, []  # after screening a digit is a fact, not a request
    pressed = replace(noted, digits=(call.digits + event.digit)[-DIGITS_KEPT:])
    if call.cannot_speak or not pressed.digits.endswith("55"):
        return pressed, []
    # Noted even when it is too late to queue: the record must show this was an emergency.
    flagged = _note(replace(pressed, cannot_speak=True), event.at, kind.PRESSED_55)
    if not _can_send_to_queue(flagged):
        return flagged, []
    return _stop_ours_and_queue(
        flagged, event.at, QueueReason.PRESSED_55, config.priority_55, (CANNOT_SPEAK_FLAG,)
    )


# --- failures, the queue, the end


def _ending(call: Call) -> bool:
    return _noted(call, kind.HANGUP_REQUESTED) or _hangup_sent(call)


def _continue_pending(call: Call) -> bool:
    """We sent the call to the queue ourselves and it has not left Stasis (nor is hanging up)."""
    return (
        call.phase is Phase.QUEUED
        and call.queue_reason is not None
        and call.in_stasis
        and not _ending(call)
    )


def _flags(reason: QueueReason) -> tuple[str, ...]:
    return {QueueReason.PRESSED_55: (CANNOT_SPEAK_FLAG,), QueueReason.SILENT: (SILENT_FLAG,)}.get(
        reason, ()
    )


def _continue_again(call: Call) -> list[Command]:
    reason = call.queue_reason or QueueReason.COMMAND_FAILED  # set whenever _continue_pending
    return [ContinueToQueue(reason, call.queue_priority or 0, _flags(reason))]


def _retry_delay(call: Call, config: ScreeningConfig) -> float:
    failures = sum(
        1
        for entry in call.timeline
        if entry.kind == kind.COMMAND_FAILED and entry.detail.startswith(ContinueToQueue.__name__)
    )
    first = config.queue_retry_seconds
    return min(config.queue_retry_max_seconds, first * 2.0 ** min(max(0, failures - 1), 32))


def _command_failed(call: Call, event: CommandFailed, config: ScreeningConfig) -> Outcome:
    failed = _note(call, event.at, kind.COMMAND_FAILED, f"{event.command}: {event.reason}")
    if event.command == ContinueToQueue.__name__:
        # Stasis does not end by itself: until the call leaves it, try again, less and less
        # often (a call that left Stasis or is hanging up is not retried).
        if not _continue_pending(failed):
            return failed, []
        return failed, [StartTimer(RETRY_QUEUE_TIMER, _retry_delay(failed, config))]
    if call.phase not in HELD or not call.in_stasis:
        return failed, []
    # Even when our own Hangup failed: the caller is still there, so on to the queue.
    return _stop_ours_and_queue(
        failed, event.at, QueueReason.COMMAND_FAILED, config.priority_speech
    )


def in_our_hands(call: Call) -> bool:
    """Still in our Stasis app with something for us to do: screen it or send it on."""
    return call.phase is not Phase.ENDED and (_can_send_to_queue(call) or _continue_pending(call))


def awaits_queue_end(call: Call) -> bool:
    """The call reached the queue and app_queue has not told how it ended there yet (AMI's
    AgentComplete or QueueCallerAbandon travel apart from ARI's hang-up, and may come after)."""
    return (
        call.queued_at is not None
        and not _noted(call, kind.AGENT_COMPLETED)
        and not _noted(call, kind.QUEUE_ABANDONED)
    )


def _hand_back(call: Call, event: HandBack, config: ScreeningConfig) -> Outcome:
    """On to the queue with what screening found so far, or our ContinueToQueue once more."""
    if _can_send_to_queue(call):
        if call.silent:  # a silent call whose closing message plays: queued as silent
            return _stop_ours_and_queue(
                call, event.at, QueueReason.SILENT, config.priority_silent, (SILENT_FLAG,)
            )
        return _stop_ours_and_queue(call, event.at, event.reason, config.priority_speech)
    if _continue_pending(call):
        return call, [CancelTimer(RETRY_QUEUE_TIMER), *_continue_again(call)]
    return call, []


def _left_stasis(call: Call, event: LeftStasis, _config: ScreeningConfig) -> Outcome:
    left = replace(_note(call, event.at, kind.LEFT_STASIS), in_stasis=False)
    # A hung-up channel leaves Stasis too; only a live one goes on to the dialplan's Queue().
    if call.phase not in HELD or _ending(call):
        return left, []
    return _enter_queue(left, event.at, None, None, BY_DIALPLAN), []


def _queue_joined(call: Call, event: QueueJoined, _config: ScreeningConfig) -> Outcome:
    # The same join may be told twice (live, then again by QueueStatus after an AMI reconnect).
    joined = {e.detail.split(" ")[0] for e in call.timeline if e.kind == kind.QUEUE_JOINED}
    if event.queue in joined:
        return call, []
    return _note(call, event.at, kind.QUEUE_JOINED, f"{event.queue} position={event.position}"), []


def _queue_abandoned(call: Call, event: QueueAbandoned, _config: ScreeningConfig) -> Outcome:
    return _note(call, event.at, kind.QUEUE_ABANDONED, event.queue), []


def _agent_connected(call: Call, event: AgentConnected, _config: ScreeningConfig) -> Outcome:
    if call.phase is Phase.CONNECTED and call.agent == event.agent:
        return call, []  # told again after an AMI reconnect
    connected = replace(
        _note(call, event.at, kind.AGENT_CONNECTED, event.agent),
        phase=Phase.CONNECTED,
        agent=event.agent,
        connected_at=call.connected_at or event.at,
    )
    return connected, []


def _agent_completed(call: Call, event: AgentCompleted, _config: ScreeningConfig) -> Outcome:
    return _note(call, event.at, kind.AGENT_COMPLETED, f"{event.agent} ended_by={event.reason}"), []


def _hangup_requested(call: Call, event: HangupRequested, _config: ScreeningConfig) -> Outcome:
    # Noted so that leaving Stasis afterwards is not mistaken for going on to the queue.
    requested = _note(call, event.at, kind.HANGUP_REQUESTED, str(event.cause or ""))
    if call.hangup_cause is None and event.cause:
        return replace(requested, hangup_cause=event.cause), []
    return requested, []


def _hung_up(call: Call, event: HungUp, _config: ScreeningConfig) -> Outcome:
    # Asterisk reports cause 0 when a channel is destroyed after leaving Stasis; the cause
    # of the hang-up request is the real one then.
    cause = event.cause or call.hangup_cause or 0
    ended = replace(
        _note(call, event.at, kind.HUNG_UP, str(cause)),
        phase=Phase.ENDED,
        ended_at=event.at,
        hangup_cause=cause,
        hangup_cause_text=describe(cause),
        in_stasis=False,
    )
    return ended, [StoreRecord(ended)]


def _ignore(call: Call, _event: Any, _config: ScreeningConfig) -> Outcome:
    return call, []


_HANDLERS: dict[type, Callable[[Call, Any, ScreeningConfig], Outcome]] = {
    Arrived: _ignore,  # a second StasisStart for a call we already have
    Answered: _answered,
    PlaybackFinished: _playback_finished,
    TimerFired: _timer_fired,
    TalkingStarted: _talking_started,
    TalkingFinished: _ignore,
    DtmfReceived: _dtmf,
    CommandFailed: _command_failed,
    HandBack: _hand_back,
    LeftStasis: _left_stasis,
    QueueJoined: _queue_joined,
    QueueAbandoned: _queue_abandoned,
    AgentConnected: _agent_connected,
    AgentCompleted: _agent_completed,
    HangupRequested: _hangup_requested,
    HungUp: _hung_up,
}


def step(call: Call, event: Event, config: ScreeningConfig = ScreeningConfig()) -> Outcome:
    if call.phase is Phase.ENDED:
        return call, []
    return _HANDLERS[type(event)](call, event, config)
