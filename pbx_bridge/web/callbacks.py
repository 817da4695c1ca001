"""/api/callbacks: the callback worklist; numbers in clear only to whom they are due (audited)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from pbx_bridge.logging import mask_number
from pbx_bridge.web.auth import current_user
from pbx_bridge.web.calls import sees_number
from pbx_bridge.web.keys import CALLS, PRIVACY
from pbx_bridge.web.schemas import ListQuery
from pbx_bridge.web.validation import parse_query


class CallbackQuery(ListQuery):
    status: Literal["open", "taken", "done"] = "open"


class CallbackOut(BaseModel):
    id: int
    call_id: str
    caller_number: str = Field(
        description="in clear for supervisors and the call taker who took it (audited)"
    )
    reason: str
    status: str
    created_at: datetime


class CallbackList(BaseModel):
    callbacks: list[CallbackOut]


async def callbacks(request: web.Request) -> web.Response:
    """The callback worklist; supervisors, and a call taker on the callbacks they took, see
    numbers in clear (audited)."""
    query = parse_query(request, CallbackQuery)
    user = current_user(request)
    rows = await request.app[CALLS].callbacks(query.status, query.limit)
    clear = {row["call_id"] for row in rows if sees_number(user, row["taken_by"])}
    shown = [row["call_id"] for row in rows if row["caller_number"] and row["call_id"] in clear]
    if shown:
        await request.app[PRIVACY].record_views(
            user.name, shown, "callback worklist", datetime.now(UTC)
        )
    body = CallbackList(
        callbacks=[
            CallbackOut.model_validate(
                {
                    **row,
                    "caller_number": row["caller_number"]
                    if row["call_id"] in clear
                    else mask_number(row["caller_number"]),
                }
            )
            for row in rows
        ]
    )
    return web.json_response(body.model_dump(mode="json"))
