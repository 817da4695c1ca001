"""A thin asyncio ARI client: REST calls and one events websocket that reconnects with backoff.

ari-py is Python 2 only; the maintained alternatives failed under
load (see README). This client is the few dozen lines the controller needs, on aiohttp alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import aiohttp
import structlog

log = structlog.get_logger(__name__)

# A synthetic event the stream yields after every (re)connect, so the controller can adopt
# the channels that stayed in its Stasis app while it was away.
CONNECTED = "PbxBridgeConnected"


class AriError(Exception):
    """ARI answered with an error status."""

    def __init__(self, status: int, method: str, path: str, reason: str) -> None:
        self.status = status
        super().__init__(f"ARI {method} {path} -> {status}: {reason}")


class AriUnavailable(Exception):
    """Nothing answers at the ARI URL."""


def _decode(text: str) -> dict[str, Any] | None:
    """One websocket message -> an event, or None (logged) when it is not a JSON object."""
    try:
        event = json.loads(text)
    except ValueError:
        log.warning("ari.event_unreadable", size=len(text))
        return None
    if not isinstance(event, dict):
        log.warning("ari.event_unreadable", size=len(text))
        return None
    return event


class AriClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        username: str,
        password: str,
        app: str,
        request_timeout: float = 5.0,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/") + "/ari"
        self._headers = {"Authorization": aiohttp.encode_basic_auth(username, password)}
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self.app = app
        self.connected = False

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> Any:
        url = self._base + path
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                json=body,
                headers=self._headers,
                timeout=self._timeout,
            ) as response:
                text = await response.text()
                if response.status >= 400:
                    reason = text
                    with contextlib.suppress(ValueError, AttributeError):
                        reason = json.loads(text).get("message", text)
                    raise AriError(response.status, method, path, reason)
                return json.loads(text) if text else None
        except (aiohttp.ClientConnectionError, TimeoutError) as error:
            raise AriUnavailable(f"ARI at {self._base} does not answer: {error}") from error

    # --- the calls the controller uses -----------------------------------------------------

    async def info(self) -> Any:
        return await self.request("GET", "/asterisk/info")

    async def channels(self) -> list[dict[str, Any]]:
        result = await self.request("GET", "/channels")
        return list(result or [])

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/answer")

    async def play(self, channel_id: str, media: str, playback_id: str) -> None:
        await self.request(
            "POST", f"/channels/{channel_id}/play/{playback_id}", params={"media": media}
        )

    async def stop_playback(self, playback_id: str) -> None:
        await self.request("DELETE", f"/playbacks/{playback_id}")

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        await self.request(
            "POST", f"/channels/{channel_id}/variable", params={"variable": name, "value": value}
        )

    async def get_variable(self, channel_id: str, name: str) -> str:
        """A channel variable's value; AriError 404 when it is not set (or the channel gone)."""
        result = await self.request(
            "GET", f"/channels/{channel_id}/variable", params={"variable": name}
        )
        return str((result or {}).get("value", ""))

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str = "s", priority: int = 1
    ) -> None:
        await self.request(
            "POST",
            f"/channels/{channel_id}/continue",
            params={"context": context, "extension": extension, "priority": priority},
        )

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self.request("DELETE", f"/channels/{channel_id}", params={"reason": reason})

    async def allow_only(self, event_types: Iterable[str]) -> None:
        """Have Asterisk send this app only these event types. A channel followed after it
        leaves Stasis otherwise brings every dialplan step and variable: ~27 events a call
        that Asterisk would encode and we would parse for nothing (measured by `make bench`)."""
        allowed = [{"type": event_type} for event_type in sorted(event_types)]
        await self.request(
            "PUT", f"/applications/{self.app}/eventFilter", body={"allowed": allowed}
        )

    async def subscribe(self, event_source: str) -> None:
        """Keep receiving a channel's events after it leaves Stasis (to see its hang-up)."""
        await self.request(
            "POST", f"/applications/{self.app}/subscription", params={"eventSource": event_source}
        )

    # --- the events websocket --------------------------------------------------------------

    def _events_url(self) -> str:
        ws_base = self._base.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        return f"{ws_base}/events"

    async def events(
        self, *, min_backoff: float = 0.1, max_backoff: float = 5.0
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield ARI events forever, reconnecting with capped, jittered exponential backoff."""
        backoff = min_backoff
        while True:
            try:
                async with self._session.ws_connect(
                    self._events_url(),
                    params={"app": self.app, "subscribeAll": "false"},
                    headers=self._headers,
                    heartbeat=10.0,
                    max_msg_size=0,
                ) as ws:
                    self.connected = True
                    backoff = min_backoff
                    log.info("ari.connected", app=self.app)
                    yield {"type": CONNECTED}
                    async for message in ws:
                        if message.type is aiohttp.WSMsgType.TEXT:
                            event = _decode(message.data)
                            if event is not None:
                                yield event
                        elif message.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                            break
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                log.warning("ari.connect_failed", error=str(error), retry_in=round(backoff, 2))
            finally:
                if self.connected:
                    log.warning("ari.disconnected", app=self.app)
                self.connected = False
            await asyncio.sleep(backoff * (0.5 + random.random()))  # noqa: S311 - jitter only
            backoff = min(max_backoff, backoff * 2)
