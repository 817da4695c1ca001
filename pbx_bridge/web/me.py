"""/api/me: who this token is."""

from __future__ import annotations

from aiohttp import web

from pbx_bridge.web.auth import current_user
from pbx_bridge.web.schemas import WhoAmI


async def whoami(request: web.Request) -> web.Response:
    user = current_user(request)
    return web.json_response(
        WhoAmI(name=user.name, role=user.role.value, agency=user.agency).model_dump(mode="json")
    )
