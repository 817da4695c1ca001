"""/api/queue and /api/takers/{id}/state: the live queue and the call takers' state in app_queue,
over AMI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, Field

from pbx_bridge.asterisk.ami import AmiUnavailable, AmiUnsafeAction
from pbx_bridge.queue.members import Ami, MemberError
from pbx_bridge.queue.status import StateChange, TakerState, change_state, read_queue
from pbx_bridge.queue.takers import Taker
from pbx_bridge.store.users import Role, User
from pbx_bridge.web.auth import current_user, problem
from pbx_bridge.web.keys import EVENTS
from pbx_bridge.web.schemas import PbxText, Strict
from pbx_bridge.web.validation import parse_body

# --- bodies


class TakerStateIn(Strict):
    state: StateChange
    reason: PbxText = Field(
        default="", description="required to pause (e.g. istirahat); one line, no control character"
    )


class WaitingCallerOut(BaseModel):
    queue: str
    position: int
    call_id: str
    wait_seconds: int
    priority: int | None


class TakerOut(BaseModel):
    id: str
    name: str
    group: str
    state: TakerState
    reason: str = Field(description="why paused")
    calls_taken: int
    last_call_at: datetime | None


class QueueOut(BaseModel):
    calls_waiting: int
    longest_wait_seconds: int | None
    callers: list[WaitingCallerOut]
    takers: list[TakerOut]


# --- handlers


@dataclass(frozen=True)
class QueueControl:
    """app_queue over AMI (from the composition root), and who may be a member."""

    ami: Ami | None
    takers: tuple[Taker, ...]

    def taker(self, taker_id: str) -> Taker:
        for taker in self.takers:
            if taker.id == taker_id:
                return taker
        raise problem(web.HTTPNotFound, f"no call taker {taker_id!r}", "taker_id")

    def connected(self) -> Ami:
        if self.ami is None:
            raise problem(web.HTTPServiceUnavailable, "AMI is not connected; try again shortly")
        return self.ami


QUEUE = web.AppKey("queue", QueueControl)


def _asterisk_error(error: Exception) -> Exception:
    if isinstance(error, AmiUnavailable):
        return problem(
            web.HTTPServiceUnavailable,
            f"Asterisk (AMI) unavailable: {error}. app_queue cannot be read or changed until "
            "AMI is back: retry in a few seconds (GET /health shows ami); calls still "
            "reach the queue meanwhile",
        )
    if isinstance(error, AmiUnsafeAction):
        return problem(web.HTTPUnprocessableEntity, str(error))
    return problem(web.HTTPBadGateway, f"Asterisk refused: {error}")


async def queue_status(request: web.Request) -> web.Response:
    """Callers waiting and every call taker's state, as app_queue has them now."""
    control = request.app[QUEUE]
    try:
        snap = await read_queue(control.connected(), control.takers)
    except (AmiUnavailable, AmiUnsafeAction, MemberError) as error:
        raise _asterisk_error(error) from None
    body = QueueOut(
        calls_waiting=len(snap.callers),
        longest_wait_seconds=snap.longest_wait,
        callers=[
            WaitingCallerOut(
                queue=c.queue,
                position=c.position,
                call_id=c.call_id,
                wait_seconds=c.wait_seconds,
                priority=c.priority,
            )
            for c in snap.callers
        ],
        takers=[
            TakerOut(
                id=m.taker.id,
                name=m.taker.name,
                group=m.taker.group.value,
                state=m.state,
                reason=m.reason,
                calls_taken=m.calls_taken,
                last_call_at=datetime.fromtimestamp(m.last_call, UTC) if m.last_call else None,
            )
            for m in snap.members
        ],
    )
    return web.json_response(body.model_dump(mode="json"))


def _may_change(user: User, taker_id: str) -> None:
    # Call takers are users named by their SIP id (`pbx-bridge users add ct-01 --role call_taker`).
    if user.role is Role.CALL_TAKER and user.name != taker_id:
        raise problem(web.HTTPForbidden, f"a call taker changes only their own state ({user.name})")


async def set_taker_state(request: web.Request) -> web.Response:
    """Log in, ready, pause (with a reason) or log out, in app_queue."""
    body = await parse_body(request, TakerStateIn)
    control = request.app[QUEUE]
    taker_id = request.match_info["taker_id"]
    user = current_user(request)
    _may_change(user, taker_id)
    taker = control.taker(taker_id)
    if body.state is StateChange.PAUSED and not body.reason.strip():
        raise problem(web.HTTPUnprocessableEntity, "reason: required to pause", "reason")
    try:
        await change_state(control.connected(), taker, body.state, body.reason.strip())
    except (AmiUnavailable, AmiUnsafeAction, MemberError) as error:
        raise _asterisk_error(error) from None
    request.app[EVENTS].publish(
        "taker.state",
        {"taker_id": taker.id, "state": body.state.value, "reason": body.reason, "by": user.name},
    )
    return await queue_status(request)
