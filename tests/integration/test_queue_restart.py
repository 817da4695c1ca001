"""Call takers stay in the queue across an Asterisk restart: app_queue keeps them (astdb), and
if Asterisk comes back without them (astdb lost) the controller puts them back as they were."""

from __future__ import annotations

import re
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pbx_bridge import sandbox
from pbx_bridge.config import Settings
from pbx_bridge.queue.takers import MAIN_QUEUE
from tests.integration.conftest import (
    PBX_BRIDGE,
    Controller,
    controller_env,
    forget_astdb,
    start_controller,
    stop_controller,
)
from tests.support.waits import wait_until

pytestmark = pytest.mark.integration

TAKERS = ("ct-01", "ct-02")


def takers_cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([PBX_BRIDGE, "takers", *args], env=env, check=True, timeout=60)


def members(settings: Settings) -> dict[str, str]:
    """Each member of the 112 queue -> "ready" or "paused:<reason>", as app_queue shows them."""
    shown = sandbox.asterisk_cli(settings, f"queue show {MAIN_QUEUE}")
    found = {}
    for line in shown.splitlines():
        member = re.match(r"\s+(\S+) \(PJSIP/", line)
        if member is None:
            continue
        paused = re.search(r"\(paused:?([^)]*?)(?: was \d+ secs? ago)?\)", line)
        found[member.group(1)] = "ready" if paused is None else f"paused:{paused.group(1)}"
    return found


def restart_asterisk(settings: Settings, *, lose_astdb: bool = False) -> None:
    sandbox.down(settings)
    if lose_astdb:
        forget_astdb(settings)
    sandbox.up(settings)


@pytest.fixture
def env(settings: Settings, tmp_path: Path) -> Iterator[dict[str, str]]:
    environment = controller_env(tmp_path)
    yield environment
    for taker in TAKERS:
        takers_cli(environment, "logout", taker)


def test_logged_in_takers_are_members_again_after_asterisk_restarts(
    settings: Settings, env: dict[str, str]
) -> None:
    takers_cli(env, "login", "ct-01", "--ready")
    takers_cli(env, "login", "ct-02")
    takers_cli(env, "pause", "ct-02", "--reason", "istirahat")
    before = members(settings)
    assert before == {"ct-01": "ready", "ct-02": "paused:istirahat"}, before
    restart_asterisk(settings)
    assert members(settings) == before


def test_the_controller_puts_takers_back_when_asterisk_returns_without_them(
    settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    takers_cli(env, "login", "ct-01", "--ready")
    takers_cli(env, "login", "ct-02")
    takers_cli(env, "pause", "ct-02", "--reason", "istirahat")
    # Started after the changes: whatever its watch has seen is their final state.
    controller = start_controller(tmp_path, PBX_BRIDGE_QUEUE_WATCH_SECONDS="0.5")
    try:
        wait_until(
            # No softphone is registered: ct-01 is an unavailable member, not a ready one.
            lambda: metric(controller, "unavailable") == metric(controller, "paused") == 1.0,
            10,
            "the controller's watch saw the takers",
        )
        restart_asterisk(settings, lose_astdb=True)
        wait_until(
            lambda: members(settings) == {"ct-01": "ready", "ct-02": "paused:istirahat"},
            30,
            "the controller logged the takers back in as they were",
        )
        assert "queue.members_restored" in controller.log()
    finally:
        stop_controller(controller)


def metric(controller: Controller, state: str) -> float | None:
    """pbx_bridge_queue_takers{state=...} from the controller's /metrics."""
    sample = f'pbx_bridge_queue_takers{{state="{state}"}} '
    url = f"http://127.0.0.1:{controller.api_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(sample):
                return float(line.split()[-1])
    return None
