"""The live queue read from app_queue (AMI QueueStatus), and call-taker state changes.

`snapshot` is pure: it turns the QueueStatus event list into callers waiting and each call
taker's state. `change_state` asks app_queue for a change through `members`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pbx_bridge.queue import members
from pbx_bridge.queue.members import Ami
from pbx_bridge.queue.takers import MAIN_QUEUE, Taker

# AST_DEVICE_* values app_queue reports for a member's device.
_IN_CALL_DEVICE = frozenset({"2", "3", "7", "8"})  # in use, busy, ring+in use, on hold
_UNAVAILABLE_DEVICE = frozenset({"4", "5"})  # invalid, unavailable (softphone not registered)
_RINGING_DEVICE = "6"


class TakerState(StrEnum):
    LOGGED_OUT = "logged_out"
    PAUSED = "paused"
    READY = "ready"
    RINGING = "ringing"
    IN_CALL = "in_call"
    UNAVAILABLE = "unavailable"  # a member whose softphone is not registered


class StateChange(StrEnum):
    """What a call taker (or a supervisor for them) asks for."""

    LOGGED_IN = "logged_in"  # in the queue, paused until ready
    READY = "ready"
    PAUSED = "paused"
    LOGGED_OUT = "logged_out"


@dataclass(frozen=True)
class WaitingCaller:
    queue: str
    position: int
    call_id: str  # the channel's unique id, which is the call's id
    wait_seconds: int
    priority: int | None


@dataclass(frozen=True)
class MemberView:
    taker: Taker
    state: TakerState
    reason: str
    calls_taken: int
    last_call: int  # epoch seconds, 0 if none
    # app_queue's pause flag and reason, also while in a call or unavailable (`state` shows
    # the call then): what to re-apply if app_queue forgets its members.
    paused: bool = False
    paused_reason: str = ""


@dataclass(frozen=True)
class QueueSnapshot:
    callers: tuple[WaitingCaller, ...]
    members: tuple[MemberView, ...]

    @property
    def longest_wait(self) -> int | None:
        return max((c.wait_seconds for c in self.callers), default=None)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def _member_state(event: Mapping[str, Any]) -> tuple[TakerState, str]:
    status = str(event.get("Status", ""))
    if str(event.get("InCall", "0")) == "1" or status in _IN_CALL_DEVICE:
        return TakerState.IN_CALL, ""
    if status == _RINGING_DEVICE:
        return TakerState.RINGING, ""
    if str(event.get("Paused", "0")) == "1":
        return TakerState.PAUSED, str(event.get("PausedReason", ""))
    if status in _UNAVAILABLE_DEVICE:
        return TakerState.UNAVAILABLE, ""
    return TakerState.READY, ""


def snapshot(events: Iterable[Mapping[str, Any]], takers: Sequence[Taker]) -> QueueSnapshot:
    """Callers waiting (by queue, then position) and every configured taker's state.

    A taker is read in their own queue (call takers: emergency-112; supervisors: the
    overflow); a taker who is in no queue is logged out.
    """
    callers: list[WaitingCaller] = []
    seen: dict[tuple[str, str], Mapping[str, Any]] = {}
    for event in events:
        name = str(event.get("Event", ""))
        queue = str(event.get("Queue", ""))
        if name == "QueueEntry" and queue == MAIN_QUEUE:
            priority = event.get("Priority")
            callers.append(
                WaitingCaller(
                    queue=queue,
                    position=_int(event.get("Position")),
                    call_id=str(event.get("Uniqueid", "")),
                    wait_seconds=_int(event.get("Wait")),
                    priority=None if priority in (None, "") else _int(priority),
                )
            )
        elif name == "QueueMember":
            interface = str(event.get("StateInterface") or event.get("Location", ""))
            seen[(queue, interface)] = event
    views = []
    for taker in takers:
        member = seen.get((MAIN_QUEUE, taker.interface))
        if member is None:
            views.append(MemberView(taker, TakerState.LOGGED_OUT, "", 0, 0))
            continue
        state, reason = _member_state(member)
        views.append(
            MemberView(
                taker,
                state,
                reason,
                _int(member.get("CallsTaken")),
                _int(member.get("LastCall")),
                paused=str(member.get("Paused", "0")) == "1",
                paused_reason=str(member.get("PausedReason", "")),
            )
        )
    callers.sort(key=lambda c: c.position)
    return QueueSnapshot(tuple(callers), tuple(views))


async def read_queue(ami: Ami, takers: Sequence[Taker]) -> QueueSnapshot:
    """Ask app_queue for its status (one event list) and read it."""
    response = await ami.action({"Action": "QueueStatus"}, as_list=True)
    items = response if isinstance(response, list) else [response]
    return snapshot([dict(item) for item in items], takers)


async def change_state(ami: Ami, taker: Taker, change: StateChange, reason: str = "") -> None:
    """Log in (paused), go ready, pause with a reason, or log out, in every queue of the taker."""
    if change is StateChange.LOGGED_IN:
        await members.log_in(ami, taker)
    elif change is StateChange.READY:
        await members.log_in(ami, taker, ready=True)  # "Already there" is tolerated
        await members.set_ready(ami, taker)
    elif change is StateChange.PAUSED:
        await members.log_in(ami, taker)
        await members.pause(ami, taker, reason)
    else:
        await members.log_out(ami, taker)
