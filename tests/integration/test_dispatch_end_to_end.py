"""The whole path: a SIPp caller, a SIPp call taker, the call taker verifies the call as a fire
through the API, the incident goes to Damkar, Damkar acknowledges, the incident closes, and the
centre's report counts it."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.sipp.runner import random_caller, run_scenario
from pbx_bridge.sipp.takers import TakerPhone
from tests.integration.conftest import Controller

pytestmark = pytest.mark.integration


def api(controller: Controller, token: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{controller.api_port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def test_a_call_becomes_a_verified_fire_handed_to_damkar_acknowledged_closed_and_counted(
    settings: Settings, controller: Controller
) -> None:
    taker_token = controller.cli("users", "add", "ct-01", "--role", "call_taker").strip()
    damkar_token = controller.cli(
        "users", "add", "damkar-1", "--role", "agency", "--agency", "damkar"
    ).strip()
    controller.cli("takers", "login", "ct-01", "--ready")
    caller = random_caller()
    try:
        phone = TakerPhone(settings, "ct-01", answer_after=0.5, talk_seconds=4, calls=1)
        with ThreadPoolExecutor(1) as pool:
            result = pool.submit(run_scenario, settings, "talk", seconds=20, caller=caller)
            assert result.result(timeout=60).ok
        phone.stop(timeout=20)
    finally:
        controller.cli("takers", "logout", "ct-01")

    rows = json.loads(controller.cli("calls", "--json", "--show-numbers"))
    call = next(row for row in rows if row["caller_number"] == caller)
    assert call["agent"] == "ct-01"
    assert call["disposition"] == "answered"

    incident = api(controller, taker_token, "POST", f"/api/calls/{call['id']}/incident", {
        "category": "fire",
        "description": "Rumah terbakar di Jl. Merdeka",
        "location": {"text": "Jl. Merdeka 10", "latitude": -3.99, "longitude": 122.51,
                     "source": "caller"},
        "priority": 1,
    })  # fmt: skip
    incident_id = incident["id"]
    verified = api(
        controller, taker_token, "POST", f"/api/incidents/{incident_id}/verification",
        {"state": "verified"},
    )  # fmt: skip
    assert verified["verification"] == "verified"
    handoff = api(controller, taker_token, "POST", f"/api/incidents/{incident_id}/handoffs", {})
    assert handoff["agency"] == "damkar"
    acknowledged = api(
        controller, damkar_token, "POST", f"/api/handoffs/{handoff['id']}/acknowledge"
    )
    assert acknowledged["state"] == "acknowledged"
    closed = api(controller, taker_token, "POST", f"/api/incidents/{incident_id}/close", {})
    assert closed["status"] == "closed"

    detail = api(controller, taker_token, "GET", f"/api/incidents/{incident_id}")
    assert call["id"] in detail["call_ids"]
    kinds = [event["kind"] for event in detail["timeline"]]
    assert kinds[0] == "created"
    assert kinds[-1] == "closed"
    assert [h["state"] for h in detail["handoffs"]] == ["closed"]

    today = datetime.now(ZoneInfo(settings.report_timezone)).date().isoformat()
    report = api(controller, taker_token, "GET", f"/api/report?from={today}&to={today}")
    assert report["total_calls"] >= 1
    assert report_counts(report, "fire", "damkar") == (1, 1)


def report_counts(report: dict[str, Any], category: str, agency: str) -> tuple[int, int]:
    dispatch = report["dispatch"]
    return (
        dispatch["emergencies_by_category"].get(category, 0),
        dispatch["emergencies_by_agency"].get(agency, 0),
    )
