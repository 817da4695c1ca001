"""One 112 call end to end: SIPp on the trunk, the real Asterisk, the controller, the store."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest

from pbx_bridge.config import Settings
from tests.integration.conftest import Controller, assert_no_channel_left

pytestmark = pytest.mark.integration


def seconds_apart(a: str | None, b: str | None) -> float:
    assert a is not None
    assert b is not None
    return abs((datetime.fromisoformat(a) - datetime.fromisoformat(b)).total_seconds())


def place(controller: Controller, scenario: str, seconds: float) -> dict[str, Any]:
    output = controller.cli("call", "--scenario", scenario, "--seconds", str(seconds), "--json")
    result = json.loads(output)
    assert result["ok"], output
    (timing,) = result["calls"]
    return dict(timing)


def test_a_talking_caller_is_valid_and_an_immediate_hangup_invalid_with_sipps_times(
    settings: Settings, controller: Controller
) -> None:
    """Two calls as SIPp places them: both recorded, tagged, and timed within 1 s of SIPp."""
    with ThreadPoolExecutor(2) as pool:
        talk = pool.submit(place, controller, "talk", 15)
        hangup = pool.submit(place, controller, "hangup", 0)
        timings = {"talk": talk.result(), "hangup": hangup.result()}

    records = {r["sip_call_id"]: r for r in json.loads(controller.cli("calls", "--json"))}
    for scenario, expected in (("talk", "valid"), ("hangup", "invalid")):
        sipp = timings[scenario]
        record = records.get(sipp["call_id"])
        assert record is not None, f"no record for the {scenario} call {sipp['call_id']}"
        assert record["validity"] == expected
        assert seconds_apart(record["arrived_at"], sipp["invite_sent"]) < 1.0
        assert seconds_apart(record["answered_at"], sipp["answered"]) < 1.0
        assert seconds_apart(record["ended_at"], sipp["bye_sent"]) < 1.0
        on_line = seconds_apart(sipp["answered"], sipp["bye_sent"])
        assert abs(record["connected_seconds"] - on_line) < 1.0
        assert record["caller_number"].startswith("*")  # masked unless asked for
        assert record["hangup_cause"] == 16
    assert records[timings["talk"]["call_id"]]["connected_seconds"] > 14.5
    assert_no_channel_left(settings)
