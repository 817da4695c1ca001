"""With the controller stopped, a 112 call still reaches the queue: nothing is dropped."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.sipp.runner import run_scenario
from tests.integration.conftest import ari_get, assert_no_channel_left

pytestmark = pytest.mark.integration


def wait_for_queued_channel(settings: Settings, within: float = 8.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for channel in ari_get(settings, "/channels"):
            if channel["dialplan"]["app_name"] == "Queue":
                return dict(channel)
        time.sleep(0.1)
    pytest.fail("no channel reached Queue() within 8 s")


def test_with_no_controller_the_call_falls_back_to_the_queue(settings: Settings) -> None:
    """Stasis() finds no app (STASISSTATUS=FAILED): the dialplan queues the caller itself."""
    with ThreadPoolExecutor(1) as pool:
        call = pool.submit(run_scenario, settings, "talk", seconds=4)
        channel = wait_for_queued_channel(settings)
        assert channel["dialplan"]["context"] == "queue-112"
        assert channel["dialplan"]["app_data"].startswith("emergency-112")
        fallback = ari_get(
            settings, f"/channels/{channel['id']}/variable?variable=PBX_BRIDGE_FALLBACK"
        )
        assert fallback["value"] == "yes"
        result = call.result()
    assert result.ok, result.errors
    assert_no_channel_left(settings)
