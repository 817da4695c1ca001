"""/api/calls: the call records, and what a call taker turns a call into."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiohttp import web

from pbx_bridge.dispatch.model import Location
from pbx_bridge.dispatch.services import IncidentDraft
from pbx_bridge.logging import mask_number
from pbx_bridge.store.repository import CallView
from pbx_bridge.store.users import Role, User
from pbx_bridge.web.auth import current_user, problem
from pbx_bridge.web.incidents import incident_out
from pbx_bridge.web.keys import CALLS, DISPATCH, PRIVACY
from pbx_bridge.web.schemas import (
    CallDetailOut,
    CallList,
    CallOut,
    CallQuery,
    ClosureIn,
    ClosureOut,
    IncidentFromCall,
    ListQuery,
)
from pbx_bridge.web.validation import parse_body, parse_query

CALL_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
_CALL_ID = re.compile(CALL_ID_PATTERN)


def sees_number(user: User, handled_by: str) -> bool:
    """Supervisors see any caller's number; a call taker only that of a call (or callback)
    they handled themselves. Every clear view is audited by the caller of this."""
    if user.role is Role.SUPERVISOR:
        return True
    return user.role is Role.CALL_TAKER and bool(handled_by) and handled_by == user.name


def call_id(request: web.Request) -> str:
    value = request.match_info["call_id"]
    if not _CALL_ID.match(value):
        raise problem(web.HTTPNotFound, "no such call", "call_id")
    return value


def call_out(view: CallView, *, clear: bool = False) -> dict[str, object]:
    return view.as_json(None if clear else mask_number)


async def list_calls(request: web.Request) -> web.Response:
    query = parse_query(request, ListQuery)
    views = await request.app[CALLS].list(query.limit)
    body = CallList(calls=[CallOut.model_validate(call_out(v)) for v in views])
    return web.json_response(body.model_dump(mode="json"))


async def get_call(request: web.Request) -> web.Response:
    """One call; its call taker or a supervisor sees the number in clear, and that is audited."""
    query = parse_query(request, CallQuery)
    user = current_user(request)
    view = await request.app[CALLS].get(call_id(request))
    if view is None:
        raise problem(web.HTTPNotFound, "no such call", "call_id")
    clear = sees_number(user, view.agent) and bool(view.caller_number)
    if clear:
        why = query.why or "call detail"
        await request.app[PRIVACY].record_view(user.name, view.id, why, datetime.now(UTC))
    status = await request.app[DISPATCH].call_status(view.id)
    body = CallDetailOut.model_validate(
        {
            **call_out(view, clear=clear),
            "incident_id": status.incident_id,
            "closure": status.closure,
            "earlier_calls": await request.app[CALLS].earlier_calls(view),
        }
    )
    return web.json_response(body.model_dump(mode="json"))


async def incident_from_call(request: web.Request) -> web.Response:
    """A new incident from this call, or (with incident_id) the call attached to one."""
    body = await parse_body(request, IncidentFromCall)
    user = current_user(request)
    service = request.app[DISPATCH]
    if body.incident_id is not None:
        incident = await service.attach_call(call_id(request), body.incident_id, user)
        return web.json_response(incident_out(incident).model_dump(mode="json"))
    if body.category is None:
        raise problem(
            web.HTTPUnprocessableEntity,
            "category: required for a new incident (or give incident_id to attach the call)",
            "category",
        )
    location = Location(
        text=body.location.text,
        latitude=body.location.latitude,
        longitude=body.location.longitude,
        source=body.location.source,
    )
    draft = IncidentDraft(body.category, body.description, location, body.priority)
    incident = await service.create_incident(call_id(request), draft, user)
    return web.json_response(incident_out(incident).model_dump(mode="json"), status=201)


async def close_call(request: web.Request) -> web.Response:
    """Close a call that is not an emergency, with its disposition."""
    body = await parse_body(request, ClosureIn)
    the_call = call_id(request)
    await request.app[DISPATCH].close_call(
        the_call, body.disposition, body.note, current_user(request)
    )
    return web.json_response(
        ClosureOut(call_id=the_call, disposition=body.disposition).model_dump(mode="json")
    )
