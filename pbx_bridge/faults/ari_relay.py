"""A relay between the controller and Asterisk's ARI that can slip events of its own into the
controller's event stream: how a malformed ARI event is made to reach a real controller from
outside its process.

Every REST request and the events websocket go through unchanged; `inject` sends a text frame
to every controller connected to the events websocket, as if Asterisk had sent it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable
from typing import Self

import aiohttp
from aiohttp import web

from pbx_bridge.sipp.runner import free_port

# Hop-by-hop headers and those aiohttp sets itself: never copied across the relay.
_NOT_RELAYED = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "upgrade", "keep-alive"}
)


def _relayed(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name: value for name, value in headers if name.lower() not in _NOT_RELAYED}


class AriRelay:
    """Listens on a free loopback port (`url`) and forwards everything to `upstream`."""

    def __init__(self, upstream: str) -> None:
        self._upstream = upstream.rstrip("/")
        self.port = free_port(kind=1)
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._sockets: set[web.WebSocketResponse] = set()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="ari-relay", daemon=True)
        self._stopping: asyncio.Event | None = None
        self._client: aiohttp.ClientSession
        self.injected = 0

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the ARI relay did not start")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)

    def inject(self, frames: list[str]) -> int:
        """Send these text frames to every connected controller; returns how many got them."""
        future = asyncio.run_coroutine_threadsafe(self._inject(frames), self._loop)
        return future.result(10)

    async def _inject(self, frames: list[str]) -> int:
        reached = 0
        for socket in list(self._sockets):
            with contextlib.suppress(ConnectionError, RuntimeError):
                for frame in frames:
                    await socket.send_str(frame)
                    self.injected += 1
                reached += 1
        return reached

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        async with aiohttp.ClientSession() as client:
            self._client = client
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._relay)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._started.set()
            await self._stopping.wait()
            for socket in list(self._sockets):
                await socket.close()
            await runner.cleanup()

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        client = self._client
        target = self._upstream + request.rel_url.path_qs
        headers = _relayed(request.headers.items())
        if request.headers.get("Upgrade", "").lower() == "websocket":
            # Only the credentials: aiohttp makes the upstream handshake's own headers.
            auth = {k: v for k, v in headers.items() if k.lower() == "authorization"}
            return await self._relay_events(request, client, target, auth)
        async with client.request(
            request.method, target, headers=headers, data=await request.read()
        ) as upstream:
            return web.Response(
                status=upstream.status,
                body=await upstream.read(),
                headers=_relayed(upstream.headers.items()),
            )

    async def _relay_events(
        self,
        request: web.Request,
        client: aiohttp.ClientSession,
        target: str,
        headers: dict[str, str],
    ) -> web.WebSocketResponse:
        downstream = web.WebSocketResponse()
        await downstream.prepare(request)
        async with client.ws_connect(target.replace("http", "ws", 1), headers=headers) as upstream:
            self._sockets.add(downstream)
            try:
                await asyncio.gather(
                    _pipe(upstream, downstream), _pipe(downstream, upstream), return_exceptions=True
                )
            finally:
                self._sockets.discard(downstream)
                await downstream.close()
        return downstream


async def _pipe(
    source: aiohttp.ClientWebSocketResponse | web.WebSocketResponse,
    sink: aiohttp.ClientWebSocketResponse | web.WebSocketResponse,
) -> None:
    async for message in source:
        if message.type == aiohttp.WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif message.type == aiohttp.WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        else:
            break
    await sink.close()
