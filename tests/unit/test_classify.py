"""Validity and disposition from a timeline alone: each rule, its edges, and real call stories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbx_bridge.screening import machine
from pbx_bridge.screening.machine import ScreeningConfig
from pbx_bridge.screening.model import (
    AgentConnected,
    Answered,
    Arrived,
    Disposition,
    DtmfReceived,
    Event,
    HangupRequested,
    HungUp,
    LeftStasis,
    PlaybackFinished,
    QueueAbandoned,
    QueueJoined,
    SilentPolicy,
    TalkingStarted,
    TimelineEntry,
    TimerFired,
    Validity,
)
from pbx_bridge.screening.policy import Thresholds, classify
from pbx_bridge.screening.timeline import (
    ADOPTED,
    AGENT_CONNECTED,
    ANSWERED,
    ARRIVED,
    DTMF,
    HANGUP_REQUESTED,
    HUNG_UP,
    KINDS,
    LEFT_STASIS,
    PRESSED_55,
    QUEUED,
    SILENT,
    SPEECH,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
KENDARI = Thresholds()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def timeline(*entries: tuple[float, str]) -> tuple[TimelineEntry, ...]:
    return tuple(TimelineEntry(at(seconds), kind) for seconds, kind in entries)


def answered_then(*entries: tuple[float, str], hung_up: float | None) -> tuple[TimelineEntry, ...]:
    """Arrived at 0, answered at 0.5, then `entries`, then hung up `hung_up` s after the answer."""
    end = () if hung_up is None else ((0.5 + hung_up, HUNG_UP),)
    return timeline((0, ARRIVED), (0.5, ANSWERED), *entries, *end)


# --- each rule, first match wins --------------------------------------------------------------


def test_a_call_never_answered_is_unanswered_abandoned_before_answer() -> None:
    assert classify(timeline((0, ARRIVED), (8, HUNG_UP)), KENDARI) == (
        Validity.UNANSWERED,
        Disposition.ABANDONED_BEFORE_ANSWER,
    )


def test_pressed_55_is_a_valid_emergency_however_short_the_call() -> None:
    """A caller who cannot speak and pressed 55 is an emergency whatever the duration."""
    entries = answered_then((1, DTMF), (1.2, DTMF), (1.2, PRESSED_55), (1.2, QUEUED), hung_up=1.5)
    assert classify(entries, KENDARI) == (Validity.VALID, Disposition.SILENT_55)


def test_pressed_55_wins_over_an_answering_call_taker_and_silence() -> None:
    entries = answered_then((20, SILENT), (21, PRESSED_55), (22, AGENT_CONNECTED), hung_up=3)
    assert classify(entries, KENDARI) == (Validity.VALID, Disposition.SILENT_55)


@pytest.mark.parametrize(
    ("stayed", "expected"),
    [
        (60.0, Validity.VALID),
        (10.001, Validity.VALID),
        (10.0, Validity.INVALID),
        (4, Validity.INVALID),
    ],
)
def test_a_call_taker_answered_call_is_valid_when_the_caller_stayed_over_10_s(
    stayed: float, expected: Validity
) -> None:
    entries = answered_then((1, SPEECH), (1, QUEUED), (2, AGENT_CONNECTED), hung_up=stayed)
    assert classify(entries, KENDARI) == (expected, Disposition.ANSWERED)


def test_a_silent_call_is_invalid_however_long() -> None:
    entries = answered_then((25, SILENT), (25, QUEUED), hung_up=120)
    assert classify(entries, KENDARI) == (Validity.INVALID, Disposition.SILENT)


def test_a_silent_call_a_call_taker_answered_counts_as_answered() -> None:
    entries = answered_then((25, SILENT), (25, QUEUED), (40, AGENT_CONNECTED), hung_up=60)
    assert classify(entries, KENDARI) == (Validity.VALID, Disposition.ANSWERED)


@pytest.mark.parametrize(
    ("stayed", "expected"),
    [
        (15.0, Validity.VALID),
        (10.001, Validity.VALID),
        (10.0, Validity.INVALID),
        (2, Validity.INVALID),
    ],
)
def test_a_caller_who_gave_up_in_the_queue_is_valid_over_10_s(
    stayed: float, expected: Validity
) -> None:
    entries = answered_then((1, SPEECH), (1, QUEUED), hung_up=stayed)
    assert classify(entries, KENDARI) == (expected, Disposition.ABANDONED_IN_QUEUE)


def test_leaving_stasis_while_screening_is_reaching_the_dialplans_queue() -> None:
    """Older timelines have no queued entry: leaving Stasis alive still meant Queue()."""
    entries = answered_then((3, LEFT_STASIS), hung_up=20)
    assert classify(entries, KENDARI) == (Validity.VALID, Disposition.ABANDONED_IN_QUEUE)


def test_leaving_stasis_after_the_hangup_request_is_not_reaching_the_queue() -> None:
    entries = answered_then((1, HANGUP_REQUESTED), (1, LEFT_STASIS), hung_up=0.5)
    assert classify(entries, KENDARI) == (Validity.INVALID, Disposition.HUNG_UP_IMMEDIATELY)


def test_queued_after_the_hangup_request_is_not_reaching_the_queue() -> None:
    entries = answered_then((7, HANGUP_REQUESTED), (7, SPEECH), (7, QUEUED), hung_up=6.6)
    assert classify(entries, KENDARI) == (Validity.INVALID, Disposition.HUNG_UP_IN_SCREENING)


def test_a_caller_gone_2_ms_after_the_answer_hung_up_immediately() -> None:
    entries = answered_then(hung_up=0.002)
    assert classify(entries, KENDARI) == (Validity.INVALID, Disposition.HUNG_UP_IMMEDIATELY)


@pytest.mark.parametrize(
    ("stayed", "expected"),
    [
        (5.0, (Validity.INVALID, Disposition.HUNG_UP_IMMEDIATELY)),
        (5.001, (Validity.INVALID, Disposition.HUNG_UP_IN_SCREENING)),
        (10.0, (Validity.INVALID, Disposition.HUNG_UP_IN_SCREENING)),
        # Never a word said: counted with the silent calls however long the line was open.
        (10.001, (Validity.INVALID, Disposition.HUNG_UP_IN_SCREENING)),
        (30.0, (Validity.INVALID, Disposition.HUNG_UP_IN_SCREENING)),
    ],
)
def test_a_caller_gone_during_screening_without_speech(
    stayed: float, expected: tuple[Validity, Disposition]
) -> None:
    assert classify(answered_then(hung_up=stayed), KENDARI) == expected


def test_a_caller_who_spoke_and_stayed_in_screening_is_valid_by_duration() -> None:
    entries = answered_then((0.6, SPEECH), (11, HANGUP_REQUESTED), hung_up=11)
    assert classify(entries, KENDARI) == (Validity.VALID, Disposition.HUNG_UP_IN_SCREENING)


def test_a_caller_who_spoke_did_not_hang_up_immediately() -> None:
    entries = answered_then((0.6, SPEECH), (1, HANGUP_REQUESTED), hung_up=1)
    assert classify(entries, KENDARI) == (Validity.INVALID, Disposition.HUNG_UP_IN_SCREENING)


def test_a_running_call_is_classified_by_what_is_there() -> None:
    """No hung_up yet: the duration is unknown, so invalid, unless 55 was pressed."""
    queued = answered_then((1, SPEECH), (1, QUEUED), hung_up=None)
    assert classify(queued, KENDARI) == (Validity.INVALID, Disposition.ABANDONED_IN_QUEUE)
    screening = answered_then(hung_up=None)
    assert classify(screening, KENDARI) == (Validity.INVALID, Disposition.HUNG_UP_IN_SCREENING)
    pressed = answered_then((3, PRESSED_55), hung_up=None)
    assert classify(pressed, KENDARI) == (Validity.VALID, Disposition.SILENT_55)


def test_the_thresholds_are_configuration() -> None:
    entries = answered_then((0.5, SPEECH), (8, HANGUP_REQUESTED), hung_up=8)
    assert classify(entries, KENDARI) == (Validity.INVALID, Disposition.HUNG_UP_IN_SCREENING)
    assert classify(entries, Thresholds(valid_min_seconds=5)) == (
        Validity.VALID,
        Disposition.HUNG_UP_IN_SCREENING,
    )
    silent = answered_then((8, HANGUP_REQUESTED), hung_up=8)
    assert classify(silent, Thresholds(hung_up_immediately_seconds=9)) == (
        Validity.INVALID,
        Disposition.HUNG_UP_IMMEDIATELY,
    )


# --- odd timelines never raise ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ((), (Validity.UNANSWERED, Disposition.ABANDONED_BEFORE_ANSWER)),
        # Hung up "before" the answer: the stay counts as nothing, not as negative.
        (
            timeline((5, HUNG_UP), (9, ANSWERED)),
            (Validity.INVALID, Disposition.HUNG_UP_IMMEDIATELY),
        ),
        # Twice answered and twice hung up: the first of each counts.
        (
            timeline((1, ANSWERED), (30, ANSWERED), (3, HUNG_UP), (60, HUNG_UP)),
            (Validity.INVALID, Disposition.HUNG_UP_IMMEDIATELY),
        ),
        # Kinds from a future version are ignored.
        (
            timeline((0, ANSWERED), (0.5, SPEECH), (1, "whispered"), (20, HUNG_UP)),
            (Validity.VALID, Disposition.HUNG_UP_IN_SCREENING),
        ),
        (
            (TimelineEntry(at(1), ADOPTED, "x" * 500),),
            (Validity.UNANSWERED, Disposition.ABANDONED_BEFORE_ANSWER),
        ),
    ],
)
def test_odd_timelines_are_classified_without_raising(
    entries: tuple[TimelineEntry, ...], expected: tuple[Validity, Disposition]
) -> None:
    assert classify(entries, KENDARI) == expected


def test_naive_and_aware_times_mixed_do_not_raise() -> None:
    """The store hands back naive UTC times; a timeline mixing both still classifies."""
    entries = (
        TimelineEntry(T0, ANSWERED),
        TimelineEntry(at(0.5).replace(tzinfo=None), SPEECH),
        TimelineEntry(at(12).replace(tzinfo=None), HUNG_UP, "16"),
    )
    assert classify(entries, KENDARI) == (Validity.VALID, Disposition.HUNG_UP_IN_SCREENING)


# hypothesis wants naive bounds; the times it draws are naive or UTC, as the store may give.
moments = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001
    max_value=datetime(2030, 1, 1),  # noqa: DTZ001
    timezones=st.one_of(st.none(), st.just(UTC)),
)
entries_ = st.builds(
    TimelineEntry,
    moments,
    st.sampled_from(sorted(KINDS)) | st.text(max_size=8),
    st.text(max_size=8),
)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(entries_, max_size=25),
    st.floats(0, 100, allow_nan=False),
    st.floats(0, 100, allow_nan=False),
)
def test_any_timeline_classifies_and_55_is_always_an_emergency(
    entries: list[TimelineEntry], valid_min: float, immediately: float
) -> None:
    kinds = {entry.kind for entry in entries}
    validity, disposition = classify(entries, Thresholds(valid_min, immediately))
    assert (validity is Validity.UNANSWERED) is (ANSWERED not in kinds)
    if ANSWERED in kinds and PRESSED_55 in kinds:
        assert (validity, disposition) == (Validity.VALID, Disposition.SILENT_55)


# --- real call stories, through the machine ---------------------------------------------------

GREETING_ID, PRESS55_ID, CLOSING_ID = "c-greeting", "c-press55", "c-closing"
QUEUE_POLICY = ScreeningConfig()


def story(
    events: list[Event], *, adopted: bool = False, config: ScreeningConfig = QUEUE_POLICY
) -> tuple[Validity, Disposition]:
    """What a call with these events is tagged, from its stored record's timeline."""
    call, _ = machine.start(Arrived(at(0), "c", "0812", answered=adopted), config)
    for event in events:
        call, _ = machine.step(call, event, config)
    return classify(call.timeline, KENDARI)


# What ARI sends when the caller hangs up while we hold the call.
def caller_hangs_up(seconds: float) -> list[Event]:
    return [HangupRequested(at(seconds), 16), LeftStasis(at(seconds)), HungUp(at(seconds), 0)]


def test_story_a_caller_who_talks_and_gives_up_after_15_s_in_queue() -> None:
    events: list[Event] = [
        Answered(at(0.1)),
        TalkingStarted(at(2)),
        LeftStasis(at(2.1)),
        QueueJoined(at(2.2), "emergency-112", 1),
        QueueAbandoned(at(15.1), "emergency-112"),
        HungUp(at(15.1), 16),
    ]
    assert story(events) == (Validity.VALID, Disposition.ABANDONED_IN_QUEUE)


def test_story_a_caller_who_hangs_up_2_ms_after_the_answer() -> None:
    events: list[Event] = [Answered(at(0.1)), *caller_hangs_up(0.102)]
    assert story(events) == (Validity.INVALID, Disposition.HUNG_UP_IMMEDIATELY)


def test_story_a_caller_who_hangs_up_before_the_answer() -> None:
    assert story(caller_hangs_up(0.05)) == (
        Validity.UNANSWERED,
        Disposition.ABANDONED_BEFORE_ANSWER,
    )


def test_story_a_caller_who_cannot_speak_presses_55_and_is_answered() -> None:
    events: list[Event] = [
        Answered(at(0.1)),
        PlaybackFinished(at(6), GREETING_ID),
        TimerFired(at(11), "listen"),
        DtmfReceived(at(12), "5"),
        DtmfReceived(at(12.3), "5"),
        LeftStasis(at(12.4)),
        AgentConnected(at(20), "agent-1"),
        HungUp(at(90), 16),
    ]
    assert story(events) == (Validity.VALID, Disposition.SILENT_55)


def test_story_a_caller_answered_by_a_call_taker() -> None:
    events: list[Event] = [
        Answered(at(0.1)),
        TalkingStarted(at(1)),
        LeftStasis(at(1.1)),
        AgentConnected(at(8), "agent-1"),
        HungUp(at(70), 16),
    ]
    assert story(events) == (Validity.VALID, Disposition.ANSWERED)


@pytest.mark.parametrize("policy", list(SilentPolicy))
def test_story_a_silent_caller(policy: SilentPolicy) -> None:
    events: list[Event] = [
        Answered(at(0.1)),
        PlaybackFinished(at(6), GREETING_ID),
        TimerFired(at(11), "listen"),
        PlaybackFinished(at(15), PRESS55_ID),
        TimerFired(at(25), "await_55"),
        PlaybackFinished(at(30), CLOSING_ID),
        LeftStasis(at(30.1)),
        HungUp(at(30.1), 16),
    ]
    config = ScreeningConfig(silent_policy=policy)
    assert story(events, config=config) == (Validity.INVALID, Disposition.SILENT)


def test_story_a_caller_who_hangs_up_during_the_55_prompt() -> None:
    events: list[Event] = [
        Answered(at(0.1)),
        PlaybackFinished(at(6), GREETING_ID),
        TimerFired(at(11), "listen"),
        *caller_hangs_up(13),
    ]
    # 13 s on the line but never a word: counted with the silent calls.
    assert story(events) == (Validity.INVALID, Disposition.HUNG_UP_IN_SCREENING)


def test_story_an_adopted_call_that_waits_in_the_queue() -> None:
    events: list[Event] = [LeftStasis(at(0.1)), HungUp(at(20), 16)]
    assert story(events, adopted=True) == (Validity.VALID, Disposition.ABANDONED_IN_QUEUE)
