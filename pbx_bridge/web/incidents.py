"""/api/incidents, /api/handoffs, /api/agencies: incidents followed to closure."""

from __future__ import annotations

from aiohttp import web

from pbx_bridge.dispatch.model import Handoff, Incident
from pbx_bridge.web.auth import current_user
from pbx_bridge.web.keys import DISPATCH, PRIVACY
from pbx_bridge.web.schemas import (
    AgenciesOut,
    AgencyOut,
    CloseIn,
    HandoffIn,
    HandoffList,
    HandoffOut,
    IncidentDetailOut,
    IncidentEventOut,
    IncidentList,
    IncidentOut,
    IncidentQuery,
    ListQuery,
    LocationOut,
    NumberViewList,
    NumberViewOut,
    RouteOut,
    VerificationIn,
    WhoAmI,
)
from pbx_bridge.web.validation import parse_body, parse_query, path_id


def incident_out(incident: Incident) -> IncidentOut:
    location = incident.location
    return IncidentOut(
        id=incident.id,
        category=incident.category,
        description=incident.description,
        location=LocationOut(
            text=location.text,
            latitude=location.latitude,
            longitude=location.longitude,
            source=location.source,
        ),
        priority=incident.priority,
        verification=incident.verification,
        status=incident.status,
        created_at=incident.created_at,
        created_by=incident.created_by,
        closed_at=incident.closed_at,
        call_ids=list(incident.call_ids),
    )


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


def _json(model: IncidentOut | HandoffOut, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


async def list_incidents(request: web.Request) -> web.Response:
    """Newest first; an agency sees only the incidents handed to it."""
    query = parse_query(request, IncidentQuery)
    incidents = await request.app[DISPATCH].visible_incidents(
        current_user(request), query.limit, query.status
    )
    body = IncidentList(incidents=[incident_out(i) for i in incidents])
    return web.json_response(body.model_dump(mode="json"))


async def get_incident(request: web.Request) -> web.Response:
    """The incident with its timeline and handoffs."""
    detail = await request.app[DISPATCH].visible_incident(
        path_id(request, "incident_id"), current_user(request)
    )
    body = IncidentDetailOut(
        **incident_out(detail.incident).model_dump(),
        timeline=[
            IncidentEventOut(at=t.at, kind=t.kind, actor=t.actor, detail=t.detail)
            for t in detail.timeline
        ],
        handoffs=[handoff_out(h) for h in detail.handoffs],
    )
    return web.json_response(body.model_dump(mode="json"))


async def verify_incident(request: web.Request) -> web.Response:
    body = await parse_body(request, VerificationIn)
    incident = await request.app[DISPATCH].verify(
        path_id(request, "incident_id"), body.state, body.note, current_user(request)
    )
    return _json(incident_out(incident))


async def hand_off(request: web.Request) -> web.Response:
    """Hand a verified incident to its category's agency (or the one named)."""
    body = await parse_body(request, HandoffIn)
    handoff = await request.app[DISPATCH].hand_off(
        path_id(request, "incident_id"), body.agency, current_user(request)
    )
    return _json(handoff_out(handoff), status=201)


async def close_incident(request: web.Request) -> web.Response:
    body = await parse_body(request, CloseIn)
    incident = await request.app[DISPATCH].close_incident(
        path_id(request, "incident_id"), body.note, current_user(request)
    )
    return _json(incident_out(incident))


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
    return _json(handoff_out(handoff))


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


async def number_views(request: web.Request) -> web.Response:
    """The audit: who saw which caller's number in clear, and why."""
    query = parse_query(request, ListQuery)
    views = await request.app[PRIVACY].views(query.limit)
    body = NumberViewList(
        views=[NumberViewOut(who=v.who, call_id=v.call_id, at=v.at, why=v.why) for v in views]
    )
    return web.json_response(body.model_dump(mode="json"))


async def whoami(request: web.Request) -> web.Response:
    user = current_user(request)
    return web.json_response(
        WhoAmI(name=user.name, role=user.role.value, agency=user.agency).model_dump(mode="json")
    )
