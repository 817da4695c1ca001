"""The controller a replay needs: the one already connected to ARI, or one it starts itself."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp

from pbx_bridge.config import Settings
from pbx_bridge.replay.load import stop


async def connected(settings: Settings) -> bool:
    """True when a controller serves this configuration and its ARI websocket is up, by its
    /health. (ARI's own application list cannot tell: Asterisk keeps an application registered
    after its websocket has closed.)"""
    url = f"http://{settings.api_host}:{settings.api_port}/health"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session,
            session.get(url) as response,
        ):
            health = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False
    return isinstance(health, dict) and health.get("ari") is True


class ControllerError(RuntimeError):
    pass


@contextmanager
def started_controller(log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`pbx-bridge serve` as a child process, with the same settings, stopped at the end."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "pbx_bridge", "serve"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
    try:
        yield process
    finally:
        stop(process, within=15)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-1500:]


async def wait_connected(
    settings: Settings, process: subprocess.Popen[bytes], log: Path, within: float = 30.0
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await connected(settings):
            return
        if process.poll() is not None:
            raise ControllerError(f"the controller stopped at start:\n{_tail(log)}")
        await asyncio.sleep(0.2)
    raise ControllerError(f"the controller did not connect to ARI within {within:.0f} s: see {log}")
