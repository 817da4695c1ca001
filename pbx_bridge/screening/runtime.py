"""ARI glue: turns ARI events into the core's events and carries out its commands.

Each call owns one task with its own inbox, so a slow REST call for one caller never holds up
the events of another. The call's timers live in its task, and its state is dropped when it
reaches its final state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from pbx_bridge import metrics
from pbx_bridge.asterisk.ari import CONNECTED, AriClient, AriError, AriUnavailable
from pbx_bridge.screening import machine
from pbx_bridge.screening.machine import ScreeningConfig
from pbx_bridge.screening.model import (
    Answer,
    Answered,
    Arrived,
    Call,
    CancelTimer,
    Command,
    CommandFailed,
    ContinueToQueue,
    DtmfReceived,
    Event,
    Hangup,
    HangupRequested,
    HungUp,
    LeftStasis,
    Phase,
    Play,
    PlaybackFinished,
    StartTimer,
    StopPlayback,
    StoreRecord,
    TalkingFinished,
    TalkingStarted,
    TimerFired,
    WatchHangup,
)

log = structlog.get_logger(__name__)

StoreCall = Callable[[Call], Awaitable[None]]
Publish = Callable[[str, dict[str, Any]], None]
HANGUP_GRACE_SECONDS = 0.3

# The live events the call's life publishes (consumed by /api/events and the web console).
PHASE_EVENTS = {
    Phase.ANSWERING: "call.arrived",
    Phase.QUEUED: "call.queued",
    Phase.CONNECTED: "call.connected",
    Phase.ENDED: "call.ended",
}


def parse_time(value: str | None) -> datetime:
    """ARI's timestamps look like 2026-11-25T14:05:00.123+0000."""
    if not value:
        return datetime.now(UTC)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def _playback(message: dict[str, Any], at: datetime) -> tuple[str, Event] | None:
    playback = message.get("playback") or {}
    target = str(playback.get("target_uri", ""))
    if not target.startswith("channel:"):
        return None
    return target.removeprefix("channel:"), PlaybackFinished(at, str(playback.get("id", "")))


def _hangup_request(message: dict[str, Any], at: datetime) -> HangupRequested:
    cause = message.get("cause")
    return HangupRequested(at, int(cause) if cause else None)


# ARI event type -> the core's event, for events about a channel.
_CHANNEL_EVENTS: dict[str, Callable[[dict[str, Any], datetime], Event]] = {
    "ChannelTalkingStarted": lambda _m, at: TalkingStarted(at),
    "ChannelTalkingFinished": lambda m, at: TalkingFinished(at, int(m.get("duration", 0))),
    "ChannelDtmfReceived": lambda m, at: DtmfReceived(at, str(m.get("digit", ""))),
    "ChannelHangupRequest": _hangup_request,
    "StasisEnd": lambda _m, at: LeftStasis(at),
    "ChannelDestroyed": lambda m, at: HungUp(
        at, int(m.get("cause", 0)), str(m.get("cause_txt", ""))
    ),
}


def screening(priority: int, reason: str, flags: tuple[str, ...]) -> str:
    """PBX_BRIDGE_SCREENING, "<QUEUE_PRIO>/<reason>[,<flag>...]": "10/pressed_55,cannot_speak"."""
    return f"{priority}/" + ",".join([str(reason), *flags])


# Every ARI event type the controller reads; Asterisk is asked to send no other.
FOLLOWED_EVENTS = frozenset(
    {"StasisStart", "PlaybackFinished", "ChannelStateChange", *_CHANNEL_EVENTS}
)


def translate(message: dict[str, Any]) -> tuple[str, Event] | None:
    """One ARI event -> (channel id, core event), or None when the core does not care."""
    kind = str(message.get("type"))
    at = parse_time(message.get("timestamp"))
    if kind == "PlaybackFinished":
        return _playback(message, at)
    channel = message.get("channel") or {}
    if kind == "ChannelStateChange":
        return (channel.get("id", ""), Answered(at)) if channel.get("state") == "Up" else None
    make = _CHANNEL_EVENTS.get(kind)
    return (channel.get("id", ""), make(message, at)) if make else None


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


class CallTimers:
    """The timers the core asked for, firing into the call's inbox."""

    def __init__(self, inbox: asyncio.Queue[Event]) -> None:
        self._inbox = inbox
        self._handles: dict[str, asyncio.TimerHandle] = {}

    def start(self, name: str, seconds: float) -> None:
        self.cancel(name)
        loop = asyncio.get_running_loop()
        self._handles[name] = loop.call_later(seconds, self._fire, name)

    def _fire(self, name: str) -> None:
        self._handles.pop(name, None)
        self._inbox.put_nowait(TimerFired(datetime.now(UTC), name))

    def cancel(self, name: str) -> None:
        handle = self._handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        for name in list(self._handles):
            self.cancel(name)


def _time(command: StartTimer | CancelTimer, timers: CallTimers) -> None:
    if isinstance(command, StartTimer):
        timers.start(command.name, command.seconds)
    else:
        timers.cancel(command.name)


class ScreeningController:
    """Feeds the pure core from ARI and executes what it decides."""

    def __init__(
        self,
        ari: AriClient,
        store_call: StoreCall,
        *,
        config: ScreeningConfig,
        queue_context: str,
        publish: Publish = lambda _kind, _data: None,
    ) -> None:
        self._publish = publish
        self._ari = ari
        self._store_call = store_call
        self._config = config
        self._queue_context = queue_context
        self._inboxes: dict[str, asyncio.Queue[Event]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def active_calls(self) -> int:
        return len(self._inboxes)

    def holds(self, channel_id: str) -> bool:
        """Is this call still ours (its record not written yet)?"""
        return channel_id in self._inboxes

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
        log.debug("ari.event", event_type=kind)
        if kind == CONNECTED:
            await self._filter_events()
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
        if isinstance(event, HungUp):
            # AMI's queue events for this call travel on another connection: give them a
            # moment to arrive first, so the record has who answered and who hung up.
            asyncio.get_running_loop().call_later(
                HANGUP_GRACE_SECONDS, self.deliver, channel_id, event
            )
            return
        self.deliver(channel_id, event)

    def deliver(self, channel_id: str, event: Event) -> None:
        """Hand an event (from ARI or AMI) to the call it belongs to, if we still hold it."""
        inbox = self._inboxes.get(channel_id)
        if inbox is not None:
            inbox.put_nowait(event)

    async def _filter_events(self) -> None:
        try:
            await self._ari.allow_only(FOLLOWED_EVENTS)
        except (AriError, AriUnavailable) as error:
            # Not fatal: unfiltered events are read and ignored, only at a higher cost.
            log.warning("ari.event_filter_failed", error=str(error))

    async def _adopt(self) -> None:
        """After a (re)connect: calls still in our Stasis app whose state we lost go on."""
        try:
            channels = await self._ari.channels()
        except (AriError, AriUnavailable) as error:
            log.warning("ari.adopt_failed", error=str(error))
            return
        for channel in channels:
            dialplan = channel.get("dialplan") or {}
            app = str(dialplan.get("app_data", "")).split(",")[0]
            in_our_app = dialplan.get("app_name") == "Stasis" and app == self._ari.app
            if in_our_app and channel["id"] not in self._inboxes:
                log.info("call.adopted", call_id=channel["id"])
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
        timers = CallTimers(inbox)
        call, commands = machine.start(first, self._config)
        self._announce(None, call)
        try:
            while True:
                for command in commands:
                    failure = await self._execute(call, command, timers)
                    if failure is not None:
                        inbox.put_nowait(failure)
                if call.phase is Phase.ENDED:
                    self._announce(None, call)  # after StoreRecord ran: the record is there
                    return
                event = await inbox.get()
                before = call
                call, commands = machine.step(call, event, self._config)
                if call.phase is not Phase.ENDED:
                    self._announce(before, call)
        finally:
            timers.cancel_all()
            self._inboxes.pop(first.channel_id, None)
            metrics.ACTIVE_CALLS.dec()

    def _announce(self, before: Call | None, after: Call) -> None:
        """Live events for the console and the wallboard: the call's phase changes."""
        if before is not None and before.phase is after.phase:
            return
        kind = PHASE_EVENTS.get(after.phase)
        if kind is None:
            return
        data: dict[str, Any] = {
            "call_id": after.channel_id,
            "caller_number": after.caller_number,  # the bus masks it
            "phase": after.phase.value,
            "agent": after.agent,
            "queue_reason": after.queue_reason.value if after.queue_reason else "",
            "queue_priority": after.queue_priority,
            "cannot_speak": after.cannot_speak,
        }
        self._publish(kind, data)

    async def _execute(
        self, call: Call, command: Command, timers: CallTimers
    ) -> CommandFailed | None:
        try:
            await self._carry_out(call, command, timers)
        except (AriError, AriUnavailable) as error:
            if isinstance(error, AriError) and error.status == 404:
                return None  # the channel or playback is gone: its events are on their way
            log.warning("call.command_failed", command=type(command).__name__, error=str(error))
            return CommandFailed(datetime.now(UTC), type(command).__name__, str(error))
        return None

    async def _carry_out(self, call: Call, command: Command, timers: CallTimers) -> None:
        channel_id = call.channel_id
        match command:
            case Answer():
                await self._ari.answer(channel_id)
            case WatchHangup():
                await self._ari.subscribe(f"channel:{channel_id}")
            case Play(prompt=prompt, playback_id=playback_id):
                await self._ari.play(channel_id, f"sound:{prompt}", playback_id)
            case StopPlayback(playback_id=playback_id):
                await self._ari.stop_playback(playback_id)
            case StartTimer() | CancelTimer():
                _time(command, timers)
            case ContinueToQueue(reason=reason, priority=priority, flags=flags):
                await self._to_queue(channel_id, reason, priority, flags)
            case Hangup(reason=reason):
                log.info("call.hangup", reason=reason)
                await self._ari.hangup(channel_id)
            case StoreRecord(call=ended):
                await self._store_call(ended)
                metrics.CALLS_ENDED.inc()
                log.info("call.ended", cause=ended.hangup_cause)

    async def _to_queue(
        self, channel_id: str, reason: str, priority: int, flags: tuple[str, ...]
    ) -> None:
        log.info("call.to_queue", reason=str(reason), priority=priority, flags=list(flags))
        # One variable, one request: the dialplan cuts it into QUEUE_PRIO (app_queue reads it
        # when the caller joins) and the flags that travel with the call ("pressed_55,
        # cannot_speak": the call taker's screen shows the caller cannot speak).
        await self._ari.set_variable(
            channel_id, "PBX_BRIDGE_SCREENING", screening(priority, reason, flags)
        )
        await self._ari.continue_in_dialplan(channel_id, self._queue_context)
