"""ARI glue: turns ARI events into the core's events and carries out its commands.

Each call owns one task with its own inbox, so a slow REST call for one caller never holds up
the events of another. The call's state is dropped when it reaches its final state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from pbx_bridge.asterisk.ari import CONNECTED, AriClient, AriError, AriUnavailable
from pbx_bridge.screening import machine
from pbx_bridge.screening.model import (
    Answer,
    Answered,
    Arrived,
    Call,
    Command,
    CommandFailed,
    ContinueToQueue,
    Event,
    HangupRequested,
    HungUp,
    LeftStasis,
    Phase,
    Play,
    PlaybackFinished,
    StoreRecord,
    WatchHangup,
)
from pbx_bridge.web import metrics

log = structlog.get_logger(__name__)

StoreCall = Callable[[Call], Awaitable[None]]


def parse_time(value: str | None) -> datetime:
    """ARI's timestamps look like 2026-11-25T14:05:00.123+0000."""
    if not value:
        return datetime.now(UTC)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def translate(message: dict[str, Any]) -> tuple[str, Event] | None:
    """One ARI event -> (channel id, core event), or None when the core does not care."""
    kind = message.get("type")
    at = parse_time(message.get("timestamp"))
    channel = message.get("channel") or {}
    channel_id = channel.get("id", "")
    match kind:
        case "ChannelStateChange" if channel.get("state") == "Up":
            return channel_id, Answered(at)
        case "PlaybackFinished":
            playback = message.get("playback") or {}
            target = str(playback.get("target_uri", ""))
            if target.startswith("channel:"):
                return target.removeprefix("channel:"), PlaybackFinished(at, playback.get("id", ""))
        case "ChannelHangupRequest":
            cause = message.get("cause")
            return channel_id, HangupRequested(at, int(cause) if cause else None)
        case "StasisEnd":
            return channel_id, LeftStasis(at)
        case "ChannelDestroyed":
            return channel_id, HungUp(
                at, int(message.get("cause", 0)), message.get("cause_txt", "")
            )
    return None


def arrival(message: dict[str, Any]) -> Arrived:
    channel = message["channel"]
    caller = channel.get("caller") or {}
    return Arrived(
        at=parse_time(channel.get("creationtime") or message.get("timestamp")),
        channel_id=channel["id"],
        caller_number=str(caller.get("number", "")),
        caller_name=str(caller.get("name", "")),
        answered=channel.get("state") == "Up",
        sip_call_id=str(channel.get("protocol_id", "")),
    )


class ScreeningController:
    """Feeds the pure core from ARI and executes what it decides."""

    def __init__(
        self,
        ari: AriClient,
        store_call: StoreCall,
        *,
        greeting: str,
        queue_context: str,
    ) -> None:
        self._ari = ari
        self._store_call = store_call
        self._script = machine.Script(greeting=greeting)
        self._queue_context = queue_context
        self._inboxes: dict[str, asyncio.Queue[Event]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def active_calls(self) -> int:
        return len(self._inboxes)

    async def run(self) -> None:
        try:
            async for message in self._ari.events():
                metrics.ARI_EVENTS.labels(type=str(message.get("type"))).inc()
                await self._dispatch(message)
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        log.debug("ari.event", event_type=kind, data=message)
        if kind == CONNECTED:
            await self._adopt()
            return
        if kind == "StasisStart":
            channel_id = message["channel"]["id"]
            if channel_id not in self._inboxes:
                self._begin(arrival(message))
            return
        translated = translate(message)
        if translated is None:
            return
        channel_id, event = translated
        inbox = self._inboxes.get(channel_id)
        if inbox is not None:
            inbox.put_nowait(event)

    async def _adopt(self) -> None:
        """After a (re)connect: calls still in our Stasis app whose state we lost go on."""
        try:
            channels = await self._ari.channels()
        except (AriError, AriUnavailable) as error:
            log.warning("ari.adopt_failed", error=str(error))
            return
        for channel in channels:
            dialplan = channel.get("dialplan") or {}
            in_our_app = (
                dialplan.get("app_name") == "Stasis"
                and str(dialplan.get("app_data", "")).split(",")[0] == self._ari.app
            )
            if in_our_app and channel["id"] not in self._inboxes:
                log.info("call.adopted", channel=channel["id"])
                self._begin(arrival({"channel": channel}))

    def _begin(self, event: Arrived) -> None:
        inbox: asyncio.Queue[Event] = asyncio.Queue()
        self._inboxes[event.channel_id] = inbox
        metrics.ACTIVE_CALLS.inc()
        task = asyncio.create_task(self._call_task(event, inbox), name=f"call-{event.channel_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _call_task(self, first: Arrived, inbox: asyncio.Queue[Event]) -> None:
        structlog.contextvars.bind_contextvars(call_id=first.channel_id)
        log.info("call.arrived", caller=first.caller_number)
        call, commands = machine.start(first, self._script)
        try:
            while True:
                for command in commands:
                    failure = await self._execute(call, command)
                    if failure is not None:
                        inbox.put_nowait(failure)
                if call.phase is Phase.ENDED:
                    return
                event = await inbox.get()
                call, commands = machine.step(call, event, self._script)
        finally:
            self._inboxes.pop(first.channel_id, None)
            metrics.ACTIVE_CALLS.dec()

    async def _execute(self, call: Call, command: Command) -> CommandFailed | None:
        channel_id = call.channel_id
        try:
            match command:
                case Answer():
                    await self._ari.answer(channel_id)
                case Play(prompt=prompt, playback_id=playback_id):
                    await self._ari.play(channel_id, f"sound:{prompt}", playback_id)
                case WatchHangup():
                    await self._ari.subscribe(f"channel:{channel_id}")
                case ContinueToQueue(reason=reason):
                    log.info("call.to_queue", reason=reason)
                    await self._ari.continue_in_dialplan(channel_id, self._queue_context)
                case StoreRecord(call=ended):
                    await self._store_call(ended)
                    metrics.CALLS_ENDED.inc()
                    log.info("call.ended", cause=ended.hangup_cause)
        except (AriError, AriUnavailable) as error:
            if isinstance(error, AriError) and error.status == 404:
                return None  # the channel is gone: its hang-up event is on its way
            log.warning("call.command_failed", command=type(command).__name__, error=str(error))
            return CommandFailed(datetime.now(UTC), type(command).__name__, str(error))
        return None
