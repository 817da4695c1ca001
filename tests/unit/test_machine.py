"""The pure core: each rule about a 112 call, case by case and under random event orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pbx_bridge.screening import machine
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
    WatchHangup,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def arrive(answered: bool = False) -> tuple[Call, list[Command]]:
    return machine.start(Arrived(at(0), "chan-1", "081234567890", "Budi", answered=answered))


def run(events: list[Event]) -> tuple[Call, list[Command]]:
    call, commands = arrive()
    for event in events:
        call, more = machine.step(call, event)
        commands = [*commands, *more]
    return call, commands


def test_a_new_call_is_answered_at_once_and_its_hangup_watched() -> None:
    call, commands = arrive()
    assert call.phase is Phase.ANSWERING
    assert commands == [WatchHangup(), Answer()]


def test_the_greeting_plays_once_the_call_is_answered() -> None:
    call, commands = run([Answered(at(0.1))])
    assert call.phase is Phase.GREETING
    assert call.answered_at == at(0.1)
    assert commands[-1] == Play("pbx-bridge/greeting", "chan-1-greeting")


def test_after_the_greeting_the_call_goes_to_the_queue() -> None:
    call, commands = run([Answered(at(0.1)), PlaybackFinished(at(7), "chan-1-greeting")])
    assert call.phase is Phase.QUEUED
    assert commands[-1] == ContinueToQueue("screened")


def test_another_playback_finishing_does_not_end_the_greeting() -> None:
    call, _ = run([Answered(at(0.1)), PlaybackFinished(at(1), "something-else")])
    assert call.phase is Phase.GREETING


def test_a_hangup_stores_exactly_one_record_with_its_times() -> None:
    call, commands = run(
        [
            Answered(at(0.1)),
            HangupRequested(at(3), 16),
            HungUp(at(3.01), 0),
            HungUp(at(4), 16),
        ]
    )
    stored = [c for c in commands if isinstance(c, StoreRecord)]
    assert len(stored) == 1
    assert call.phase is Phase.ENDED
    assert stored[0].call.ended_at == at(3.01)
    assert stored[0].call.hangup_cause == 16  # taken from the request when destroy says 0


def test_a_failed_command_while_screening_sends_the_call_to_the_queue() -> None:
    call, commands = run([CommandFailed(at(0.2), "Answer", "ARI 500")])
    assert call.phase is Phase.QUEUED
    assert commands[-1] == ContinueToQueue("command_failed")


def test_a_call_adopted_after_reconnect_goes_straight_to_the_queue() -> None:
    call, commands = arrive(answered=True)
    assert call.phase is Phase.QUEUED
    assert call.adopted
    assert ContinueToQueue("adopted") in commands


def test_leaving_stasis_early_still_ends_in_the_queue() -> None:
    call, commands = run([Answered(at(0.1)), LeftStasis(at(1))])
    assert call.phase is Phase.QUEUED
    assert not call.in_stasis
    assert not any(isinstance(c, StoreRecord) for c in commands)


def test_an_ended_call_ignores_everything_after() -> None:
    call, _ = run([HungUp(at(1), 16)])
    again, commands = machine.step(call, Answered(at(2)))
    assert again is call
    assert commands == []


times = st.floats(min_value=0, max_value=120, allow_nan=False)
events = st.one_of(
    st.builds(Answered, times.map(at)),
    st.builds(PlaybackFinished, times.map(at), st.sampled_from(["chan-1-greeting", "x"])),
    st.builds(LeftStasis, times.map(at)),
    st.builds(HangupRequested, times.map(at), st.one_of(st.none(), st.integers(0, 127))),
    st.builds(HungUp, times.map(at), st.integers(0, 127), st.text(max_size=10)),
    st.builds(CommandFailed, times.map(at), st.sampled_from(["Answer", "Play"]), st.text()),
    st.builds(Arrived, times.map(at), st.just("chan-1"), st.just("0812")),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(events, max_size=25), st.booleans())
def test_any_event_order_ends_in_one_final_state_with_one_record(
    sequence: list[Event], adopted: bool
) -> None:
    """Whatever Asterisk sends, in whatever order: no crash, one record iff the call ended."""
    call, commands = arrive(answered=adopted)
    for event in [*sequence, HungUp(at(200), 16)]:
        call, more = machine.step(call, event)
        commands = [*commands, *more]
    stored = [c for c in commands if isinstance(c, StoreRecord)]
    assert call.phase is Phase.ENDED
    assert len(stored) == 1
    assert stored[0].call == call
    # Nothing is asked of Asterisk after the record is written.
    assert isinstance(commands[-1], StoreRecord)
    # A 112 call is never hung up by the core.
    assert all(type(c).__name__ != "Hangup" for c in commands)
