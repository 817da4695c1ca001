"""/api/wallboard: today's counts, answer times by hour, the unacknowledged handoffs."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from pbx_bridge.web.handoffs import handoff_out
from pbx_bridge.web.keys import DISPATCH, REPORTS
from pbx_bridge.web.schemas import HandoffOut


class TodayCounts(BaseModel):
    """Today's calls in the form Kendari published (the centre report's own figures)."""

    total_calls: int
    unanswered_in_queue: int
    answered_valid: int
    answered_invalid: int
    silent: int
    hung_up_at_once: int
    pressed_55: int
    verified_emergencies: int
    answered: int = Field(description="answered by a call taker")
    within_15s_pct_of_answered: float | None
    within_15s_pct_of_offered: float | None
    longest_wait_seconds: float | None


class HourOut(BaseModel):
    start: datetime
    offered: int
    answered: int
    abandoned_in_queue: int
    answer_p50_seconds: float | None
    answer_p90_seconds: float | None
    within_15s_pct_of_answered: float | None


class WallboardOut(BaseModel):
    day: str
    timezone: str
    today: TodayCounts
    unacknowledged: list[HandoffOut]
    hours: list[HourOut]


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
