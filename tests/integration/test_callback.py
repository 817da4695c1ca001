"""A caller who gave up in the queue is called back: the call taker's phone rings, then the
caller's, they are bridged, and the attempt and its outcome are stored."""

from __future__ import annotations

import json
import subprocess
from urllib.parse import urlparse

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.sipp.runner import random_caller, run_scenario
from pbx_bridge.sipp.takers import TakerPhone
from tests.integration.conftest import PBX_BRIDGE, Controller

pytestmark = pytest.mark.integration


def test_an_abandoned_caller_is_called_back_and_the_outcome_stored(
    settings: Settings, controller: Controller
) -> None:
    caller = random_caller()
    assert run_scenario(settings, "talk", seconds=5, caller=caller).ok  # nobody answers
    items = json.loads(controller.cli("callbacks", "--json", "--show-numbers"))
    (item,) = [i for i in items if i["caller_number"] == caller]

    controller.cli("takers", "login", "ct-02")  # paused: a callback is not a queue call
    carrier_port = urlparse(settings.trunk_contact.replace("sip:", "sip://")).port
    taker = TakerPhone(settings, "ct-02", answer_after=0.5, talk_seconds=8, calls=1)
    callee = TakerPhone(
        settings, caller, answer_after=1.0, talk_seconds=3, calls=1,
        port=carrier_port, registers=False,
    )  # fmt: skip
    try:
        attempt = subprocess.run(
            [PBX_BRIDGE, "callbacks", "call", str(item["id"]), "--taker", "ct-02",
             "--timeout", "60"],
            env=controller.env, capture_output=True, text=True, timeout=90, check=False,
        )  # fmt: skip
    finally:
        taker_result = taker.stop(timeout=20)
        callee_result = callee.stop(timeout=20)
        controller.cli("takers", "logout", "ct-02")
    assert attempt.stdout.strip() == "answered", attempt.stderr
    assert attempt.returncode == 0
    # Both phones answered: the call taker first, then the caller through the trunk.
    (taker_leg,) = taker.answered()
    (caller_leg,) = callee.answered()
    assert taker_leg.answered is not None
    assert caller_leg.answered is not None
    assert taker_leg.answered < caller_leg.answered
    assert taker_result.returncode == 0, taker_result.errors
    assert callee_result.returncode == 0, callee_result.errors

    done = json.loads(controller.cli("callbacks", "--json", "--status", "done"))
    (stored,) = [i for i in done if i["id"] == item["id"]]
    (attempt_row,) = stored["attempts"]
    assert attempt_row["call_taker"] == "ct-02"
    assert attempt_row["outcome"] == "answered"
    assert attempt_row["ended_at"] is not None
