"""The pure handoff machine: every rule case by case, then under random event orders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pbx_bridge.dispatch.handoff import (
    Acknowledged,
    Closed,
    EscalationTimerFired,
    Event,
    NotifyAgency,
    NotifySupervisor,
    RecordTimeline,
    Sent,
    step,
)
from pbx_bridge.dispatch.model import AWAITING_ACK, Handoff, HandoffPolicy, HandoffState

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
POLICY = HandoffPolicy(ack_timeout=timedelta(minutes=3), supervisor_timeout=timedelta(minutes=2))
NEW = Handoff(id=1, incident_id=7, agency="dinkes", second_agency="police")
ALONE = replace(NEW, second_agency="")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def sent(handoff: Handoff = NEW) -> Handoff:
    return step(handoff, Sent(T0), POLICY)[0]


def test_sending_tells_the_agency_and_sets_the_acknowledgement_deadline() -> None:
    """Sent: pending, the primary agency is notified, due after ack_timeout."""
    handoff, commands = step(NEW, Sent(T0), POLICY)
    assert handoff.state is HandoffState.PENDING
    assert handoff.sent_at == T0
    assert handoff.due_at == at(3)
    assert NotifyAgency("dinkes") in commands
    assert RecordTimeline("handoff_sent", "dinkes") in commands
    assert handoff.agencies_notified == ("dinkes",)


def test_a_timer_before_the_deadline_changes_nothing() -> None:
    """The escalation loop may run early: nothing happens before due_at."""
    pending = sent()
    assert step(pending, EscalationTimerFired(at(2.99)), POLICY) == (pending, [])


def test_unacknowledged_it_escalates_to_the_supervisor_then_the_second_agency() -> None:
    """pending -> escalated_to_supervisor -> escalated_to_second_agency, each after its timeout."""
    supervisor, commands = step(sent(), EscalationTimerFired(at(3)), POLICY)
    assert supervisor.state is HandoffState.ESCALATED_TO_SUPERVISOR
    assert any(isinstance(c, NotifySupervisor) for c in commands)
    assert supervisor.due_at == at(5)
    assert step(supervisor, EscalationTimerFired(at(4)), POLICY) == (supervisor, [])
    second, commands = step(supervisor, EscalationTimerFired(at(5)), POLICY)
    assert second.state is HandoffState.ESCALATED_TO_SECOND_AGENCY
    assert NotifyAgency("police") in commands
    assert second.due_at is None
    assert second.agencies_notified == ("dinkes", "police")


def test_without_a_second_agency_escalation_stops_at_the_supervisor() -> None:
    """A category with no second agency escalates once, to the supervisor, and stays there."""
    supervisor, _ = step(sent(ALONE), EscalationTimerFired(at(3)), POLICY)
    assert supervisor.state is HandoffState.ESCALATED_TO_SUPERVISOR
    assert supervisor.due_at is None
    assert step(supervisor, EscalationTimerFired(at(60)), POLICY) == (supervisor, [])


def test_a_late_loop_escalates_one_level_per_round() -> None:
    """A timer firing long after both deadlines still escalates one level, not two."""
    supervisor, _ = step(sent(), EscalationTimerFired(at(30)), POLICY)
    assert supervisor.state is HandoffState.ESCALATED_TO_SUPERVISOR
    assert supervisor.due_at == at(32)


def test_acknowledgement_stops_escalation_and_records_who() -> None:
    """Acknowledged in any waiting state: no deadline, who and when kept."""
    for waiting in (sent(), step(sent(), EscalationTimerFired(at(3)), POLICY)[0]):
        acknowledged, commands = step(waiting, Acknowledged(at(4), "budi@damkar"), POLICY)
        assert acknowledged.state is HandoffState.ACKNOWLEDGED
        assert acknowledged.due_at is None
        assert acknowledged.acknowledged_by == "budi@damkar"
        assert [type(c) for c in commands] == [RecordTimeline]
        assert step(acknowledged, EscalationTimerFired(at(99)), POLICY) == (acknowledged, [])


def test_closed_is_final() -> None:
    """After Closed, no event changes the handoff."""
    closed, _ = step(sent(), Closed(at(1)), POLICY)
    assert closed.state is HandoffState.CLOSED
    for event in (Sent(at(2)), Acknowledged(at(2), "x"), EscalationTimerFired(at(99))):
        assert step(closed, event, POLICY) == (closed, [])


def test_sent_twice_is_sent_once() -> None:
    pending = sent()
    assert step(pending, Sent(at(1)), POLICY) == (pending, [])


# --- random event orders

minutes = st.floats(min_value=0, max_value=20, allow_nan=False)
events = st.one_of(
    minutes.map(lambda m: Sent(at(m))),
    minutes.map(lambda m: Acknowledged(at(m), "someone")),
    minutes.map(lambda m: Closed(at(m))),
    minutes.map(lambda m: EscalationTimerFired(at(m))),
)
ORDER = [
    HandoffState.NEW,
    HandoffState.PENDING,
    HandoffState.ESCALATED_TO_SUPERVISOR,
    HandoffState.ESCALATED_TO_SECOND_AGENCY,
]


def rank(state: HandoffState) -> int:
    return ORDER.index(state) if state in ORDER else len(ORDER)


@settings(max_examples=400, deadline=None)
@given(st.lists(events, max_size=25), st.booleans())
def test_any_event_order_keeps_the_invariants(script: list[Event], has_second: bool) -> None:
    """Never backwards; a deadline exactly while waiting (and escalation left); closed is final;
    no escalation before its deadline; the second agency is told at most once."""
    handoff = NEW if has_second else ALONE
    told_second = 0
    for event in script:
        after, commands = step(handoff, event, POLICY)
        if handoff.state is HandoffState.CLOSED:
            assert after == handoff
        if handoff.state in {HandoffState.ACKNOWLEDGED, HandoffState.CLOSED}:
            assert after.state in {handoff.state, HandoffState.CLOSED}
        else:
            assert rank(after.state) >= rank(handoff.state)
        if after.state is not handoff.state and after.state.value.startswith("escalated"):
            assert isinstance(event, EscalationTimerFired)
            assert handoff.due_at is not None
            assert event.at >= handoff.due_at
        if after.due_at is not None:
            assert after.state in AWAITING_ACK
        told_second += sum(1 for c in commands if c == NotifyAgency("police"))
        assert (after == handoff) == (commands == [])
        handoff = after
    assert told_second <= 1
    assert not (told_second and not has_second)
