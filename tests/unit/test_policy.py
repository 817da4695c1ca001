"""Time on the line, the thresholds, and the timeline's one vocabulary."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pbx_bridge.screening import timeline as kind
from pbx_bridge.screening.model import Call, Disposition, TimelineEntry, Validity
from pbx_bridge.screening.policy import Thresholds, classify, classify_call, connected_seconds

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
CALL = Call("c", "0812", "", T0)


def test_connected_seconds_run_from_our_answer_to_the_end() -> None:
    call = replace(
        CALL, answered_at=T0 + timedelta(seconds=0.5), ended_at=T0 + timedelta(seconds=15.5)
    )
    assert connected_seconds(call) == 15.0


def test_connected_seconds_are_unknown_until_answered_and_ended() -> None:
    assert connected_seconds(replace(CALL, ended_at=T0)) is None
    assert connected_seconds(replace(CALL, answered_at=T0)) is None


def test_connected_seconds_are_never_negative() -> None:
    call = replace(CALL, answered_at=T0 + timedelta(seconds=3), ended_at=T0)
    assert connected_seconds(call) == 0.0


def test_connected_seconds_accept_the_stores_naive_utc_times() -> None:
    """SQLite hands datetimes back naive: a mix with aware ones must not raise."""
    naive_end = (T0 + timedelta(seconds=12)).replace(tzinfo=None)
    assert connected_seconds(replace(CALL, answered_at=T0, ended_at=naive_end)) == 12.0


def test_the_default_thresholds_are_kendaris() -> None:
    assert Thresholds() == Thresholds(valid_min_seconds=10.0, hung_up_immediately_seconds=5.0)


def test_classify_call_classifies_the_calls_timeline() -> None:
    timeline = (
        TimelineEntry(T0, kind.ARRIVED),
        TimelineEntry(T0, kind.ANSWERED),
        TimelineEntry(T0 + timedelta(seconds=1), kind.HUNG_UP, "16"),
    )
    call = replace(CALL, timeline=timeline)
    verdict = classify_call(call, Thresholds())
    assert verdict == classify(timeline, Thresholds())
    assert verdict == (Validity.INVALID, Disposition.HUNG_UP_IMMEDIATELY)


def test_classify_reads_the_timeline_not_the_calls_fields() -> None:
    """What `retag` recomputes from stored timelines must match what the call's fields say."""
    call = replace(CALL, answered_at=T0, ended_at=T0 + timedelta(seconds=30), cannot_speak=True)
    assert classify_call(call, Thresholds()) == (
        Validity.UNANSWERED,
        Disposition.ABANDONED_BEFORE_ANSWER,
    )


def test_every_kind_of_the_vocabulary_is_distinct_and_listed() -> None:
    constants = {
        name: value
        for name, value in vars(kind).items()
        if name.isupper() and isinstance(value, str)
    }
    assert len(set(constants.values())) == len(constants)
    assert set(constants.values()) == kind.KINDS


def test_a_command_failing_after_the_callers_hang_up_is_not_a_queued_call() -> None:
    # Seen in a Kendari replay: the caller hung up 3 ms after our answer; setting a channel
    # variable failed with 409 (not in Stasis) and we learnt that before the hang-up's own event.
    t0 = datetime(2026, 11, 25, 16, 29, 52, 773000, tzinfo=UTC)
    ms = timedelta(milliseconds=1)
    timeline = [
        TimelineEntry(t0, kind.ARRIVED),
        TimelineEntry(t0 + 7 * ms, kind.ANSWERED),
        TimelineEntry(t0 + 13.184 * ms, kind.COMMAND_FAILED, "ContinueToQueue: 409"),
        TimelineEntry(t0 + 13.184 * ms, kind.QUEUED, "command_failed prio=5"),
        TimelineEntry(t0 + 10 * ms, kind.HANGUP_REQUESTED),
        TimelineEntry(t0 + 10 * ms, kind.LEFT_STASIS),
        TimelineEntry(t0 + 13 * ms, kind.HUNG_UP, "16"),
    ]
    assert classify(timeline, Thresholds()) == (
        Validity.INVALID,
        Disposition.HUNG_UP_IMMEDIATELY,
    )
