"""app_queue's QueueStatus read as the wallboard shows it: each taker's state from their own
queue, logged out when in none, callers in queue order with the longest wait."""

from __future__ import annotations

from pbx_bridge.queue.status import TakerState, snapshot
from pbx_bridge.queue.takers import MAIN_QUEUE, Group, Taker

CT1 = Taker("ct-01", "Petugas 1", Group.TAKER)
CT2 = Taker("ct-02", "Petugas 2", Group.TAKER)
CT3 = Taker("ct-03", "Petugas 3", Group.TAKER)
CT4 = Taker("ct-04", "Petugas 4", Group.TAKER)
SV1 = Taker("sv-01", "Supervisor 1", Group.SUPERVISOR)


def member(queue: str, taker: Taker, **fields: str) -> dict[str, str]:
    return {
        "Event": "QueueMember",
        "Queue": queue,
        "StateInterface": taker.interface,
        "Status": "1",
        "Paused": "0",
        "InCall": "0",
        "CallsTaken": "3",
        "LastCall": "0",
        **fields,
    }


def test_each_takers_state_comes_from_the_112_queue() -> None:
    events = [
        {"Response": "Success", "EventList": "start"},
        member(MAIN_QUEUE, CT1),
        member("another-queue", CT1, Paused="1"),  # ignored: only emergency-112 counts
        member(MAIN_QUEUE, CT2, Paused="1", PausedReason="istirahat"),
        member(MAIN_QUEUE, CT3, InCall="1", Paused="1"),  # in a call beats paused
        member(MAIN_QUEUE, CT4, Status="5"),  # softphone not registered
        member(MAIN_QUEUE, SV1, Status="6", Penalty="1"),
        {"Event": "QueueStatusComplete"},
    ]
    snap = snapshot(events, [CT1, CT2, CT3, CT4, SV1, Taker("ct-09", "x", Group.TAKER)])
    assert [(m.taker.id, m.state, m.reason) for m in snap.members] == [
        ("ct-01", TakerState.READY, ""),
        ("ct-02", TakerState.PAUSED, "istirahat"),
        ("ct-03", TakerState.IN_CALL, ""),
        ("ct-04", TakerState.UNAVAILABLE, ""),
        ("sv-01", TakerState.RINGING, ""),
        ("ct-09", TakerState.LOGGED_OUT, ""),
    ]
    assert snap.members[0].calls_taken == 3


def test_callers_are_listed_in_position_order() -> None:
    def entry(queue: str, position: int, wait: int) -> dict[str, str]:
        return {
            "Event": "QueueEntry",
            "Queue": queue,
            "Position": str(position),
            "Uniqueid": f"{queue}-{position}",
            "Wait": str(wait),
            "Priority": "5",
            "CallerIDNum": "081234567890",
        }

    events = [entry(MAIN_QUEUE, 3, 75), entry(MAIN_QUEUE, 2, 4), entry(MAIN_QUEUE, 1, 30)]
    events.append(entry("another-queue", 1, 99))  # not the 112 queue: not listed
    snap = snapshot(events, [])
    assert [c.call_id for c in snap.callers] == [
        f"{MAIN_QUEUE}-1",
        f"{MAIN_QUEUE}-2",
        f"{MAIN_QUEUE}-3",
    ]
    assert snap.longest_wait == 75
    assert snapshot([], []).longest_wait is None
