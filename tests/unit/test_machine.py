"""The pure core: each rule about a 112 call, case by case and under random event orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import hypothesis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbx_bridge.screening import causes, machine, policy
from pbx_bridge.screening import timeline as kind
from pbx_bridge.screening.machine import ScreeningConfig
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
    Disposition,
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
    Validity,
    WatchHangup,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
CHANNEL = "chan-1"
GREETING_ID = "chan-1-greeting"
PRESS55_ID = "chan-1-press55"
CLOSING_ID = "chan-1-closing"

QUEUE_POLICY = ScreeningConfig()
HANGUP_POLICY = ScreeningConfig(silent_policy=SilentPolicy.HANGUP)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def arrive(answered: bool = False, config: ScreeningConfig = QUEUE_POLICY) -> machine.Outcome:
    return machine.start(Arrived(at(0), CHANNEL, "081234567890", "Budi", answered=answered), config)


def run(events: list[Event], config: ScreeningConfig = QUEUE_POLICY) -> machine.Outcome:
    """Every command of the call, from its arrival through `events`."""
    call, commands = arrive(config=config)
    for event in events:
        call, more = machine.step(call, event, config)
        commands = [*commands, *more]
    return call, commands


def then(
    events: list[Event], event: Event, config: ScreeningConfig = QUEUE_POLICY
) -> machine.Outcome:
    """The call after `events` and `event`, with the commands of `event` alone."""
    call, _ = run(events, config)
    return machine.step(call, event, config)


def kinds(call: Call) -> list[str]:
    return [entry.kind for entry in call.timeline]


# The screening script, phase by phase: the events that bring a new call into each phase.
ANSWERED: list[Event] = [Answered(at(0.1))]
GREETED: list[Event] = [*ANSWERED, PlaybackFinished(at(6), GREETING_ID)]
PROMPTED: list[Event] = [*GREETED, TimerFired(at(11), "listen")]
AWAITING: list[Event] = [*PROMPTED, PlaybackFinished(at(15), PRESS55_ID)]
SILENT: list[Event] = [*AWAITING, TimerFired(at(25), "await_55")]  # CLOSING under HANGUP_POLICY
HUNG_UP_BY_US: list[Event] = [*SILENT, PlaybackFinished(at(30), CLOSING_ID)]
SPOKEN: list[Event] = [*GREETED, TalkingStarted(at(7))]

TO_PHASE: dict[Phase, list[Event]] = {
    Phase.ANSWERING: [],
    Phase.GREETING: ANSWERED,
    Phase.LISTENING: GREETED,
    Phase.PROMPTING: PROMPTED,
    Phase.AWAITING_55: AWAITING,
    Phase.CLOSING: SILENT,
    Phase.QUEUED: SPOKEN,
    Phase.CONNECTED: [*SPOKEN, AgentConnected(at(20), "agent-7")],
}
# What of ours runs in each phase, to be stopped when the call leaves screening early.
RUNNING: dict[Phase, list[Command]] = {
    Phase.ANSWERING: [],
    Phase.GREETING: [StopPlayback(GREETING_ID)],
    Phase.LISTENING: [CancelTimer("listen")],
    Phase.PROMPTING: [StopPlayback(PRESS55_ID)],
    Phase.AWAITING_55: [CancelTimer("await_55")],
    Phase.CLOSING: [StopPlayback(CLOSING_ID)],
}
HELD_PHASES = list(RUNNING)


def test_the_screening_script_reaches_every_phase_it_names() -> None:
    for phase, events in TO_PHASE.items():
        call, _ = run(events, HANGUP_POLICY)
        assert call.phase is phase


# --- start ------------------------------------------------------------------------------------


def test_a_new_call_is_answered_at_once_and_its_hangup_watched() -> None:
    call, commands = arrive()
    assert call.phase is Phase.ANSWERING
    assert commands == [WatchHangup(), Answer()]
    assert kinds(call) == ["arrived"]
    assert call.greeting_id == GREETING_ID


def test_an_adopted_call_goes_straight_to_the_queue_as_answered() -> None:
    """After a controller restart the state is lost: the call goes on to the queue."""
    call, commands = arrive(answered=True)
    assert commands == [WatchHangup(), ContinueToQueue(QueueReason.ADOPTED, 5)]
    assert call.phase is Phase.QUEUED
    assert call.adopted
    assert call.answered_at == at(0)
    assert call.queued_at == at(0)
    assert (call.queue_reason, call.queue_priority) == (QueueReason.ADOPTED, 5)
    assert kinds(call) == ["arrived", "adopted", "answered", "queued"]


def test_an_adopted_call_is_not_screened_when_asterisk_reports_it_up() -> None:
    call, _ = arrive(answered=True)
    again, commands = machine.step(call, Answered(at(1)))
    assert commands == []
    assert again.answered_at == at(0)


# --- answer and greeting ----------------------------------------------------------------------


def test_once_answered_the_greeting_plays() -> None:
    # Talk detection is on already: the dialplan sets TALK_DETECT before Stasis.
    call, commands = then([], Answered(at(0.1)))
    assert call.phase is Phase.GREETING
    assert call.answered_at == at(0.1)
    assert commands == [Play("pbx-bridge/greeting", GREETING_ID)]


def test_a_duplicate_answer_is_ignored() -> None:
    call, commands = then(ANSWERED, Answered(at(0.5)))
    assert commands == []
    assert call.answered_at == at(0.1)
    assert kinds(call).count("answered") == 1


def test_an_answer_after_the_call_left_our_hands_is_only_noted() -> None:
    call, commands = then([CommandFailed(at(0.05), "Answer", "ARI 500")], Answered(at(0.1)))
    assert commands == []
    assert call.phase is Phase.QUEUED
    assert call.answered_at == at(0.1)


def test_after_the_greeting_we_listen_for_speech() -> None:
    call, commands = then(ANSWERED, PlaybackFinished(at(6), GREETING_ID))
    assert call.phase is Phase.LISTENING
    assert commands == [StartTimer("listen", 5.0)]
    assert kinds(call)[-1] == "greeting_finished"


def test_another_playback_finishing_does_not_end_the_greeting() -> None:
    call, commands = then(ANSWERED, PlaybackFinished(at(1), "chan-2-greeting"))
    assert call.phase is Phase.GREETING
    assert commands == []


# --- the 55 prompt and silence ----------------------------------------------------------------


def test_no_speech_while_listening_brings_the_55_prompt() -> None:
    call, commands = then(GREETED, TimerFired(at(11), "listen"))
    assert call.phase is Phase.PROMPTING
    assert commands == [Play("pbx-bridge/press-55", PRESS55_ID)]


def test_after_the_55_prompt_we_wait_for_55() -> None:
    call, commands = then(PROMPTED, PlaybackFinished(at(15), PRESS55_ID))
    assert call.phase is Phase.AWAITING_55
    assert commands == [StartTimer("await_55", 10.0)]


@pytest.mark.parametrize(
    ("events", "stale"),
    [
        (ANSWERED, TimerFired(at(3), "listen")),  # greeting still playing
        (GREETED, TimerFired(at(8), "await_55")),  # the other timer
        (AWAITING, TimerFired(at(16), "listen")),  # the listen timer fired already
        (SPOKEN, TimerFired(at(11), "listen")),  # cancelled: the call is queued
        (GREETED, PlaybackFinished(at(7), GREETING_ID)),  # the greeting finished already
        (PROMPTED, PlaybackFinished(at(12), CLOSING_ID)),  # not our closing yet
    ],
)
def test_a_stale_timer_or_playback_is_ignored(events: list[Event], stale: Event) -> None:
    before, _ = run(events)
    after, commands = machine.step(before, stale)
    assert commands == []
    assert after == before


def test_a_silent_call_goes_to_the_queue_at_low_priority_by_default() -> None:
    call, commands = then(AWAITING, TimerFired(at(25), "await_55"))
    assert commands == [ContinueToQueue(QueueReason.SILENT, 1, ("silent",))]
    assert call.phase is Phase.QUEUED
    assert call.silent
    assert kinds(call)[-2:] == ["silent", "queued"]


def test_a_silent_call_hears_the_closing_message_under_the_hangup_policy() -> None:
    call, commands = then(AWAITING, TimerFired(at(25), "await_55"), HANGUP_POLICY)
    assert commands == [Play("pbx-bridge/closing", CLOSING_ID)]
    assert call.phase is Phase.CLOSING
    assert call.silent


def test_the_hangup_comes_only_after_the_closing_message() -> None:
    call, commands = then(SILENT, PlaybackFinished(at(30), CLOSING_ID), HANGUP_POLICY)
    assert commands == [Hangup("silent")]
    assert kinds(call)[-1] == "hangup_sent"


def test_the_phase_stays_closing_until_the_channel_is_gone() -> None:
    call, _ = run(HUNG_UP_BY_US, HANGUP_POLICY)
    assert call.phase is Phase.CLOSING
    call, commands = machine.step(call, HungUp(at(30.2), 16), HANGUP_POLICY)
    assert call.phase is Phase.ENDED
    assert commands == [StoreRecord(call)]


def test_a_second_closing_playback_finished_does_not_hang_up_twice() -> None:
    _, commands = then(HUNG_UP_BY_US, PlaybackFinished(at(31), CLOSING_ID), HANGUP_POLICY)
    assert commands == []


def test_no_call_is_ever_hung_up_under_the_queue_policy() -> None:
    _, commands = run([*SILENT, PlaybackFinished(at(30), CLOSING_ID)])
    assert not any(isinstance(c, Hangup) for c in commands)


# --- speech -----------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", HELD_PHASES)
def test_speech_in_any_screening_phase_sends_the_call_to_the_queue(phase: Phase) -> None:
    """Our prompt is stopped, our timer cancelled, and the call queued at speech priority."""
    call, commands = then(TO_PHASE[phase], TalkingStarted(at(40)), HANGUP_POLICY)
    assert commands == [*RUNNING[phase], ContinueToQueue(QueueReason.SPEECH, 5)]
    assert call.phase is Phase.QUEUED
    assert call.speech_at == at(40)
    assert kinds(call)[-2:] == ["speech", "queued"]


def test_speech_during_the_55_prompt_stops_the_prompt() -> None:
    _, commands = then(PROMPTED, TalkingStarted(at(12)))
    assert commands == [StopPlayback(PRESS55_ID), ContinueToQueue(QueueReason.SPEECH, 5)]


def test_a_caller_who_speaks_during_the_closing_message_is_not_hung_up() -> None:
    _, commands = run([*SILENT, TalkingStarted(at(27)), PlaybackFinished(at(30), CLOSING_ID)])
    assert not any(isinstance(c, Hangup) for c in commands)


def test_speech_after_our_hangup_is_noted_but_too_late_to_queue() -> None:
    call, commands = then(HUNG_UP_BY_US, TalkingStarted(at(30.1)), HANGUP_POLICY)
    assert commands == []
    assert kinds(call)[-1] == "speech"


def test_speech_after_the_call_is_queued_changes_nothing() -> None:
    before, _ = run(SPOKEN)
    after, commands = machine.step(before, TalkingStarted(at(9)))
    assert commands == []
    assert after == before


def test_talking_finished_changes_nothing() -> None:
    before, _ = run(SPOKEN)
    assert machine.step(before, TalkingFinished(at(9), 800)) == (before, [])


# --- DTMF and 55 ------------------------------------------------------------------------------


def press(digits: str, start: float = 1.0) -> list[Event]:
    return [DtmfReceived(at(start + i / 10), digit) for i, digit in enumerate(digits)]


def test_55_during_the_greeting_sends_the_call_to_the_queue_at_top_priority() -> None:
    call, commands = run([*ANSWERED, *press("55")])
    assert commands[-2:] == [
        StopPlayback(GREETING_ID),
        ContinueToQueue(QueueReason.PRESSED_55, 10, ("cannot_speak",)),
    ]
    assert call.cannot_speak
    assert call.digits == "55"
    assert (call.queue_reason, call.queue_priority) == (QueueReason.PRESSED_55, 10)
    assert kinds(call)[-3:] == ["dtmf", "pressed_55", "queued"]


def test_55_after_other_digits_counts() -> None:
    call, _ = run([*ANSWERED, *press("1255")])
    assert call.cannot_speak
    assert call.phase is Phase.QUEUED


def test_5_then_4_then_5_is_not_55() -> None:
    call, commands = run([*ANSWERED, *press("545")])
    assert not call.cannot_speak
    assert call.phase is Phase.GREETING
    assert not any(isinstance(c, ContinueToQueue) for c in commands)


def test_one_5_in_the_greeting_and_one_in_the_prompt_make_55() -> None:
    call, commands = run([*ANSWERED, DtmfReceived(at(1), "5"), *PROMPTED[1:], *press("5", 12)])
    assert call.cannot_speak
    assert commands[-2:] == [
        StopPlayback(PRESS55_ID),
        ContinueToQueue(QueueReason.PRESSED_55, 10, ("cannot_speak",)),
    ]


@pytest.mark.parametrize("phase", HELD_PHASES)
def test_55_in_any_screening_phase_sends_the_call_to_the_queue(phase: Phase) -> None:
    call, commands = run([*TO_PHASE[phase], *press("55", 40)], HANGUP_POLICY)
    assert call.phase is Phase.QUEUED
    assert commands[-1] == ContinueToQueue(QueueReason.PRESSED_55, 10, ("cannot_speak",))


def test_55_during_the_closing_message_saves_the_call() -> None:
    call, commands = run(
        [*SILENT, *press("55", 26), PlaybackFinished(at(30), CLOSING_ID)], HANGUP_POLICY
    )
    assert call.phase is Phase.QUEUED
    assert not any(isinstance(c, Hangup) for c in commands)


def test_55_after_our_hangup_is_still_recorded_as_an_emergency() -> None:
    call, commands = run([*HUNG_UP_BY_US, *press("55", 30.1)], HANGUP_POLICY)
    assert call.cannot_speak
    assert kinds(call)[-1] == "pressed_55"
    assert not any(isinstance(c, ContinueToQueue) for c in commands)


def test_digits_after_the_call_is_queued_are_noted_but_change_nothing() -> None:
    before, _ = run(SPOKEN)
    after, commands = run([*SPOKEN, *press("55", 9)])
    assert commands[-1] == ContinueToQueue(QueueReason.SPEECH, 5)
    assert kinds(after)[-2:] == ["dtmf", "dtmf"]
    assert after.digits == before.digits == ""
    assert not after.cannot_speak


# --- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", HELD_PHASES)
def test_a_failed_command_while_screening_sends_the_call_to_the_queue(phase: Phase) -> None:
    failure = CommandFailed(at(40), "Play", "ARI 500")
    call, commands = then(TO_PHASE[phase], failure, HANGUP_POLICY)
    assert commands == [*RUNNING[phase], ContinueToQueue(QueueReason.COMMAND_FAILED, 5)]
    assert call.phase is Phase.QUEUED
    assert kinds(call)[-2:] == ["command_failed", "queued"]
    assert call.timeline[-2].detail == "Play: ARI 500"


def test_a_failed_hangup_sends_the_silent_caller_to_the_queue() -> None:
    call, commands = then(HUNG_UP_BY_US, CommandFailed(at(31), "Hangup", "ARI 500"), HANGUP_POLICY)
    assert commands == [ContinueToQueue(QueueReason.COMMAND_FAILED, 5)]
    assert call.phase is Phase.QUEUED


CONTINUE_FAILED = CommandFailed(at(9), "ContinueToQueue", "ARI 500")
RETRY = TimerFired(at(10), "retry_queue")


def test_a_failed_continue_to_queue_is_retried_with_capped_backoff_while_in_stasis() -> None:
    """Stasis does not end by itself: a caller whose ContinueToQueue failed must not sit there."""
    call, _ = run(SPOKEN)
    delays = []
    for _ in range(6):
        call, commands = machine.step(call, CONTINUE_FAILED)
        [timer] = commands
        assert isinstance(timer, StartTimer)
        assert timer.name == "retry_queue"
        delays.append(timer.seconds)
        call, commands = machine.step(call, RETRY)
        assert commands == [ContinueToQueue(QueueReason.SPEECH, 5)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert call.phase is Phase.QUEUED


def test_a_retried_55_call_keeps_its_top_priority_and_flag() -> None:
    call, _ = run([*ANSWERED, DtmfReceived(at(1), "5"), DtmfReceived(at(2), "5"), CONTINUE_FAILED])
    _, commands = machine.step(call, RETRY)
    assert commands == [ContinueToQueue(QueueReason.PRESSED_55, 10, ("cannot_speak",))]


@pytest.mark.parametrize(
    "gone",
    [LeftStasis(at(9.5)), HangupRequested(at(9.5), 16)],
    ids=["left_stasis", "hangup_requested"],
)
def test_no_retry_once_the_call_left_stasis_or_is_hanging_up(gone: Event) -> None:
    call, _ = run([*SPOKEN, CONTINUE_FAILED, gone])
    assert machine.step(call, RETRY)[1] == []
    call, _ = run([*SPOKEN, gone])
    assert machine.step(call, CONTINUE_FAILED)[1] == []


def test_a_failed_continue_during_screening_is_only_noted() -> None:
    """Only the ContinueToQueue we sent is retried; a stale failure changes nothing."""
    after, commands = then(ANSWERED, CONTINUE_FAILED)
    assert commands == []
    assert after.phase is Phase.GREETING
    assert kinds(after)[-1] == "command_failed"


@pytest.mark.parametrize("phase", HELD_PHASES)
def test_a_held_call_handed_back_goes_to_the_queue_with_its_screening(phase: Phase) -> None:
    config = ScreeningConfig()
    call, commands = then(TO_PHASE[phase], HandBack(at(40), QueueReason.SHUTDOWN), HANGUP_POLICY)
    if phase is Phase.CLOSING:  # known silent by now: queued as silent, not hung up
        expected = ContinueToQueue(QueueReason.SILENT, config.priority_silent, ("silent",))
    else:
        expected = ContinueToQueue(QueueReason.SHUTDOWN, config.priority_speech)
    assert commands == [*RUNNING[phase], expected]
    assert call.phase is Phase.QUEUED


def test_a_queued_call_still_in_stasis_is_continued_again_when_handed_back() -> None:
    _, commands = then([*SPOKEN, CONTINUE_FAILED], HandBack(at(40), QueueReason.ADOPTED))
    assert commands == [CancelTimer("retry_queue"), ContinueToQueue(QueueReason.SPEECH, 5)]


@pytest.mark.parametrize(
    "events",
    [[*SPOKEN, LeftStasis(at(8))], HUNG_UP_BY_US, [*SPOKEN, AgentConnected(at(9), "ct-1")]],
    ids=["left_stasis", "hung_up_by_us", "connected"],
)
def test_a_call_out_of_our_hands_is_not_handed_back(events: list[Event]) -> None:
    _, commands = then(events, HandBack(at(40), QueueReason.SHUTDOWN), HANGUP_POLICY)
    assert commands == []


def test_a_flood_of_digits_does_not_grow_the_call_without_limit() -> None:
    """A peer sending DTMF for as long as the line is up: the record stays bounded and right."""
    call, _ = run(SPOKEN)
    for n in range(5 * machine.TIMELINE_LIMIT):
        call, _ = machine.step(call, DtmfReceived(at(8 + n / 1000), "1"))
    call, _ = machine.step(call, AgentConnected(at(20), "ct-1"))
    call, commands = machine.step(call, HungUp(at(60), 16))
    assert len(call.timeline) <= machine.TIMELINE_LIMIT + len(machine.ALWAYS_NOTED)
    assert kinds(call)[-2:] == ["agent_connected", "hung_up"]
    assert commands == [StoreRecord(call)]
    verdict = policy.classify_call(call, policy.Thresholds())
    assert verdict == (Validity.VALID, Disposition.ANSWERED)


def test_digits_while_screening_are_capped_and_55_still_counts() -> None:
    call, _ = run(ANSWERED)
    for n in range(1000):
        call, _ = machine.step(call, DtmfReceived(at(1 + n / 1000), "1"))
    assert len(call.digits) <= machine.DIGITS_KEPT
    call, _ = machine.step(call, DtmfReceived(at(3), "5"))
    call, commands = machine.step(call, DtmfReceived(at(3), "5"))
    assert call.cannot_speak
    assert commands[-1] == ContinueToQueue(QueueReason.PRESSED_55, 10, ("cannot_speak",))


@pytest.mark.parametrize("phase", [Phase.QUEUED, Phase.CONNECTED])
def test_a_failed_command_after_the_call_left_our_hands_is_only_noted(phase: Phase) -> None:
    call, commands = then(TO_PHASE[phase], CommandFailed(at(40), "StopPlayback", "ARI 500"))
    assert commands == []
    assert call.phase is phase
    assert kinds(call)[-1] == "command_failed"


# --- leaving Stasis, the queue, the call taker ------------------------------------------------


@pytest.mark.parametrize("phase", HELD_PHASES)
def test_leaving_stasis_while_screening_means_the_dialplan_queues_the_call(phase: Phase) -> None:
    call, commands = then(TO_PHASE[phase], LeftStasis(at(40)), HANGUP_POLICY)
    assert commands == []
    assert call.phase is Phase.QUEUED
    assert not call.in_stasis
    assert call.queue_reason is None
    assert call.queued_at == at(40)
    assert kinds(call)[-2:] == ["left_stasis", "queued"]


def test_leaving_stasis_after_a_hangup_request_is_not_going_to_the_queue() -> None:
    """A caller who hangs up during the greeting also leaves Stasis, just before the end."""
    call, commands = run([*ANSWERED, HangupRequested(at(1), 16), LeftStasis(at(1.01))])
    assert commands[-1] == Play("pbx-bridge/greeting", GREETING_ID)
    assert call.phase is Phase.GREETING
    assert not call.in_stasis


def test_nothing_more_is_played_once_the_call_left_stasis() -> None:
    events: list[Event] = [*GREETED, HangupRequested(at(7), 16), LeftStasis(at(7.01))]
    _, commands = then(events, TimerFired(at(11), "listen"))
    assert commands == []


def test_leaving_stasis_after_our_hangup_is_only_noted() -> None:
    call, commands = then(HUNG_UP_BY_US, LeftStasis(at(30.1)), HANGUP_POLICY)
    assert commands == []
    assert call.phase is Phase.CLOSING
    assert kinds(call)[-1] == "left_stasis"


def test_leaving_stasis_after_we_queued_the_call_only_notes_it() -> None:
    call, commands = then(SPOKEN, LeftStasis(at(7.1)))
    assert commands == []
    assert call.queue_reason is QueueReason.SPEECH
    assert kinds(call)[-1] == "left_stasis"


def test_queue_join_and_abandon_are_noted_only() -> None:
    call, commands = run(
        [*SPOKEN, QueueJoined(at(8), "emergency-112", 3), QueueAbandoned(at(20), "emergency-112")]
    )
    assert commands[-1] == ContinueToQueue(QueueReason.SPEECH, 5)
    assert call.phase is Phase.QUEUED
    assert [(e.kind, e.detail) for e in call.timeline[-2:]] == [
        ("queue_joined", "emergency-112 position=3"),
        ("queue_abandoned", "emergency-112"),
    ]


def test_a_call_taker_answering_connects_the_call() -> None:
    call, commands = then(SPOKEN, AgentConnected(at(20), "agent-7"))
    assert commands == []
    assert call.phase is Phase.CONNECTED
    assert (call.agent, call.connected_at) == ("agent-7", at(20))
    assert kinds(call)[-1] == "agent_connected"


# --- the end ----------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", list(TO_PHASE))
def test_a_hangup_in_every_phase_stores_exactly_one_record(phase: Phase) -> None:
    call, commands = run([*TO_PHASE[phase], HungUp(at(50), 16), HungUp(at(51), 16)], HANGUP_POLICY)
    assert call.phase is Phase.ENDED
    assert [c for c in commands if isinstance(c, StoreRecord)] == [StoreRecord(call)]
    assert commands[-1] == StoreRecord(call)
    assert call.ended_at == at(50)
    assert not call.in_stasis
    assert (call.hangup_cause, call.hangup_cause_text) == (16, "normal_clearing")
    assert call.timeline[-1] == TimelineEntry(at(50), "hung_up", "16")


def test_the_cause_comes_from_the_hangup_request_when_asterisk_says_0() -> None:
    call, _ = run([*ANSWERED, HangupRequested(at(3), 17), HungUp(at(3.01), 0)])
    assert (call.hangup_cause, call.hangup_cause_text) == (17, "user_busy")


def test_the_first_nonzero_requested_cause_is_kept() -> None:
    events: list[Event] = [
        HangupRequested(at(3), None),
        HangupRequested(at(3), 0),
        HangupRequested(at(3), 18),
        HangupRequested(at(3), 16),
        HungUp(at(3.01), 0),
    ]
    call, _ = run([*ANSWERED, *events])
    assert call.hangup_cause == 18


def test_asterisks_own_cause_wins_over_the_request() -> None:
    call, _ = run([*ANSWERED, HangupRequested(at(3), 17), HungUp(at(3.01), 16)])
    assert call.hangup_cause == 16


def test_an_ended_call_ignores_everything_after() -> None:
    call, _ = run([HungUp(at(1), 16)])
    after: list[Event] = [
        Answered(at(2)),
        TalkingStarted(at(2)),
        HungUp(at(3), 16),
        LeftStasis(at(4)),
    ]
    for event in after:
        assert machine.step(call, event) == (call, [])


def test_hangup_causes_are_named_from_the_q850_table() -> None:
    assert causes.describe(16) == "normal_clearing"
    assert causes.describe(0) == "unknown"
    assert causes.describe(102) == "recovery_on_timer_expiry"
    assert causes.describe(250) == "cause_250"
    assert causes.who(16) == causes.USER
    assert causes.who(38) == causes.NETWORK
    assert causes.who(250) == causes.UNKNOWN


# --- properties: random event orders ----------------------------------------------------------

times = st.floats(min_value=0, max_value=120, allow_nan=False).map(at)
playback_ids = st.sampled_from([GREETING_ID, PRESS55_ID, CLOSING_ID, "chan-2-greeting", ""])
timer_names = st.sampled_from(["listen", "await_55", "retry_queue", "other"]) | st.text(max_size=6)
digits = st.sampled_from([*"5555", *"0123456789*#"])
command_names = st.sampled_from(
    ["Answer", "Play", "ContinueToQueue", "Hangup", "WatchHangup", "StopPlayback", "CancelTimer"]
)
causes_ = st.integers(0, 127)

events: st.SearchStrategy[Event] = st.one_of(
    st.builds(Arrived, times, st.just(CHANNEL), st.just("0812"), answered=st.booleans()),
    st.builds(Answered, times),
    st.builds(PlaybackFinished, times, playback_ids),
    st.builds(TalkingStarted, times),
    st.builds(TalkingFinished, times, st.integers(0, 10_000)),
    st.builds(DtmfReceived, times, digits),
    st.builds(TimerFired, times, timer_names),
    st.builds(LeftStasis, times),
    st.builds(QueueJoined, times, st.just("emergency-112"), st.integers(1, 9)),
    st.builds(AgentConnected, times, st.sampled_from(["agent-1", "agent-2"])),
    st.builds(
        AgentCompleted, times, st.sampled_from(["agent-1"]), st.sampled_from(["caller", "agent"])
    ),
    st.builds(QueueAbandoned, times, st.just("emergency-112")),
    st.builds(HangupRequested, times, st.none() | causes_),
    st.builds(HungUp, times, causes_, st.text(max_size=10)),
    st.builds(CommandFailed, times, command_names, st.text(max_size=10)),
    st.builds(HandBack, times, st.sampled_from([QueueReason.ADOPTED, QueueReason.SHUTDOWN])),
)
# The screening script in order, so the rare phases (closing, our hang-up) are reached too.
SCRIPT: list[Event] = [*HUNG_UP_BY_US]


@st.composite
def script_with_noise(draw: st.DrawFn) -> list[Event]:
    """A prefix of the screening script with random events between its steps."""
    length = draw(st.integers(0, len(SCRIPT)))
    sequence: list[Event] = []
    for scripted in SCRIPT[:length]:
        sequence += [*draw(st.lists(events, max_size=2)), scripted]
    return [*sequence, *draw(st.lists(events, max_size=3))]


# Events that must not disturb screening: foreign or stale ids, other digits, queue chatter.
harmless: st.SearchStrategy[Event] = st.one_of(
    st.builds(PlaybackFinished, times, st.sampled_from(["chan-2-greeting", "", "x-closing"])),
    st.builds(TimerFired, times, st.sampled_from(["other", ""])),
    st.builds(TalkingFinished, times, st.integers(0, 10_000)),
    st.builds(DtmfReceived, times, st.sampled_from([*"012346789*#"])),
    st.builds(QueueJoined, times, st.just("emergency-112"), st.integers(1, 9)),
    st.builds(HangupRequested, times, st.none() | causes_),
    st.builds(CommandFailed, times, st.just("ContinueToQueue"), st.text(max_size=10)),
)


@st.composite
def silent_script(draw: st.DrawFn) -> list[Event]:
    """The whole screening of a silent caller, with harmless events between its steps."""
    sequence: list[Event] = []
    for scripted in SCRIPT:
        sequence += [*draw(st.lists(harmless, max_size=2)), scripted]
    return sequence


configs = st.sampled_from([QUEUE_POLICY, HANGUP_POLICY])
END = HungUp(at(200), 16)


def check_step(
    config: ScreeningConfig, before: Call, event: Event, outcome: machine.Outcome
) -> None:
    """What must hold for every single step."""
    after, commands = outcome
    # The timeline only grows, and every new entry carries the event's own time.
    assert after.timeline[: len(before.timeline)] == before.timeline
    assert all(entry.at == event.at for entry in after.timeline[len(before.timeline) :])
    assert {entry.kind for entry in after.timeline} <= kind.KINDS
    assert len(after.timeline) <= machine.TIMELINE_LIMIT + len(machine.ALWAYS_NOTED)
    if before.phase is Phase.ENDED:
        assert commands == []
    if any(isinstance(c, ContinueToQueue) for c in commands):
        assert before.in_stasis  # only a call we still hold can be continued
    if any(isinstance(c, Hangup) for c in commands):
        # Only a silent call, after its closing message, that never spoke nor pressed 55.
        assert config.silent_policy is SilentPolicy.HANGUP
        assert event == PlaybackFinished(event.at, CLOSING_ID)
        assert commands == [Hangup("silent")]
        assert before.silent
        assert before.speech_at is None
        assert not before.cannot_speak


def play_out(config: ScreeningConfig, sequence: list[Event], *, adopted: bool) -> Call:
    """Run the call through `sequence`, a final HungUp and the same events again; the record."""
    arrival = Arrived(at(0), CHANNEL, "081234567890", "Budi", answered=adopted)
    call, commands = machine.start(arrival, config)
    assert all(entry.at == arrival.at for entry in call.timeline)
    for event in [*sequence, END, *sequence]:
        if event is END:
            hypothesis.event(f"hung up in {call.phase}")  # --hypothesis-show-statistics
        outcome = machine.step(call, event, config)
        check_step(config, call, event, outcome)
        call, more = outcome
        commands = [*commands, *more]
    hypothesis.event(f"we hung up: {any(isinstance(c, Hangup) for c in commands)}")
    assert call.phase is Phase.ENDED
    stored = [c for c in commands if isinstance(c, StoreRecord)]
    assert stored == [StoreRecord(call)]
    assert commands[-1] == StoreRecord(call)  # nothing asked of Asterisk after the record
    # Queued once, then again only when a retry timer fires or the runtime hands it back.
    second_chances = sum(
        isinstance(e, HandBack) or e == TimerFired(e.at, "retry_queue") for e in sequence
    )
    assert sum(isinstance(c, ContinueToQueue) for c in commands) <= 1 + second_chances
    assert sum(isinstance(c, Hangup) for c in commands) <= 1
    return call


def check_classification(call: Call) -> None:
    """The record classifies without error; 55 is an emergency, never-answered is unanswered."""
    verdict = policy.classify_call(call, policy.Thresholds())
    if call.answered_at is None:
        # Rule 1 comes first, even for 55 before the answer (impossible without media anyway).
        assert verdict == (Validity.UNANSWERED, Disposition.ABANDONED_BEFORE_ANSWER)
    elif call.cannot_speak:
        assert verdict == (Validity.VALID, Disposition.SILENT_55)
    else:
        assert verdict[0] is not Validity.UNANSWERED


@settings(max_examples=400, deadline=None)
@given(st.lists(events, max_size=30), st.booleans(), configs)
def test_any_event_order_ends_with_one_record_last(
    sequence: list[Event], adopted: bool, config: ScreeningConfig
) -> None:
    """Whatever Asterisk sends, in whatever order: no crash, one record, the last command."""
    check_classification(play_out(config, sequence, adopted=adopted))


@settings(max_examples=400, deadline=None)
@given(script_with_noise(), st.booleans(), configs)
def test_screening_with_random_interruptions_keeps_every_rule(
    sequence: list[Event], adopted: bool, config: ScreeningConfig
) -> None:
    """The script interleaved with random events: speech, 55, failures, hang-ups anywhere."""
    check_classification(play_out(config, sequence, adopted=adopted))


@settings(max_examples=300, deadline=None)
@given(silent_script(), configs)
def test_a_silent_caller_is_hung_up_only_under_the_hangup_policy(
    sequence: list[Event], config: ScreeningConfig
) -> None:
    """Harmless events never change the outcome of a silent call: queued, or closed and hung up."""
    call = play_out(config, sequence, adopted=False)
    hung_up_by_us = kind.HANGUP_SENT in kinds(call)
    assert hung_up_by_us is (config.silent_policy is SilentPolicy.HANGUP)
    assert (call.queue_reason is QueueReason.SILENT) is not hung_up_by_us
    assert policy.classify_call(call, policy.Thresholds()) == (Validity.INVALID, Disposition.SILENT)
