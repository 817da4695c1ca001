"""The guard can move a call out of the controller's Stasis app while the controller holds it
(frozen, then thawed). The controller copes: its commands for the call get 409 or 404, the
call's events still arrive, and exactly one record is written that counts the call as queued."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from pbx_bridge.asterisk.ari import CONNECTED, AriClient, AriError
from pbx_bridge.screening.machine import ScreeningConfig
from pbx_bridge.screening.model import Call, Disposition, QueueJoined
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.screening.runtime import ScreeningController

T0 = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
CHANNEL = "1796402682.0"


def stamp(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def channel_event(kind: str, seconds: float, **extra: Any) -> dict[str, Any]:
    state = extra.pop("state", "Up")
    channel = {"id": CHANNEL, "state": state, "caller": {"number": "081234567890", "name": ""}}
    return {"type": kind, "timestamp": stamp(seconds), "channel": channel, **extra}


class MovedAri(AriClient):
    """ARI at the REST level: every request succeeds until the guard moves the channel, after
    which Asterisk answers as it did here (409 "Channel not in Stasis application" for channel
    commands, 404 "Playback not found" for our prompts)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        super().__init__(session, base_url="http://ari", username="u", password="p", app="app")  # noqa: S106
        self.feed: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.moved = False
        self.refused: list[str] = []
        self.requests: list[str] = []
        self.refused_continue = asyncio.Event()
        self.greeting_asked = asyncio.Event()

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None = None,  # noqa: ARG002
        body: Any = None,  # noqa: ARG002
    ) -> Any:
        self.requests.append(f"{method} {path}")
        if path == f"/channels/{CHANNEL}/play/{CHANNEL}-greeting":
            self.greeting_asked.set()
        if self.moved and path.startswith("/playbacks/"):
            self.refused.append(f"{method} {path}")
            raise AriError(404, method, path, "Playback not found")
        if self.moved and path.startswith(f"/channels/{CHANNEL}"):
            self.refused.append(f"{method} {path}")
            if path.endswith("/variable"):  # the controller's ContinueToQueue starts here
                self.refused_continue.set()
            raise AriError(409, method, path, "Channel not in Stasis application")
        return [] if path == "/channels" else None

    async def events(
        self,
        *,
        min_backoff: float = 0.1,  # noqa: ARG002
        max_backoff: float = 5.0,  # noqa: ARG002
    ) -> AsyncIterator[dict[str, Any]]:
        yield {"type": CONNECTED}
        while True:
            yield await self.feed.get()


async def run_until_recorded(script: Any, config: ScreeningConfig) -> tuple[list[Call], MovedAri]:
    stored: list[Call] = []
    recorded = asyncio.Event()

    async def store(call: Call) -> None:
        stored.append(call)
        recorded.set()

    async with aiohttp.ClientSession() as session:
        ari = MovedAri(session)
        controller = ScreeningController(ari, store, config=config, queue_context="queue-112")
        running = asyncio.create_task(controller.run())
        try:
            await script(ari, controller)
            await asyncio.wait_for(recorded.wait(), 5)
            await asyncio.sleep(0)  # a second record would be written in this turn
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
    return stored, ari


async def greeted(ari: MovedAri) -> None:
    """The call arrived, was answered, and its greeting asked for."""
    await ari.feed.put(channel_event("StasisStart", 0, state="Ring"))
    await ari.feed.put(channel_event("ChannelStateChange", 0.1))
    await asyncio.wait_for(ari.greeting_asked.wait(), 5)


async def gone_to_the_queue(ari: MovedAri, controller: ScreeningController) -> None:
    await ari.feed.put(channel_event("StasisEnd", 4))
    controller.deliver(CHANNEL, QueueJoined(T0 + timedelta(seconds=4.1), "emergency-112", 1))
    await ari.feed.put(channel_event("ChannelDestroyed", 20, cause=16, cause_txt="Normal Clearing"))


def greeting_finished() -> dict[str, Any]:
    playback = {"id": f"{CHANNEL}-greeting", "target_uri": f"channel:{CHANNEL}"}
    return {"type": "PlaybackFinished", "timestamp": stamp(3), "playback": playback}


def judged(call: Call) -> Disposition:
    return judge_by(Thresholds())(call).disposition


async def test_a_call_moved_mid_greeting_is_recorded_once_as_queued() -> None:
    async def script(ari: MovedAri, controller: ScreeningController) -> None:
        await greeted(ari)
        ari.moved = True  # the guard stops the greeting and continues the call
        playback = {"id": f"{CHANNEL}-greeting", "target_uri": f"channel:{CHANNEL}"}
        await ari.feed.put(
            {"type": "PlaybackFinished", "timestamp": stamp(3), "playback": playback}
        )
        await gone_to_the_queue(ari, controller)

    stored, _ari = await run_until_recorded(script, ScreeningConfig(listen_seconds=30))
    assert len(stored) == 1
    kinds = [entry.kind for entry in stored[0].timeline]
    assert "left_stasis" in kinds
    assert "queue_joined" in kinds
    assert judged(stored[0]) is Disposition.ABANDONED_IN_QUEUE


async def test_a_thawed_controllers_commands_for_a_moved_call_fail_harmlessly() -> None:
    async def script(ari: MovedAri, controller: ScreeningController) -> None:
        await greeted(ari)
        playback = {"id": f"{CHANNEL}-greeting", "target_uri": f"channel:{CHANNEL}"}
        await ari.feed.put(
            {"type": "PlaybackFinished", "timestamp": stamp(3), "playback": playback}
        )
        ari.moved = True  # moved while frozen; on thawing its listen timer fires at once
        await asyncio.wait_for(ari.refused_continue.wait(), 5)
        await gone_to_the_queue(ari, controller)

    stored, ari = await run_until_recorded(script, ScreeningConfig(listen_seconds=0.01))
    # The 55 prompt was refused, so the controller tried to send the call on itself: refused
    # too (it had gone already), and not retried.
    assert f"POST /channels/{CHANNEL}/play/{CHANNEL}-press55" in ari.refused
    assert ari.refused.count(f"POST /channels/{CHANNEL}/variable") == 1
    assert len(stored) == 1
    assert judged(stored[0]) is Disposition.ABANDONED_IN_QUEUE
