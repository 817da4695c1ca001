"""The operations the console needs: the live queue and call-taker state over AMI, the callback
worklist, the wallboard (the centre report's own figures), an agency closing its handoff, the
`?token=` of /api/events, and the console's page itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.queue.takers import MAIN_QUEUE
from pbx_bridge.screening.model import Call, Phase, TimelineEntry
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.callbacks import CallbackRepository
from pbx_bridge.store.repository import CallRepository
from tests.support.api import Api, api_client, build_api, sqlite_engine  # noqa: F401 - fixtures
from tests.support.calls import T0, ended_call


@pytest.fixture
async def api(engine: AsyncEngine) -> Api:
    return await build_api(engine, calls=2)


async def _json(response: Any, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


async def test_a_call_taker_changes_their_own_state_in_app_queue_and_no_one_elses(
    api: Api, client: TestClient[Any, Any]
) -> None:
    """ct-01 logs in, goes ready, pauses with a reason; ct may not touch ct-01; sv may."""
    path = "/api/takers/ct-01/state"
    me = api.auth("ct-01")
    queue = await _json(await client.post(path, json={"state": "ready"}, headers=me))
    states = {t["id"]: (t["state"], t["reason"]) for t in queue["takers"]}
    assert states["ct-01"] == ("ready", "")
    assert states["ct-02"] == ("logged_out", "")
    assert set(api.ami.members) == {(MAIN_QUEUE, "PJSIP/ct-01")}
    refused = await _json(await client.post(path, json={"state": "paused"}, headers=me), 422)
    assert refused["field"] == "reason"
    body = {"state": "paused", "reason": "istirahat"}
    queue = await _json(await client.post(path, json=body, headers=me))
    assert {t["id"]: t["reason"] for t in queue["takers"]}["ct-01"] == "istirahat"
    other = await client.post(path, json={"state": "logged_out"}, headers=api.auth("ct"))
    assert "own" in (await _json(other, 403))["error"]
    sv = api.auth("sv")
    await _json(await client.post(path, json={"state": "logged_out"}, headers=sv))
    assert api.ami.members == {}
    unknown = await client.post("/api/takers/ct-99/state", json={"state": "ready"}, headers=sv)
    assert (await _json(unknown, 404))["field"] == "taker_id"


async def test_the_queue_shows_callers_waiting_and_the_longest_wait(
    api: Api, client: TestClient[Any, Any]
) -> None:
    api.ami.wait(MAIN_QUEUE, "ch-1", 42, priority=10)
    api.ami.wait(MAIN_QUEUE, "ch-2", 7)
    queue = await _json(await client.get("/api/queue", headers=api.auth("ct")))
    assert queue["calls_waiting"] == 2
    assert queue["longest_wait_seconds"] == 42
    assert [(c["call_id"], c["priority"]) for c in queue["callers"]] == [("ch-1", 10), ("ch-2", 5)]
    assert "081234567890" not in str(queue)  # no caller's number on the wallboard
    assert api.ami.actions[-1] == {"Action": "QueueStatus"}


async def test_without_ami_the_queue_answers_503_and_says_so(
    api: Api, client: TestClient[Any, Any]
) -> None:
    api.ami.connected = False
    error = await _json(await client.get("/api/queue", headers=api.auth("sv")), 503)
    assert "AMI" in error["error"]
    assert "retry" in error["error"]  # what to do, not only what failed


async def test_the_callback_worklist_shows_numbers_to_supervisors_and_the_taker_and_audits_it(
    api: Api, client: TestClient[Any, Any], engine: AsyncEngine
) -> None:
    """Admins and other call takers see masked numbers; a supervisor sees every open one, a
    call taker the one they took; each clear view is audited."""
    calls = CallRepository(engine, judge_by(Thresholds()))
    await calls.save(
        Call(
            channel_id="gone",
            caller_number="081299990000",
            caller_name="",
            arrived_at=T0,
            phase=Phase.ENDED,
            ended_at=T0 + timedelta(seconds=2),
            timeline=(TimelineEntry(T0, "arrived"), TimelineEntry(T0, "hung_up", "16")),
        )
    )
    admin = await _json(await client.get("/api/callbacks", headers=api.auth("admin")))
    # c1 and c2 gave up in the queue too (api_support's calls): three on the worklist.
    assert {c["call_id"]: c["caller_number"] for c in admin["callbacks"]}["gone"] == "**********00"
    ct = await _json(await client.get("/api/callbacks", headers=api.auth("ct")))
    assert {c["caller_number"] for c in ct["callbacks"]} == {"**********90", "**********00"}
    sv = await _json(await client.get("/api/callbacks", headers=api.auth("sv")))
    assert {c["call_id"]: c["caller_number"] for c in sv["callbacks"]}["gone"] == "081299990000"
    gone = next(c["id"] for c in sv["callbacks"] if c["call_id"] == "gone")
    await CallbackRepository(engine).take(gone, "ct")
    taken = "/api/callbacks?status=taken"
    mine = await _json(await client.get(taken, headers=api.auth("ct")))
    assert [c["caller_number"] for c in mine["callbacks"]] == ["081299990000"]
    other = await _json(await client.get(taken, headers=api.auth("ct-01")))
    assert [c["caller_number"] for c in other["callbacks"]] == ["**********00"]
    views = await _json(await client.get("/api/audit/number-views", headers=api.auth("sv")))
    assert sorted((v["who"], v["call_id"], v["why"]) for v in views["views"]) == [
        ("ct", "gone", "callback worklist"),
        *[("sv", call, "callback worklist") for call in ("c1", "c2", "gone")],
    ]


async def test_the_wallboard_gives_the_centre_reports_figures_for_today(
    api: Api, client: TestClient[Any, Any]
) -> None:
    """Whatever day it is, the wallboard's counts are the report's for that local day."""
    reports = api.parts.reports
    wall = await _json(await client.get("/api/wallboard", headers=api.auth("sv")))
    day = wall["day"]
    from datetime import date  # noqa: PLC0415

    period = reports.period(date.fromisoformat(day), date.fromisoformat(day))
    report = (await reports.centre(period)).as_json()
    for key in ("total_calls", "unanswered_in_queue", "answered_valid", "answered_invalid"):
        assert wall["today"][key] == report[key]
    assert len(wall["hours"]) == 24
    assert wall["unacknowledged"] == []
    await _json(await client.get("/api/wallboard", headers=api.auth("ct")), 403)


async def test_an_agency_closes_its_handoff_once_acknowledged(
    api: Api, client: TestClient[Any, Any]
) -> None:
    ct, damkar = api.auth("ct"), api.auth("damkar")
    await client.post("/api/calls/c1/incident", json={"category": "fire"}, headers=ct)
    await client.post("/api/incidents/1/verification", json={"state": "verified"}, headers=ct)
    handoff = await _json(await client.post("/api/incidents/1/handoffs", json={}, headers=ct), 201)
    wall = await _json(await client.get("/api/wallboard", headers=api.auth("sv")))
    assert [h["id"] for h in wall["unacknowledged"]] == [handoff["id"]]
    close = f"/api/handoffs/{handoff['id']}/close"
    await _json(await client.post(close, headers=damkar), 409)
    await _json(await client.post(f"/api/handoffs/{handoff['id']}/acknowledge", headers=damkar))
    await _json(await client.post(close, headers=api.auth("police")), 404)
    closed = await _json(await client.post(close, headers=damkar))
    assert closed["state"] == "closed"
    detail = await _json(await client.get("/api/incidents/1", headers=damkar))
    assert [t["kind"] for t in detail["timeline"]][-1] == "handoff_closed"


async def test_the_token_query_parameter_opens_the_event_stream_and_nothing_else(
    api: Api, client: TestClient[Any, Any]
) -> None:
    token = api.tokens["sv"]
    stream = await client.get(f"/api/events?token={token}")
    assert stream.status == 200
    assert stream.headers["Content-Type"] == "text/event-stream"
    stream.close()
    assert (await client.get("/api/events?token=wrong")).status == 401
    assert (await client.get(f"/api/calls?token={token}")).status == 401
    assert (await client.get(f"/api/me?token={token}")).status == 401


async def test_a_call_shows_who_answered_its_repeat_link_and_the_numbers_earlier_calls(
    api: Api, client: TestClient[Any, Any], engine: AsyncEngine
) -> None:
    calls = CallRepository(engine, judge_by(Thresholds()))
    await calls.save(ended_call("later", arrived=T0 + timedelta(hours=1)))
    detail = await _json(await client.get("/api/calls/later", headers=api.auth("ct")))
    assert detail["repeat_of"] in {"c1", "c2"}
    assert {c["id"] for c in detail["earlier_calls"]} == {"c1", "c2"}
    listed = await _json(await client.get("/api/calls", headers=api.auth("ct")))
    assert {"agent", "connected_at", "repeat_of"} <= set(listed["calls"][0])


async def test_the_console_page_needs_no_token_and_forbids_third_party_content(
    client: TestClient[Any, Any],
) -> None:
    page = await client.get("/console/")
    assert page.status == 200
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    html = await page.text()
    assert "app.js" in html
    assert "http://" not in html
    assert "https://" not in html
    script = await client.get("/console/app.js")
    assert script.status == 200
    redirect = await client.get("/console", allow_redirects=False)
    assert redirect.headers["Location"] == "/console/"


@pytest.mark.parametrize(
    "reason",
    [
        "istirahat\r\n\r\nAction: Setvar\r\nVariable: X\r\nValue: yes",
        "istirahat\nAction: Originate",
        "istirahat\tlagi",
        "istirahat\x7f",
        "istirahat\x00",
    ],
)
async def test_a_pause_reason_with_a_control_character_is_a_400_and_never_reaches_ami(
    api: Api, client: TestClient[Any, Any], reason: str
) -> None:
    """CR/LF would end the AMI header and inject an action: refused before AMI, naming the field."""
    body = {"state": "paused", "reason": reason}
    refused = await _json(
        await client.post("/api/takers/ct-01/state", json=body, headers=api.auth("ct-01")), 400
    )
    assert refused["field"] == "reason"
    assert "control characters" in refused["error"]
    assert api.ami.actions == []
