"""A fake ARI: a scripted events stream and recorded REST requests, with scripted failures.

It speaks what `pbx_bridge.screening.runtime.Ari` asks for, so the controller runs unchanged
against it: a test pushes Asterisk's events (built by the helpers below, shaped as Asterisk 22
sends them), awaits the requests the controller makes, and scripts an error for any request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pbx_bridge.asterisk.ari import CONNECTED, AriError

APP = "pbx-bridge"
STAMP = "2026-11-25T08:00:00.000+0000"


@dataclass(frozen=True)
class Request:
    method: str  # the AriClient method: "answer", "continue_in_dialplan", ...
    target: str  # the channel (or playback) id
    detail: tuple[Any, ...] = ()


_END = object()


@dataclass
class FakeAri:
    app: str = APP
    requests: list[Request] = field(default_factory=list)
    channel_list: list[dict[str, Any]] = field(default_factory=list)  # GET /channels
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    _stream: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    # --- the test's side

    def send(self, *messages: Any) -> None:
        """Asterisk sends these events (any value: a fake can send what Asterisk never would)."""
        for message in messages:
            self._stream.put_nowait(message)

    def connect(self) -> None:
        """The events websocket (re)connected."""
        self.send({"type": CONNECTED})

    def end(self) -> None:
        """The events stream ends (run() returns)."""
        self._stream.put_nowait(_END)

    def fail(self, method: str, error: Exception, times: int = 1) -> None:
        """The next `times` calls of `method` raise `error`."""
        self.failures.setdefault(method, []).extend([error] * times)

    async def wait_for(self, what: Callable[[list[Request]], bool]) -> None:
        """Until the requests made so far satisfy `what` (no sleeps: woken by each request)."""
        while not what(self.requests):
            self._changed.clear()
            await self._changed.wait()

    async def requested(self, method: str, target: str, count: int = 1) -> None:
        await self.wait_for(lambda _done: self.count(method, target) >= count)

    def count(self, method: str, target: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.target == target)

    def made(self, target: str) -> list[str]:
        return [r.method for r in self.requests if r.target == target]

    # --- the controller's side (pbx_bridge.screening.runtime.Ari)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            message = await self._stream.get()
            if message is _END:
                return
            yield message

    def _record(self, method: str, target: str, *detail: Any) -> None:
        self.requests.append(Request(method, target, detail))
        self._changed.set()
        pending = self.failures.get(method)
        if pending:
            raise pending.pop(0)

    async def allow_only(self, event_types: Iterable[str]) -> None:
        self._record("allow_only", self.app, tuple(sorted(event_types)))

    async def channels(self) -> list[dict[str, Any]]:
        self._record("channels", self.app)
        return list(self.channel_list)

    async def answer(self, channel_id: str) -> None:
        self._record("answer", channel_id)

    async def subscribe(self, event_source: str) -> None:
        self._record("subscribe", event_source.removeprefix("channel:"))

    async def play(self, channel_id: str, media: str, playback_id: str) -> None:
        self._record("play", channel_id, media, playback_id)

    async def stop_playback(self, playback_id: str) -> None:
        self._record("stop_playback", playback_id)

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        self._record("set_variable", channel_id, name, value)

    async def continue_in_dialplan(self, channel_id: str, context: str) -> None:
        self._record("continue_in_dialplan", channel_id, context)

    async def hangup(self, channel_id: str) -> None:
        self._record("hangup", channel_id)


def not_found(path: str) -> AriError:
    return AriError(404, "POST", path, "Channel not found")


def server_error(path: str) -> AriError:
    return AriError(500, "POST", path, "Internal Server Error")


# --- Asterisk 22's events, as the websocket carries them


def channel(
    channel_id: str,
    *,
    number: str = "081234567890",
    name: str = "Budi",
    state: str = "Ring",
    in_app: str = APP,
) -> dict[str, Any]:
    """A channel as ARI describes it (`in_app=""`: in the dialplan, not in our Stasis app)."""
    return {
        "id": channel_id,
        "name": f"PJSIP/trunk-{channel_id}",
        "state": state,
        "protocol_id": f"{channel_id}@sipp",
        "caller": {"name": name, "number": number},
        "creationtime": STAMP,
        "dialplan": {
            "context": "from-trunk",
            "exten": "112",
            "priority": 3,
            "app_name": "Stasis" if in_app else "Queue",
            "app_data": in_app or "emergency-112,r",
        },
    }


def stasis_start(channel_id: str, **kwargs: Any) -> dict[str, Any]:
    return {
        "type": "StasisStart",
        "timestamp": STAMP,
        "application": APP,
        "args": [],
        "channel": channel(channel_id, **kwargs),
    }


def on_channel(kind: str, channel_id: str, **extra: Any) -> dict[str, Any]:
    """A channel event: ChannelStateChange (state="Up"), ChannelDtmfReceived (digit=...), ..."""
    state = extra.pop("state", "Up")
    return {
        "type": kind,
        "timestamp": STAMP,
        "application": APP,
        "channel": {**channel(channel_id), "state": state},
        **extra,
    }


def answered(channel_id: str) -> dict[str, Any]:
    return on_channel("ChannelStateChange", channel_id, state="Up")


def talking(channel_id: str) -> dict[str, Any]:
    return on_channel("ChannelTalkingStarted", channel_id)


def stasis_end(channel_id: str) -> dict[str, Any]:
    return on_channel("StasisEnd", channel_id)


def destroyed(channel_id: str, cause: int = 16) -> dict[str, Any]:
    return on_channel("ChannelDestroyed", channel_id, cause=cause, cause_txt="Normal Clearing")


def playback_finished(channel_id: str, playback_id: str) -> dict[str, Any]:
    return {
        "type": "PlaybackFinished",
        "timestamp": STAMP,
        "application": APP,
        "playback": {
            "id": playback_id,
            "media_uri": "sound:pbx-bridge/greeting",
            "target_uri": f"channel:{channel_id}",
            "state": "done",
        },
    }
