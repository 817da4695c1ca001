"""PostgreSQL stops while 112 calls arrive: every record is written once it returns."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.sipp.runner import random_caller, run_scenario
from tests.integration.conftest import assert_no_channel_left, start_controller, stop_controller
from tests.support.ci import missing
from tests.support.postgres import PostgresCluster, PostgresUnavailable

pytestmark = pytest.mark.integration


def stored_numbers(calls_json: str) -> set[str]:
    return {str(row["caller_number"]) for row in json.loads(calls_json)}


def health(port: int) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_calls_arriving_while_the_database_is_down_are_all_recorded_after_it_returns(
    settings: Settings, tmp_path: Path
) -> None:
    try:
        cluster = PostgresCluster.create()
    except PostgresUnavailable as error:
        missing(str(error), tests="PostgreSQL outage")
    cluster.start()
    try:
        url = cluster.create_database("outage")
        controller = start_controller(
            tmp_path, PBX_BRIDGE_DATABASE_URL=url, PBX_BRIDGE_SPOOL_RETRY_SECONDS="1"
        )
        try:
            callers = [random_caller() for _ in range(6)]
            with ThreadPoolExecutor(6) as pool:
                before = [pool.submit(run_scenario, settings, "talk", seconds=3, caller=n)
                          for n in callers[:2]]  # fmt: skip
                assert all(f.result(timeout=60).ok for f in before)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not set(callers[:2]) <= stored_numbers(
                    controller.cli("calls", "--json", "--show-numbers")
                ):
                    time.sleep(0.2)
                cluster.stop()  # the database goes away; calls keep coming
                during = [pool.submit(run_scenario, settings, "talk", seconds=3, caller=n)
                          for n in callers[2:]]  # fmt: skip
                assert all(f.result(timeout=60).ok for f in during)
            # Records are written just after each call ends: wait for the four to be spooled.
            deadline = time.monotonic() + 20
            status, body = health(controller.api_port)
            while body["spooled"] < len(callers) - 2 and time.monotonic() < deadline:
                time.sleep(0.2)
                status, body = health(controller.api_port)
            assert status == 503
            assert body["database"] is False
            assert body["spooled"] == len(callers) - 2  # waiting, not lost
            cluster.start()
            deadline = time.monotonic() + 30
            stored: dict[str, dict[str, object]] = {}
            while time.monotonic() < deadline:
                rows = json.loads(controller.cli("calls", "--json", "--show-numbers"))
                stored = {str(r["caller_number"]): r for r in rows}
                if set(callers) <= set(stored):
                    break
                time.sleep(0.5)
            assert set(callers) <= set(stored), f"missing: {set(callers) - set(stored)}"
            assert len(rows) == len({r["id"] for r in rows})  # each call once
        finally:
            stop_controller(controller)
    finally:
        cluster.remove()
    assert_no_channel_left(settings)
