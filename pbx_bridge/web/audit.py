"""/api/audit/number-views: who saw which caller's number in clear, and why."""

from __future__ import annotations

from aiohttp import web

from pbx_bridge.web.keys import PRIVACY
from pbx_bridge.web.schemas import ListQuery, NumberViewList, NumberViewOut
from pbx_bridge.web.validation import parse_query


async def number_views(request: web.Request) -> web.Response:
    """The audit: who saw which caller's number in clear, and why."""
    query = parse_query(request, ListQuery)
    views = await request.app[PRIVACY].views(query.limit)
    body = NumberViewList(
        views=[NumberViewOut(who=v.who, call_id=v.call_id, at=v.at, why=v.why) for v in views]
    )
    return web.json_response(body.model_dump(mode="json"))
