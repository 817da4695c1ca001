"""SIGKILL the controller while calls are in screening: none is dropped, and after the restart
the records are complete (live events for the adopted calls, Asterisk's CDR for the rest)."""

from __future__ import annotations

import contextlib
import signal
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.sipp.runner import SippResult, random_caller, run_scenario
from pbx_bridge.wiring import cdr_file
from tests.integration.conftest import (
    ari_get,
    assert_no_channel_left,
    start_controller,
    stop_controller,
)
from tests.support.waits import wait_until

pytestmark = pytest.mark.integration


def channels_by_app(settings: Settings) -> dict[str, str]:
    """Caller number -> the dialplan application its channel is in now."""
    return {
        c["caller"]["number"]: c["dialplan"]["app_name"] for c in ari_get(settings, "/channels")
    }


def test_killed_controller_loses_no_call_and_the_records_are_complete(
    settings: Settings, tmp_path: Path
) -> None:
    env = {
        "PBX_BRIDGE_CDR_FILE": str(cdr_file(settings)),
        "PBX_BRIDGE_RECONCILE_INTERVAL_SECONDS": "1",
        # Adoption on restart on its own: a guard would move the calls before the restart
        # (test_guard_frozen_controller.py covers the guard).
        "PBX_BRIDGE_GUARD_WITH_SERVE": "false",
    }
    first = start_controller(tmp_path, **env)
    pool = ThreadPoolExecutor(8)
    calls: dict[str, Future[SippResult]] = {}

    def call(seconds: float) -> str:
        number = random_caller()
        calls[number] = pool.submit(
            run_scenario, settings, "silent", seconds=seconds, caller=number
        )
        return number

    try:
        in_screening = [call(25) for _ in range(3)]
        gone_while_down = call(6)  # hangs up while the controller is dead
        wait_until(
            lambda: all(channels_by_app(settings).get(n) == "Stasis" for n in in_screening),
            10,
            "the calls are in screening (Stasis)",
        )
        time.sleep(1)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(5)

        # While the controller is dead: new calls fall back to the queue on their own.
        during_outage = [call(12) for _ in range(2)]
        wait_until(
            lambda: all(channels_by_app(settings).get(n) == "Queue" for n in during_outage),
            10,
            "calls placed during the outage reach Queue()",
        )
        wait_until(calls[gone_while_down].done, 15, "the short call ended")
        assert all(channels_by_app(settings).get(n) == "Stasis" for n in in_screening)

        second = start_controller(tmp_path, **env)
        try:
            # The calls left in screening are adopted and sent on to the queue.
            wait_until(
                lambda: all(channels_by_app(settings).get(n) == "Queue" for n in in_screening),
                10,
                "adopted calls reach Queue()",
            )
            results = {number: future.result(timeout=60) for number, future in calls.items()}
            assert all(result.ok for result in results.values()), [
                r.errors[-300:] for r in results.values() if not r.ok
            ]
            with contextlib.suppress(pytest.fail.Exception):
                wait_until(lambda: set(calls) <= set(second.records()), 20, "every record")
            stored = second.records()
            assert set(calls) <= set(stored), {  # which calls, and what became of them
                "missing": sorted(set(calls) - set(stored)),
                "in_screening": in_screening,
                "during_outage": during_outage,
                "gone_while_down": gone_while_down,
                "log": second.log()[-3000:],
            }
        finally:
            stop_controller(second)
    finally:
        if first.process.poll() is None:
            stop_controller(first)
        pool.shutdown(wait=True)

    for number in in_screening:
        assert stored[number]["adopted"] is True
        assert stored[number]["disposition"] == "abandoned_in_queue"
    for number in during_outage:
        assert stored[number]["disposition"] == "abandoned_in_queue"
        assert stored[number]["timeline"][-1]["kind"] == "reconciled"
    assert stored[gone_while_down]["timeline"][-1]["kind"] == "reconciled"
    assert stored[gone_while_down]["disposition"] == "hung_up_in_screening"
    assert_no_channel_left(settings)
