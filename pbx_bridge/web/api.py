"""The web application: /health and /metrics for operators, /api/* behind a bearer token.

Every /api route is registered here, from one operations table that also generates the OpenAPI
document, so the document and the routes cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import version

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pbx_bridge import metrics
from pbx_bridge.dispatch.services import DispatchService
from pbx_bridge.queue.members import Ami
from pbx_bridge.queue.takers import Taker
from pbx_bridge.reports.service import Reports
from pbx_bridge.store.privacy import PrivacyRepository
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.users import Role
from pbx_bridge.web import (
    agencies,
    audit,
    callbacks,
    calls,
    console_routes,
    handoffs,
    incidents,
    me,
    queue,
    reports,
    wallboard,
)
from pbx_bridge.web.auth import Authenticator, make_auth_middleware, require_role
from pbx_bridge.web.events import EventBus, stream_events
from pbx_bridge.web.headers import add_security_headers_to
from pbx_bridge.web.keys import CALLS, DISPATCH, EVENTS, PRIVACY, REPORTS
from pbx_bridge.web.openapi import Operation, openapi_document
from pbx_bridge.web.schemas import (
    AgenciesOut,
    CallDetailOut,
    CallList,
    CallQuery,
    CloseIn,
    ClosureIn,
    ClosureOut,
    EventsQuery,
    HandoffIn,
    HandoffList,
    HandoffOut,
    IncidentDetailOut,
    IncidentFromCall,
    IncidentList,
    IncidentOut,
    IncidentQuery,
    ListQuery,
    NumberViewList,
    ReportOut,
    ReportQuery,
    StatsOut,
    StatsQuery,
    VerificationIn,
    WhoAmI,
)
from pbx_bridge.web.throttle import AuthThrottle
from pbx_bridge.web.validation import json_errors


@dataclass
class Health:
    """What /health reports; the composition root keeps it current."""

    ari: Callable[[], bool]
    ami: Callable[[], bool]
    database: Callable[[], Awaitable[bool]]
    spooled: Callable[[], int] = field(default=lambda: 0)  # records waiting for the database


@dataclass(frozen=True)
class ApiParts:
    """What the API needs from the composition root."""

    calls: CallRepository
    dispatch: DispatchService
    privacy: PrivacyRepository
    authenticator: Authenticator
    events: EventBus
    reports: Reports  # the centre report and statistics, for the wallboard
    ami: Ami | None = None  # app_queue over AMI (the composition root's client)
    takers: tuple[Taker, ...] = ()  # call-takers.toml: who may be a queue member
    throttle: AuthThrottle = field(default_factory=AuthThrottle)  # failed tokens per address


HEALTH = web.AppKey("health", Health)
OPENAPI = web.AppKey("openapi", dict)

EVERYONE = frozenset(Role)
CENTRE = frozenset({Role.CALL_TAKER, Role.SUPERVISOR, Role.ADMIN})  # the 112 centre's staff
OVERSIGHT = frozenset({Role.SUPERVISOR, Role.ADMIN})
ACKNOWLEDGERS = frozenset({Role.AGENCY, Role.SUPERVISOR, Role.ADMIN})


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


async def live(_request: web.Request) -> web.Response:
    """Liveness for the guard: answered by the event loop alone (no database, no Asterisk), so
    it fails exactly when the loop does not run (the process frozen, stuck or gone)."""
    return web.json_response({"status": "alive"})


async def prometheus(_request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI document (it holds no data, so it is also served at /openapi.json)."""
    return web.json_response(request.app[OPENAPI])


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET", "/api/calls", calls.list_calls, "The newest calls (numbers masked)", CENTRE,
        query=ListQuery, response=CallList,
    ),
    Operation(
        "GET", "/api/calls/{call_id}", calls.get_call,
        "One call; its call taker and supervisors see the number in clear (audited)", CENTRE,
        query=CallQuery, response=CallDetailOut,
    ),
    Operation(
        "POST", "/api/calls/{call_id}/incident", calls.incident_from_call,
        "Make the call an incident (201), or attach it to `incident_id` (200)", CENTRE,
        body=IncidentFromCall, response=IncidentOut, statuses=(200, 201), conflicts=True,
    ),
    Operation(
        "POST", "/api/calls/{call_id}/closure", calls.close_call,
        "Close a call that is not an emergency, with its disposition", CENTRE,
        body=ClosureIn, response=ClosureOut, conflicts=True,
    ),
    Operation(
        "GET", "/api/incidents", incidents.list_incidents,
        "Incidents, newest first (an agency: those handed to it)", EVERYONE,
        query=IncidentQuery, response=IncidentList,
    ),
    Operation(
        "GET", "/api/incidents/{incident_id}", incidents.get_incident,
        "An incident with its timeline and handoffs", EVERYONE, response=IncidentDetailOut,
    ),
    Operation(
        "POST", "/api/incidents/{incident_id}/verification", incidents.verify_incident,
        "Set the verification state (verified, false, prank, unverified)", CENTRE,
        body=VerificationIn, response=IncidentOut, conflicts=True,
    ),
    Operation(
        "POST", "/api/incidents/{incident_id}/handoffs", incidents.hand_off,
        "Hand a verified incident to its agency", CENTRE,
        body=HandoffIn, response=HandoffOut, statuses=(201,), conflicts=True,
    ),
    Operation(
        "POST", "/api/incidents/{incident_id}/close", incidents.close_incident,
        "Close the incident and its open handoffs", CENTRE,
        body=CloseIn, response=IncidentOut, conflicts=True,
    ),
    Operation(
        "GET", "/api/handoffs", handoffs.list_handoffs,
        "Handoffs (an agency: its own)", EVERYONE, query=ListQuery, response=HandoffList,
    ),
    Operation(
        "POST", "/api/handoffs/{handoff_id}/acknowledge", handoffs.acknowledge,
        "The agency acknowledges the handoff", ACKNOWLEDGERS, response=HandoffOut,
        conflicts=True,
    ),
    Operation(
        "GET", "/api/agencies", agencies.agencies,
        "The regency's agencies and which takes each category", EVERYONE, response=AgenciesOut,
    ),
    Operation(
        "GET", "/api/audit/number-views", audit.number_views,
        "Who saw which caller's number in clear, and why", OVERSIGHT,
        query=ListQuery, response=NumberViewList,
    ),
    Operation(
        "GET", "/api/report", reports.report,
        "The centre's report for local days from..to: calls, answer times, verified "
        "emergencies per category and agency, handoff acknowledgement times", CENTRE,
        query=ReportQuery, response=ReportOut, csv=True,
    ),
    Operation(
        "GET", "/api/stats", reports.stats,
        "Answer times per local hour or day (NENA-STA-020.1) for local days from..to", CENTRE,
        query=StatsQuery, response=StatsOut, csv=True,
    ),
    Operation(
        "POST", "/api/handoffs/{handoff_id}/close", handoffs.close_handoff,
        "The agency closes its acknowledged handoff: its work is done", ACKNOWLEDGERS,
        response=HandoffOut, conflicts=True,
    ),
    Operation(
        "GET", "/api/callbacks", callbacks.callbacks,
        "The callback worklist, oldest first; supervisors, and a call taker on the callbacks "
        "they took, see numbers (audited)",
        CENTRE, query=callbacks.CallbackQuery, response=callbacks.CallbackList,
    ),
    Operation(
        "GET", "/api/queue", queue.queue_status,
        "The live queue from app_queue: callers waiting, longest wait, every call taker's state",
        CENTRE, response=queue.QueueOut, asterisk=True,
    ),
    Operation(
        "POST", "/api/takers/{taker_id}/state", queue.set_taker_state,
        "Log in, ready, pause (with a reason) or log out a call taker in app_queue; "
        "a call taker changes only their own", CENTRE,
        body=queue.TakerStateIn, response=queue.QueueOut, asterisk=True,
    ),
    Operation(
        "GET", "/api/wallboard", wallboard.wallboard,
        "Today's counts (the centre report), answer times by hour, unacknowledged handoffs",
        OVERSIGHT, response=wallboard.WallboardOut,
    ),
    Operation("GET", "/api/me", me.whoami, "Who this token is", EVERYONE, response=WhoAmI),
    Operation(
        "GET", "/api/events", stream_events,
        "Live events (server-sent): calls, incidents, handoffs, call-taker state; "
        "`?token=` may stand in for the Authorization header here only", EVERYONE,
        query=EventsQuery, stream=True,
    ),
    Operation("GET", "/api/openapi.json", openapi, "This document", EVERYONE),
)  # fmt: skip


def build_web_app(health_checks: Health, parts: ApiParts) -> web.Application:
    app = web.Application(
        middlewares=[json_errors, make_auth_middleware(parts.authenticator, parts.throttle)]
    )
    add_security_headers_to(app)
    app[HEALTH] = health_checks
    app[CALLS] = parts.calls
    app[DISPATCH] = parts.dispatch
    app[PRIVACY] = parts.privacy
    app[EVENTS] = parts.events
    app[REPORTS] = parts.reports
    app[queue.QUEUE] = queue.QueueControl(parts.ami, parts.takers)
    app[OPENAPI] = openapi_document(OPERATIONS, version("pbx-bridge"))
    app.router.add_get("/health", health)
    app.router.add_get("/health/live", live)
    app.router.add_get("/metrics", prometheus)
    app.router.add_get("/openapi.json", openapi)
    console_routes.add_console_routes(app)
    for op in OPERATIONS:
        app.router.add_route(op.method, op.route, require_role(op.roles, op.handler))

    async def end_streams(_app: web.Application) -> None:
        parts.events.close()  # open /api/events streams end, so shutdown does not wait on them

    app.on_shutdown.append(end_streams)
    return app
