"""The guard's own Prometheus metrics, served by the guard process itself (a second scrape
target): the controller's /metrics says nothing while the controller is frozen or dead, which
is exactly when these matter."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)
MOVED_CALLS = Counter(
    "pbx_bridge_guard_moved_calls_total",
    "Calls the guard moved from the Stasis app to the queue, by reason",
    ["reason"],
    registry=REGISTRY,
)
CONTROLLER_FAILED = Gauge(
    "pbx_bridge_guard_controller_failed",
    "1 while the guard judges the controller failed (that many checks unanswered in a row)",
    registry=REGISTRY,
)
CHECKS = Counter(
    "pbx_bridge_guard_checks_total",
    "The guard's liveness checks of the controller, by whether it answered",
    ["answered"],
    registry=REGISTRY,
)
HELD_CALLS = Gauge(
    "pbx_bridge_guard_calls_in_stasis",
    "Calls in the Stasis app at the guard's last check (ARI, seen from outside the controller)",
    registry=REGISTRY,
)


async def _metrics(_request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest(REGISTRY))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


async def serve_metrics(host: str, port: int) -> web.AppRunner:
    """GET /metrics on host:port until the returned runner is cleaned up."""
    app = web.Application()
    app.router.add_get("/metrics", _metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
