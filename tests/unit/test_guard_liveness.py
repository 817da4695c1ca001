"""The controller's liveness as the guard sees it: /health/live answers from the event loop
alone, and the guard's probe says no when nothing, or nothing in time, answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from pbx_bridge.config import Settings
from pbx_bridge.guard.liveness import LIVE_PATH, HttpProbe, live_url
from pbx_bridge.sipp.runner import free_port
from pbx_bridge.store.database import make_engine, migrate
from pbx_bridge.web.api import Health
from tests.support.api import build_api


async def test_live_answers_while_the_database_check_hangs(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'calls.db'}")
    await migrate(engine)
    hanging = asyncio.Event()

    async def database() -> bool:
        await hanging.wait()  # a database that never answers
        return True

    api = await build_api(
        engine, calls=0, users=False, health=Health(lambda: False, lambda: False, database)
    )
    try:
        async with TestClient(TestServer(api.app)) as client:
            response = await client.get(LIVE_PATH)
            assert response.status == 200
            assert await response.json() == {"status": "alive"}
    finally:
        await engine.dispose()


def test_the_probe_reaches_an_api_listening_everywhere_on_loopback() -> None:
    assert live_url(Settings(api_host="0.0.0.0", api_port=8080)) == (
        "http://127.0.0.1:8080/health/live"
    )
    assert live_url(Settings(api_host="::", api_port=8443, api_tls_cert=Path("c.pem"))) == (
        "https://[::1]:8443/health/live"
    )
    assert live_url(Settings(api_host="10.1.1.5")) == "http://10.1.1.5:8080/health/live"


async def serve(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get(LIVE_PATH, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port(kind=1)
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}{LIVE_PATH}"


async def test_the_probe_says_yes_only_to_a_timely_answer() -> None:
    frozen = asyncio.Event()

    async def alive(_request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def stuck(_request: web.Request) -> web.Response:
        await frozen.wait()  # a controller that no longer answers
        return web.json_response({})

    alive_runner, alive_url = await serve(alive)
    stuck_runner, stuck_url = await serve(stuck)
    try:
        async with aiohttp.ClientSession() as session:
            assert await HttpProbe(session, alive_url, timeout=1.0)() is True
            assert await HttpProbe(session, stuck_url, timeout=0.2)() is False
            nobody = f"http://127.0.0.1:{free_port(kind=1)}{LIVE_PATH}"
            assert await HttpProbe(session, nobody, timeout=1.0)() is False
    finally:
        frozen.set()
        await alive_runner.cleanup()
        await stuck_runner.cleanup()
