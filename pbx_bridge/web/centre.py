"""What the console needs beyond calls and incidents: the live queue, call-taker state,
the callback worklist, the supervisor's wallboard, and an agency closing its handoff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from pbx_bridge.asterisk.ami import AmiUnavailable, AmiUnsafeAction
from pbx_bridge.logging import mask_number
from pbx_bridge.queue.members import Ami, MemberError
from pbx_bridge.queue.status import StateChange, change_state, read_queue
from pbx_bridge.queue.takers import Taker
from pbx_bridge.store.users import Role, User
from pbx_bridge.web.auth import current_user, problem
from pbx_bridge.web.calls import SEES_NUMBERS
from pbx_bridge.web.incidents import handoff_out
from pbx_bridge.web.keys import CALLS, DISPATCH, EVENTS, PRIVACY, REPORTS
from pbx_bridge.web.schemas import (
    CallbackList,
    CallbackOut,
    CallbackQuery,
    HandoffOut,
    HourOut,
    QueueOut,
    TakerOut,
    TakerStateIn,
    TodayCounts,
    WaitingCallerOut,
    WallboardOut,
)
from pbx_bridge.web.validation import parse_body, parse_query, path_id


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


async def callbacks(request: web.Request) -> web.Response:
    """The callback worklist; call takers and supervisors see numbers in clear (audited)."""
    query = parse_query(request, CallbackQuery)
    user = current_user(request)
    rows = await request.app[CALLS].callbacks(query.status, query.limit)
    clear = user.role in SEES_NUMBERS
    shown = [row["call_id"] for row in rows if row["caller_number"]]
    if clear and shown:
        await request.app[PRIVACY].record_views(
            user.name, shown, "callback worklist", datetime.now(UTC)
        )
    body = CallbackList(
        callbacks=[
            CallbackOut.model_validate(
                {
                    **row,
                    "caller_number": row["caller_number"]
                    if clear
                    else mask_number(row["caller_number"]),
                }
            )
            for row in rows
        ]
    )
    return web.json_response(body.model_dump(mode="json"))


async def wallboard(request: web.Request) -> web.Response:
    """Today (the centre's local day): the centre report's counts, answer times by hour, and
    the handoffs no agency has acknowledged yet."""
    reports = request.app[REPORTS]
    today = datetime.now(reports.zone).date()
    period = reports.period(today, today)
    report = await reports.centre(period)
    figures = report.as_json()
    times = figures["answer_times"]
    hourly = await reports.stats(period, "hour")
    dispatch = figures["dispatch"] or {}
    body = WallboardOut(
        day=today.isoformat(),
        timezone=reports.zone.key,
        today=TodayCounts(
            total_calls=figures["total_calls"],
            unanswered_in_queue=figures["unanswered_in_queue"],
            answered_valid=figures["answered_valid"],
            answered_invalid=figures["answered_invalid"],
            silent=figures["silent"],
            hung_up_at_once=figures["hung_up_at_once"],
            pressed_55=figures["pressed_55"],
            verified_emergencies=dispatch.get("verified_emergencies", 0),
            answered=times["answered"],
            within_15s_pct_of_answered=times["within_15s_pct_of_answered"],
            within_15s_pct_of_offered=times["within_15s_pct_of_offered"],
            longest_wait_seconds=times["longest_wait_seconds"],
        ),
        unacknowledged=[handoff_out(h) for h in await request.app[DISPATCH].unacknowledged()],
        hours=[HourOut.model_validate(bucket) for bucket in hourly["buckets"]],
    )
    return web.json_response(body.model_dump(mode="json"))


async def close_handoff(request: web.Request) -> web.Response:
    """The agency closes its handoff: its work on the incident is done."""
    handoff = await request.app[DISPATCH].close_handoff(
        path_id(request, "handoff_id"), current_user(request)
    )
    out: HandoffOut = handoff_out(handoff)
    return web.json_response(out.model_dump(mode="json"))
