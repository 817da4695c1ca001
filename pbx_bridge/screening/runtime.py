"""ARI glue: turns ARI events into the core's events and carries out its commands.

Each call owns one task with its own inbox, so a slow REST call for one caller never holds up
the events of another. The call's timers live in its task, and its state is dropped when it
reaches its final state. The controller owns every call task and ends them when `run()` ends.

What keeps a caller from being stranded here:
- one bad event (unreadable, or a handler that raises) is logged with its call id and sends
  that call to the queue; the other calls go on;
- after every ARI (re)connect the held calls are compared with Asterisk's channels: a gone
  one gets its hang-up and its record, one still in our Stasis app is handed back to the queue;
- on shutdown every call still held in Stasis is handed back to the queue, bounded in time;
- the record of a call that reached the queue waits (boundedly, and only while AMI is up) for
  app_queue to tell how it ended there, since AMI's events travel apart from ARI's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog

from pbx_bridge import metrics
from pbx_bridge.asterisk.ari import CONNECTED, AriError, AriUnavailable
from pbx_bridge.screening import caller, machine, wire
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
    HandBack,
    Hangup,
    HangupRequested,
    HungUp,
    LeftStasis,
    Phase,
    Play,
    PlaybackFinished,
    QueueReason,
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
# How long a call's record waits for app_queue's word on how the call ended in the queue.
QUEUE_END_WAIT_SECONDS = 2.0
GONE_CAUSE_TEXT = "gone while ARI was away"


class Ari(Protocol):
    """What the controller asks of ARI (pbx_bridge.asterisk.ari.AriClient, or a fake)."""

    app: str

    def events(self) -> AsyncIterator[dict[str, Any]]: ...
    async def allow_only(self, event_types: Iterable[str]) -> None: ...
    async def channels(self) -> list[dict[str, Any]]: ...
    async def answer(self, channel_id: str) -> None: ...
    async def subscribe(self, event_source: str) -> None: ...
    async def play(self, channel_id: str, media: str, playback_id: str) -> None: ...
    async def stop_playback(self, playback_id: str) -> None: ...
    async def set_variable(self, channel_id: str, name: str, value: str) -> None: ...
    async def continue_in_dialplan(self, channel_id: str, context: str) -> None: ...
    async def hangup(self, channel_id: str) -> None: ...


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
    """StasisStart (or a channel found on reconnect) -> Arrived, the caller's identity cleaned."""
    channel = message["channel"]
    identity = channel.get("caller") or {}
    return Arrived(
        at=parse_time(channel.get("creationtime") or message.get("timestamp")),
        channel_id=str(channel["id"]),
        caller_number=caller.caller_number(identity.get("number", "")),
        caller_name=caller.caller_name(identity.get("name", "")),
        answered=channel.get("state") == "Up",
        sip_call_id=caller.clean(channel.get("protocol_id", ""), 256),
    )


def channel_of(message: dict[str, Any]) -> str:
    """The channel an ARI event is about, or "" (never raises, whatever the event holds)."""
    channel = message.get("channel")
    if isinstance(channel, dict):
        return str(channel.get("id") or "")
    playback = message.get("playback")
    if isinstance(playback, dict):
        return str(playback.get("target_uri", "")).removeprefix("channel:")
    return ""


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


@dataclass
class HeldCall:
    """One call the controller holds: its inbox, its latest state, whether we let it go."""

    call: Call
    inbox: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    # Set once the call is out of our hands: sent on to the queue, or ended.
    let_go: asyncio.Event = field(default_factory=asyncio.Event)


class ScreeningController:
    """Feeds the pure core from ARI and executes what it decides."""

    def __init__(
        self,
        ari: Ari,
        store_call: StoreCall,
        *,
        config: ScreeningConfig,
        queue_context: str,
        publish: Publish = lambda _kind, _data: None,
        queue_events_flow: Callable[[], bool] = lambda: False,
        queue_end_wait: float = QUEUE_END_WAIT_SECONDS,
    ) -> None:
        self._publish = publish
        self._ari = ari
        self._store_call = store_call
        self._config = config
        self._queue_context = queue_context
        self._queue_events_flow = queue_events_flow  # AMI connected: app_queue's word will come
        self._queue_end_wait = queue_end_wait
        self._calls: dict[str, HeldCall] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    def holds(self, channel_id: str) -> bool:
        """Is this call still ours (its record not written yet)?"""
        return channel_id in self._calls

    async def run(self) -> None:
        try:
            async for message in self._ari.events():
                await self._dispatch_safely(message)
        finally:
            await self.cancel_calls()

    async def cancel_calls(self) -> None:
        """End every task the controller started (calls and rescues) and wait for them."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _dispatch_safely(self, message: dict[str, Any]) -> None:
        readable = isinstance(message, dict)
        kind = str(message.get("type")) if readable else ""
        metrics.ARI_EVENTS.labels(type=kind).inc()
        try:
            if not readable:
                raise TypeError(type(message).__name__)  # noqa: TRY301 - one path for bad events
            await self._dispatch(message)
        except Exception as error:  # one bad event must not end every call
            channel_id = channel_of(message) if readable else ""
            # Not log.exception: the message and its traceback may carry the caller's number.
            log.error(  # noqa: TRY400
                "ari.event_failed", call_id=channel_id, event_type=kind, error=type(error).__name__
            )
            self._queue_after_failure(channel_id, f"event {kind}", error)

    def _queue_after_failure(self, channel_id: str, what: str, error: Exception) -> None:
        """The call an event failed for goes on to the queue, held or not yet."""
        if not channel_id:
            return
        if channel_id in self._calls:
            self.deliver(channel_id, CommandFailed(datetime.now(UTC), what, type(error).__name__))
        elif what == "event StasisStart":
            self._spawn(self._rescue(channel_id), f"rescue-{channel_id}")

    async def _rescue(self, channel_id: str) -> None:
        """A call we cannot hold (its StasisStart was unreadable): straight on to the queue."""
        structlog.contextvars.bind_contextvars(call_id=channel_id)
        try:
            await self._to_queue(
                channel_id, QueueReason.COMMAND_FAILED, self._config.priority_speech, ()
            )
        except (AriError, AriUnavailable) as error:
            # Still in Stasis: the next ARI reconnect finds and adopts it.
            log.warning("call.rescue_failed", error=str(error))

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        log.debug("ari.event", event_type=kind)
        if kind == CONNECTED:
            await self._filter_events()
            await self._check_held_and_adopt()
            return
        if kind == "StasisStart":
            channel_id = channel_of(message)
            if channel_id not in self._calls:
                self._begin(arrival(message))
            return
        translated = translate(message)
        if translated is not None:
            self.deliver(*translated)

    def deliver(self, channel_id: str, event: Event) -> None:
        """Hand an event (from ARI or AMI) to the call it belongs to, if we still hold it."""
        held = self._calls.get(channel_id)
        if held is not None:
            held.inbox.put_nowait(event)

    async def _filter_events(self) -> None:
        try:
            await self._ari.allow_only(FOLLOWED_EVENTS)
        except (AriError, AriUnavailable) as error:
            # Not fatal: unfiltered events are read and ignored, only at a higher cost.
            log.warning("ari.event_filter_failed", error=str(error))

    async def _check_held_and_adopt(self) -> None:
        """After a (re)connect, Asterisk's channels against the calls we hold.

        A held call whose channel is gone ended while we were away (its ChannelDestroyed
        missed): it gets its hang-up, hence its record. A held call still in our Stasis app
        may be stuck (the event it waited for was lost): it is handed back to the queue. A
        call in our app we do not hold lost its state (we restarted): adopted, then queued.
        """
        try:
            channels = await self._ari.channels()
        except (AriError, AriUnavailable) as error:
            log.warning("ari.adopt_failed", error=str(error))
            return
        now = datetime.now(UTC)
        present = {str(channel.get("id")) for channel in channels}
        in_our_app = {
            str(channel.get("id")): channel for channel in channels if self._ours(channel)
        }
        for channel_id in list(self._calls):
            if channel_id not in present:
                log.info("call.gone_while_away", call_id=channel_id)
                self.deliver(channel_id, HungUp(now, 0, GONE_CAUSE_TEXT))
            elif channel_id in in_our_app:
                log.info("call.handed_back", call_id=channel_id, reason="reconnect")
                self.deliver(channel_id, HandBack(now, QueueReason.ADOPTED))
        for channel_id, channel in in_our_app.items():
            if channel_id in self._calls:
                continue
            log.info("call.adopted", call_id=channel_id)
            try:
                self._begin(arrival({"channel": channel}))
            except Exception as error:  # one odd channel must not stop the rest
                self._queue_after_failure(channel_id, "event StasisStart", error)

    def _ours(self, channel: dict[str, Any]) -> bool:
        dialplan = channel.get("dialplan") or {}
        app = str(dialplan.get("app_data", "")).split(",")[0]
        return dialplan.get("app_name") == "Stasis" and app == self._ari.app

    async def hand_back_all(self, reason: QueueReason, timeout: float) -> int:
        """Every call still held in Stasis on to the queue (screening so far); returns how many
        were let go within `timeout`. Those that were not stay in Stasis for the next
        controller to adopt, or go to the queue when their channel leaves Stasis."""
        holding = [held for held in self._calls.values() if machine.in_our_hands(held.call)]
        now = datetime.now(UTC)
        for held in holding:
            held.let_go.clear()
            held.inbox.put_nowait(HandBack(now, reason))
        if not holding:
            return 0
        waits = [asyncio.ensure_future(held.let_go.wait()) for held in holding]
        done, pending = await asyncio.wait(waits, timeout=timeout)
        for waiting in pending:
            waiting.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        log.info("calls.handed_back", reason=str(reason), calls=len(holding), let_go=len(done))
        return len(done)

    def _spawn(self, work: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _begin(self, event: Arrived) -> None:
        held = HeldCall(call=machine.start(event, self._config)[0])
        self._calls[event.channel_id] = held
        metrics.ACTIVE_CALLS.inc()
        self._spawn(self._call_task(event, held), f"call-{event.channel_id}")

    async def _call_task(self, first: Arrived, held: HeldCall) -> None:
        structlog.contextvars.bind_contextvars(call_id=first.channel_id)
        log.info("call.arrived", caller=first.caller_number)
        timers = CallTimers(held.inbox)
        try:
            await self._screen(first, held, timers)
        except Exception as error:  # a fault of ours must not strand the caller
            log.error(  # noqa: TRY400 - no traceback: it may carry the caller's number
                "call.failed", error=type(error).__name__, phase=str(held.call.phase)
            )
            if machine.in_our_hands(held.call):
                await self._rescue(first.channel_id)
        finally:
            timers.cancel_all()
            held.let_go.set()
            self._calls.pop(first.channel_id, None)
            metrics.ACTIVE_CALLS.dec()

    async def _screen(self, first: Arrived, held: HeldCall, timers: CallTimers) -> None:
        call, commands = machine.start(first, self._config)
        self._announce(None, call)
        end_wait = _QueueEndWait()
        while True:
            held.call = call
            for command in commands:
                failure = await self._execute(call, command, timers)
                if failure is not None:
                    held.inbox.put_nowait(failure)
                elif isinstance(command, ContinueToQueue):
                    held.let_go.set()
            if call.phase is Phase.ENDED:
                self._announce(None, call)  # after StoreRecord ran: the record is there
                return
            if not machine.in_our_hands(call):
                held.let_go.set()
            event = await end_wait.next(held.inbox, call)
            if isinstance(event, HungUp) and end_wait.defer(event, call, self._wait_for_end()):
                commands = []
                continue
            before = call
            call, commands = machine.step(call, event, self._config)
            if call.phase is not Phase.ENDED:
                self._announce(before, call)

    def _wait_for_end(self) -> float | None:
        """How long a record may wait for app_queue's word now: not at all while AMI is down."""
        return self._queue_end_wait if self._queue_events_flow() else None

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
        value = wire.encode(wire.Screening(priority, str(reason), tuple(map(str, flags))))
        await self._ari.set_variable(channel_id, wire.VARIABLE, value)
        await self._ari.continue_in_dialplan(channel_id, self._queue_context)


class _QueueEndWait:
    """Holds a call's hang-up back until app_queue has told how the call ended in the queue.

    ARI's ChannelDestroyed and AMI's AgentComplete/QueueCallerAbandon travel on two
    connections, so either may come first. The record is written once the queue's end is
    known, or after a bounded wait for it, or at once while AMI is down (nothing will come).
    """

    def __init__(self) -> None:
        self._held_back: HungUp | None = None
        self._deadline = 0.0
        self._released = False  # the held-back hang-up went on: never hold one back again

    def defer(self, event: HungUp, call: Call, wait: float | None) -> bool:
        """Hold this hang-up back? Only the first, only while the queue's end is untold."""
        if self._held_back is not None:
            return True  # a repeated hang-up: the first one is applied in its time
        if self._released or wait is None or not machine.awaits_queue_end(call):
            return False
        self._held_back = event
        self._deadline = asyncio.get_running_loop().time() + wait
        return True

    async def next(self, inbox: asyncio.Queue[Event], call: Call) -> Event:
        held_back = self._held_back
        if held_back is None:
            return await inbox.get()
        remaining = self._deadline - asyncio.get_running_loop().time()
        if machine.awaits_queue_end(call) and remaining > 0:
            try:
                async with asyncio.timeout(remaining):
                    return await inbox.get()
            except TimeoutError:
                log.info("call.queue_end_untold")
        self._held_back = None
        self._released = True
        return held_back
