"""The dispatch API: roles, agency scoping, masked and audited numbers, field-named errors,
only verified incidents handed off, and escalation over a fake clock."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.repository import CallRepository
from tests.support.api import Api, api_client, build_api, sqlite_engine  # noqa: F401 - fixtures
from tests.support.calls import ended_call


@pytest.fixture
async def api(engine: AsyncEngine) -> Api:
    return await build_api(engine, calls=4)


class Calls:
    """Shorthands that assert the expected status and return the JSON body."""

    def __init__(self, client: TestClient[Any, Any], api: Api) -> None:
        self.client = client
        self.api = api

    async def get(self, who: str, path: str, status: int = 200) -> Any:
        response = await self.client.get(path, headers=self.api.auth(who))
        assert response.status == status, await response.text()
        return await response.json()

    async def post(self, who: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.client.post(path, json=body or {}, headers=self.api.auth(who))
        assert response.status == status, await response.text()
        return await response.json()

    async def verified_incident(self, call: str, category: str) -> int:
        body = {"category": category, "description": "smoke from a house", "priority": 2}
        incident = await self.post("ct", f"/api/calls/{call}/incident", body, status=201)
        await self.post(
            "ct", f"/api/incidents/{incident['id']}/verification", {"state": "verified"}
        )
        return int(incident["id"])


@pytest.fixture
def do(client: TestClient[Any, Any], api: Api) -> Calls:
    return Calls(client, api)


async def test_roles_that_may_not_are_refused_with_403_and_told_why(do: Calls) -> None:
    """An agency sees no call records; a call taker cannot acknowledge or read the audit."""
    refused = await do.get("damkar", "/api/calls", status=403)
    assert "call_taker" in refused["error"]
    await do.post("ct", "/api/handoffs/1/acknowledge", status=403)
    await do.get("ct", "/api/audit/number-views", status=403)
    await do.post("damkar", "/api/calls/c1/incident", {"category": "fire"}, status=403)
    assert (await do.get("damkar", "/api/me")) == {
        "name": "damkar",
        "role": "agency",
        "agency": "damkar",
    }


async def test_numbers_are_masked_except_to_the_call_taker_who_answered_and_supervisors(
    do: Calls, engine: AsyncEngine
) -> None:
    """Lists and admins see masked numbers; another call taker too; the one who answered the
    call and a supervisor see it in clear, and each clear view writes an audit row."""
    await CallRepository(engine, judge_by(Thresholds())).save(
        replace(ended_call("mine"), agent="ct")
    )
    listed = await do.get("ct", "/api/calls")
    assert {c["caller_number"] for c in listed["calls"]} == {"**********90"}
    assert (await do.get("admin", "/api/calls/c1"))["caller_number"] == "**********90"
    assert (await do.get("ct", "/api/calls/c1"))["caller_number"] == "**********90"  # not theirs
    assert (await do.get("ct-01", "/api/calls/mine"))["caller_number"] == "**********90"
    assert (await do.get("admin", "/api/audit/number-views"))["views"] == []
    clear = await do.get("ct", "/api/calls/mine?why=callback%20after%20drop")
    assert clear["caller_number"] == "081234567890"
    assert clear["incident_id"] is None
    assert (await do.get("sv", "/api/calls/c1"))["caller_number"] == "081234567890"
    views = (await do.get("sv", "/api/audit/number-views"))["views"]
    assert sorted((v["who"], v["call_id"], v["why"]) for v in views) == [
        ("ct", "mine", "callback after drop"),
        ("sv", "c1", "call detail"),
    ]


async def test_validation_errors_are_4xx_and_name_the_field(do: Calls) -> None:
    cases = [
        ({"category": "volcano"}, "category"),
        ({"description": "no category"}, "category"),
        ({"category": "fire", "location": {"latitude": 91}}, "location.latitude"),
        ({"category": "fire", "priority": 9}, "priority"),
        ({"category": "fire", "priority": "2"}, "priority"),  # strict: a string is not a number
        ({"category": "fire", "colour": "red"}, "colour"),
        ({"category": "fire", "description": "a\x00b"}, "description"),
    ]
    for body, field in cases:
        error = await do.post("ct", "/api/calls/c1/incident", body, status=422)
        assert error["field"] == field, error
        assert field in error["error"]
    assert (await do.post("ct", "/api/calls/c1/closure", {}, status=422))["field"] == "disposition"
    assert (await do.get("ct", "/api/incidents?status=maybe", status=422))["field"] == "status"
    response = await do.client.post(
        "/api/calls/c1/closure", data=b"{nope", headers=do.api.auth("ct")
    )
    assert response.status == 400
    assert (await response.json())["field"] == "body"
    assert (await do.post("ct", "/api/calls/c1/closure", [1], status=422))["field"] == "body"


async def test_only_verified_incidents_are_handed_off(do: Calls) -> None:
    """Unverified, false or prank: 409 naming verification; verified: to the category's agency."""
    incident = await do.post("ct", "/api/calls/c1/incident", {"category": "fire"}, status=201)
    path = f"/api/incidents/{incident['id']}"
    refused = await do.post("ct", f"{path}/handoffs", status=409)
    assert refused["field"] == "verification"
    await do.post("ct", f"{path}/verification", {"state": "prank"})
    await do.post("ct", f"{path}/handoffs", status=409)
    await do.post("ct", f"{path}/verification", {"state": "verified", "note": "neighbour confirms"})
    handoff = await do.post("ct", f"{path}/handoffs", status=201)
    assert (handoff["agency"], handoff["state"]) == ("damkar", "pending")
    again = await do.post("ct", f"{path}/handoffs", status=409)
    assert again["field"] == "agency"
    unknown = await do.post("ct", f"{path}/handoffs", {"agency": "army"}, status=422)
    assert unknown["field"] == "agency"


async def test_an_agency_sees_and_acknowledges_only_its_own_handoffs(do: Calls) -> None:
    fire = await do.verified_incident("c1", "fire")
    handoff = await do.post("sv", f"/api/incidents/{fire}/handoffs", status=201)
    assert [i["id"] for i in (await do.get("damkar", "/api/incidents"))["incidents"]] == [fire]
    assert (await do.get("police", "/api/incidents"))["incidents"] == []
    await do.get("police", f"/api/incidents/{fire}", status=404)
    assert (await do.get("police", "/api/handoffs"))["handoffs"] == []
    await do.post("police", f"/api/handoffs/{handoff['id']}/acknowledge", status=404)
    acknowledged = await do.post("damkar", f"/api/handoffs/{handoff['id']}/acknowledge")
    assert (acknowledged["state"], acknowledged["acknowledged_by"]) == ("acknowledged", "damkar")
    detail = await do.get("damkar", f"/api/incidents/{fire}")
    assert [e["kind"] for e in detail["timeline"]] == [
        "created",
        "verification",
        "handoff_sent",
        "handoff_acknowledged",
    ]


async def test_unacknowledged_handoffs_escalate_over_time(do: Calls, api: Api) -> None:
    """accident -> dinkes; after 3 min the supervisor, after 2 more the police see it too."""
    accident = await do.verified_incident("c2", "accident")
    handoff = await do.post("ct", f"/api/incidents/{accident}/handoffs", status=201)
    assert (handoff["agency"], handoff["second_agency"]) == ("dinkes", "police")
    service = api.parts.dispatch
    api.clock.advance(minutes=2, seconds=59)
    assert await service.escalate_due() == 0
    api.clock.advance(seconds=1)
    assert await service.escalate_due() == 1
    state = (await do.get("sv", "/api/handoffs"))["handoffs"][0]["state"]
    assert state == "escalated_to_supervisor"
    await do.get("police", f"/api/incidents/{accident}", status=404)
    api.clock.advance(minutes=2)
    assert await service.escalate_due() == 1
    assert await service.escalate_due() == 0  # escalation ends at the second agency
    seen = await do.get("police", f"/api/incidents/{accident}")
    assert seen["handoffs"][0]["state"] == "escalated_to_second_agency"
    acknowledged = await do.post("police", f"/api/handoffs/{handoff['id']}/acknowledge")
    assert acknowledged["state"] == "acknowledged"
    kinds = [e["kind"] for e in (await do.get("sv", f"/api/incidents/{accident}"))["timeline"]]
    assert kinds[-3:] == [
        "handoff_escalated_to_supervisor",
        "handoff_escalated_to_second_agency",
        "handoff_acknowledged",
    ]


async def test_redundant_calls_attach_and_other_calls_close_with_a_disposition(do: Calls) -> None:
    fire = await do.verified_incident("c1", "fire")
    attached = await do.post("ct", "/api/calls/c2/incident", {"incident_id": fire})
    assert attached["call_ids"] == ["c1", "c2"]
    assert (await do.get("ct", "/api/calls/c2"))["incident_id"] == fire
    await do.post("ct", "/api/calls/c2/closure", {"disposition": "misdial"}, status=409)
    closed = await do.post("ct", "/api/calls/c3/closure", {"disposition": "information_request"})
    assert closed == {"call_id": "c3", "disposition": "information_request"}
    assert (await do.get("ct", "/api/calls/c3"))["closure"] == "information_request"
    await do.post("ct", "/api/calls/c3/incident", {"category": "fire"}, status=409)
    await do.post("ct", "/api/calls/nope/incident", {"category": "fire"}, status=404)
    await do.post("ct", "/api/calls/c4/incident", {"incident_id": 999}, status=404)


async def test_closing_an_incident_closes_its_handoffs(do: Calls) -> None:
    fire = await do.verified_incident("c1", "fire")
    handoff = await do.post("ct", f"/api/incidents/{fire}/handoffs", status=201)
    closed = await do.post("sv", f"/api/incidents/{fire}/close", {"note": "fire out"})
    assert closed["status"] == "closed"
    detail = await do.get("sv", f"/api/incidents/{fire}")
    assert detail["handoffs"][0]["state"] == "closed"
    assert detail["timeline"][-1]["kind"] == "closed"
    await do.post("damkar", f"/api/handoffs/{handoff['id']}/acknowledge", status=409)
    await do.post("ct", f"/api/incidents/{fire}/close", status=409)
    await do.post("ct", f"/api/incidents/{fire}/handoffs", status=409)
    await do.post("ct", "/api/calls/c2/incident", {"incident_id": fire}, status=409)


async def test_agencies_lists_the_regency_routes(do: Calls) -> None:
    body = await do.get("damkar", "/api/agencies")
    routes = {r["category"]: (r["primary"], r["second"]) for r in body["routes"]}
    assert routes["accident"] == ("dinkes", "police")
    assert routes["fallen_tree"] == ("bpbd", "perkim")


async def test_errors_outside_the_handlers_are_json_too(do: Calls) -> None:
    """The router's 404 and 405 answer JSON, like everything else under /api."""
    missing = await do.get("ct", "/api/nothing-here", status=404)
    assert "error" in missing
    response = await do.client.delete("/api/incidents", headers=do.api.auth("ct"))
    assert response.status == 405
    assert "error" in await response.json()
    assert (await do.client.get("/openapi.json")).status == 200
