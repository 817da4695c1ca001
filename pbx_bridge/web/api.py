"""aiohttp routes: /health and /metrics for operators, /api/calls behind a bearer token."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pbx_bridge.logging import mask_number
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.web import metrics


@dataclass
class Health:
    """What /health reports; the composition root keeps it current."""

    ari: Callable[[], bool]
    ami: Callable[[], bool]
    database: Callable[[], Awaitable[bool]]
    spooled: Callable[[], int] = field(default=lambda: 0)  # records waiting for the database


HEALTH = web.AppKey("health", Health)
CALLS = web.AppKey("calls", CallRepository)
TOKEN = web.AppKey("token", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        expected = request.app[TOKEN]
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not given or not hmac.compare_digest(given, expected):
            raise web.HTTPUnauthorized(
                text='{"error": "send Authorization: Bearer <PBX_BRIDGE_API_TOKEN>"}',
                content_type="application/json",
            )
    return await handler(request)


async def health(request: web.Request) -> web.Response:
    checks = request.app[HEALTH]
    parts = {"ari": checks.ari(), "ami": checks.ami(), "database": await checks.database()}
    metrics.ARI_CONNECTED.set(int(parts["ari"]))
    metrics.AMI_CONNECTED.set(int(parts["ami"]))
    status = 200 if all(parts.values()) else 503
    return web.json_response(
        {"status": "ok" if status == 200 else "degraded", **parts, "spooled": checks.spooled()},
        status=status,
    )


async def prometheus(_request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


async def list_calls(request: web.Request) -> web.Response:
    raw_limit = request.query.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 1000:
        raise web.HTTPBadRequest(
            text='{"error": "limit: an integer from 1 to 1000"}', content_type="application/json"
        )
    calls = await request.app[CALLS].list(int(raw_limit))
    return web.json_response({"calls": [call.as_json(mask_number) for call in calls]})


def build_web_app(health_checks: Health, calls: CallRepository, token: str) -> web.Application:
    app = web.Application(middlewares=[require_token])
    app[HEALTH] = health_checks
    app[CALLS] = calls
    app[TOKEN] = token
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", prometheus)
    app.router.add_get("/api/calls", list_calls)
    return app
