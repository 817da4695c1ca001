"""/api/agencies: the regency's agencies and which takes each category."""

from __future__ import annotations

from aiohttp import web

from pbx_bridge.web.keys import DISPATCH
from pbx_bridge.web.schemas import AgenciesOut, AgencyOut, RouteOut


async def agencies(request: web.Request) -> web.Response:
    directory = request.app[DISPATCH].agencies
    body = AgenciesOut(
        regency=directory.regency,
        agencies=[AgencyOut(id=k, name=v) for k, v in directory.names.items()],
        routes=[
            RouteOut(category=c, primary=r.primary, second=r.second)
            for c, r in directory.routes.items()
        ],
    )
    return web.json_response(body.model_dump(mode="json"))
