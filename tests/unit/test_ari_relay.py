"""The fault suite's ARI relay passes REST and events through unchanged, and slips its own
frames into the events websocket as if Asterisk had sent them."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from pbx_bridge.faults.ari_relay import AriRelay
from pbx_bridge.sipp.runner import free_port


@pytest.fixture
async def fake_asterisk() -> AsyncIterator[str]:
    """An upstream that answers one REST path and sends one event on its websocket."""

    async def info(request: web.Request) -> web.Response:
        return web.json_response(
            {"auth": request.headers.get("Authorization"), "q": request.query.get("q")},
            status=201,
        )

    async def events(request: web.Request) -> web.WebSocketResponse:
        socket_ = web.WebSocketResponse()
        await socket_.prepare(request)
        await socket_.send_str(json.dumps({"type": "StasisStart", "app": request.query["app"]}))
        async for _message in socket_:
            pass
        return socket_

    app = web.Application()
    app.router.add_get("/ari/asterisk/info", info)
    app.router.add_get("/ari/events", events)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port(socket.SOCK_STREAM)
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_rest_and_events_pass_through_and_injected_frames_arrive(
    fake_asterisk: str,
) -> None:
    auth = aiohttp.encode_basic_auth("pbx", "secret")
    relay = AriRelay(fake_asterisk)
    # Started and stopped off this loop: the fake Asterisk runs on it and must keep answering.
    await asyncio.to_thread(relay.__enter__)
    try:
        async with aiohttp.ClientSession(headers={"Authorization": auth}) as client:
            async with client.get(relay.url + "/ari/asterisk/info?q=1") as response:
                assert response.status == 201
                assert await response.json() == {"auth": auth, "q": "1"}
            async with client.ws_connect(relay.url + "/ari/events?app=pbx-bridge") as events:
                first = await events.receive_str(timeout=5)
                assert json.loads(first) == {"type": "StasisStart", "app": "pbx-bridge"}
                reached = await asyncio.to_thread(relay.inject, ["{not json", "[1]"])
                assert reached == 1
                assert await events.receive_str(timeout=5) == "{not json"
                assert await events.receive_str(timeout=5) == "[1]"
    finally:
        await asyncio.to_thread(relay.__exit__, None, None, None)
