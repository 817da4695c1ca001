"""/api/incidents: incidents followed to closure."""

from __future__ import annotations

from aiohttp import web

from pbx_bridge.dispatch.model import Incident
from pbx_bridge.web.auth import current_user
from pbx_bridge.web.handoffs import handoff_out
from pbx_bridge.web.keys import DISPATCH
from pbx_bridge.web.schemas import (
    CloseIn,
    HandoffIn,
    HandoffOut,
    IncidentDetailOut,
    IncidentEventOut,
    IncidentList,
    IncidentOut,
    IncidentQuery,
    LocationOut,
    VerificationIn,
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
