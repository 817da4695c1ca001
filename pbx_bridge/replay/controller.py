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


async def connected(settings: Settings) -> bool:
    """True when a controller has the Stasis app registered (its websocket is up)."""
    password = settings.ari_password.get_secret_value() if settings.ari_password else ""
    url = f"{settings.ari_url.rstrip('/')}/ari/applications/{settings.ari_app}"
    headers = {"Authorization": aiohttp.encode_basic_auth(settings.ari_username, password)}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session,
            session.get(url, headers=headers) as response,
        ):
            return response.status == 200
    except aiohttp.ClientError:
        return False


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
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
