"""/api/handoffs: an agency's handoffs, acknowledged and closed by the agency."""

from __future__ import annotations

from aiohttp import web

from pbx_bridge.dispatch.model import Handoff
from pbx_bridge.web.auth import current_user
from pbx_bridge.web.keys import DISPATCH
from pbx_bridge.web.schemas import HandoffList, HandoffOut, ListQuery
from pbx_bridge.web.validation import parse_query, path_id


def handoff_out(handoff: Handoff) -> HandoffOut:
    return HandoffOut(
        id=handoff.id,
        incident_id=handoff.incident_id,
        agency=handoff.agency,
        second_agency=handoff.second_agency,
        state=handoff.state,
        sent_at=handoff.sent_at,
        due_at=handoff.due_at,
        acknowledged_at=handoff.acknowledged_at,
        acknowledged_by=handoff.acknowledged_by,
        closed_at=handoff.closed_at,
        agencies=list(handoff.agencies_notified),
    )


async def list_handoffs(request: web.Request) -> web.Response:
    """Handoffs, oldest first; an agency sees only its own."""
    query = parse_query(request, ListQuery)
    handoffs = await request.app[DISPATCH].visible_handoffs(current_user(request), query.limit)
    return web.json_response(
        HandoffList(handoffs=[handoff_out(h) for h in handoffs]).model_dump(mode="json")
    )


async def acknowledge(request: web.Request) -> web.Response:
    handoff = await request.app[DISPATCH].acknowledge(
        path_id(request, "handoff_id"), current_user(request)
    )
    return web.json_response(handoff_out(handoff).model_dump(mode="json"))


async def close_handoff(request: web.Request) -> web.Response:
    """The agency closes its handoff: its work on the incident is done."""
    handoff = await request.app[DISPATCH].close_handoff(
        path_id(request, "handoff_id"), current_user(request)
    )
    out: HandoffOut = handoff_out(handoff)
    return web.json_response(out.model_dump(mode="json"))
