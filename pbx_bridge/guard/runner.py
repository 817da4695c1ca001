"""The guard's I/O: every check, ask the controller whether it is alive, list the calls in our
Stasis app, let `decide` choose, and move those calls to the queue over ARI.

The guard talks to Asterisk's ARI REST interface with its own user, never through the app's
events websocket: REST keeps working while the controller is frozen (its websocket stays open,
so Stasis() does not fail over) or dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog

from pbx_bridge.asterisk.ari import AriError, AriUnavailable
from pbx_bridge.guard import metrics
from pbx_bridge.guard.decide import GuardConfig, HeldCall, Liveness, Move, decide, observe
from pbx_bridge.screening.machine import (
    CLOSING_PLAYBACK,
    GREETING_PLAYBACK,
    PRESS_55_PLAYBACK,
    playback_id,
)
from pbx_bridge.screening.wire import VARIABLE, Screening, WireFormatError, decode, encode

log = structlog.get_logger(__name__)

Probe = Callable[[], Awaitable[bool]]
# Asterisk runs a prompt as a command of the channel's Stasis thread: a variable set or a
# continue waits behind it (seen here: a set blocked for the greeting's length). Ours are named
# after the channel, so the guard stops them first.
OUR_PLAYBACKS = (GREETING_PLAYBACK, PRESS_55_PLAYBACK, CLOSING_PLAYBACK)
GONE = frozenset({404, 409})  # the channel hung up, or left Stasis already


class GuardAri(Protocol):
    """What the guard asks of ARI (pbx_bridge.asterisk.ari.AriClient, or a fake)."""

    async def channels(self) -> list[dict[str, Any]]: ...
    async def answer(self, channel_id: str) -> None: ...
    async def get_variable(self, channel_id: str, name: str) -> str: ...
    async def set_variable(self, channel_id: str, name: str, value: str) -> None: ...
    async def stop_playback(self, playback_id: str) -> None: ...
    async def continue_in_dialplan(self, channel_id: str, context: str) -> None: ...


def in_app(channel: dict[str, Any], app: str) -> bool:
    """Is this channel (ARI JSON) in our Stasis app now?"""
    dialplan = channel.get("dialplan") or {}
    return (
        dialplan.get("app_name") == "Stasis"
        and str(dialplan.get("app_data", "")).split(",")[0] == app
    )


class Guard:
    """One `check()` a second; `run()` forever."""

    def __init__(
        self,
        ari: GuardAri,
        probe: Probe,
        *,
        app: str,
        config: GuardConfig,
        queue_context: str,
        priority: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ari = ari
        self._probe = probe
        self._app = app
        self._config = config
        self._queue_context = queue_context
        self._priority = priority
        self._clock = clock
        # When the guard first saw each call in the app: its own clock, so a PBX whose clock
        # differs cannot make a call look older than it is (a guard restart only waits longer).
        self._first_seen: dict[str, float] = {}
        self._ringing: set[str] = set()  # calls in the app not answered yet
        self.liveness = Liveness()
        self.moved: Counter[str] = Counter()  # calls moved, by reason

    async def check(self) -> list[Move]:
        answered, channel_ids = await asyncio.gather(self._answers(), self._held())
        self._observe(answered)
        now = self._clock()
        self._first_seen = {cid: self._first_seen.get(cid, now) for cid in channel_ids}
        metrics.HELD_CALLS.set(len(channel_ids))
        calls = [HeldCall(cid, now - seen) for cid, seen in self._first_seen.items()]
        moves = decide(calls, self.liveness, self._config)
        moved = await asyncio.gather(*(self._move(move) for move in moves))
        return [move for move, done in zip(moves, moved, strict=True) if done]

    async def run(self, interval: float) -> None:
        log.info("guard.started", app=self._app, held_limit=self._config.held_limit_seconds)
        while True:
            started = self._clock()
            try:
                await self.check()
            except Exception:
                log.exception("guard.check_failed")  # the next check tries again
            await asyncio.sleep(max(0.0, interval - (self._clock() - started)))

    async def _answers(self) -> bool:
        try:
            return await self._probe()
        except Exception:
            return False

    async def _held(self) -> list[str]:
        try:
            channels = await self._ari.channels()
        except (AriError, AriUnavailable) as error:
            log.warning("guard.channels_unavailable", error=str(error))
            return []
        ours = [channel for channel in channels if in_app(channel, self._app)]
        self._ringing = {str(channel["id"]) for channel in ours if channel.get("state") != "Up"}
        return [str(channel["id"]) for channel in ours]

    def _observe(self, answered: bool) -> None:
        before = self.liveness
        self.liveness = observe(before, answered, self._config)
        metrics.CHECKS.labels(answered=str(answered).lower()).inc()
        metrics.CONTROLLER_FAILED.set(int(self.liveness.failed))
        if self.liveness.failed and not before.failed:
            log.error("guard.controller_failed", misses=self.liveness.misses)
        elif before.failed and not self.liveness.failed:
            log.warning("guard.controller_recovered")

    async def _move(self, move: Move) -> bool:
        """Our prompts stopped, answered if it rings, the screening so far kept (or the reason
        set), on to the queue.
        False when the call had already left (hung up, or continued by the controller)."""
        channel_id = move.channel_id
        try:
            for name in OUR_PLAYBACKS:
                with contextlib.suppress(AriError):  # 404: that prompt is not playing
                    await self._ari.stop_playback(playback_id(channel_id, name))
            if channel_id in self._ringing:
                # Answered while still in Stasis, so the controller (on thawing) hears of the
                # answer and records it; the queue would answer the call anyway.
                await self._ari.answer(channel_id)
            if await self._screened(channel_id) is None:
                screening = encode(Screening(self._priority, str(move.reason)))
                await self._ari.set_variable(channel_id, VARIABLE, screening)
            await self._ari.continue_in_dialplan(channel_id, self._queue_context)
        except AriError as error:
            if error.status in GONE:
                log.info("guard.already_left", call_id=channel_id)
                self._first_seen.pop(channel_id, None)
                return False
            log.warning("guard.move_failed", call_id=channel_id, error=str(error))
            return False
        except AriUnavailable as error:
            log.warning("guard.move_failed", call_id=channel_id, error=str(error))
            return False
        self._first_seen.pop(channel_id, None)
        self.moved[str(move.reason)] += 1
        metrics.MOVED_CALLS.labels(reason=str(move.reason)).inc()
        log.warning(
            "guard.moved",
            call_id=channel_id,
            reason=str(move.reason),
            moved_total=self.moved[str(move.reason)],
        )
        return True

    async def _screened(self, channel_id: str) -> Screening | None:
        """The screening result the controller set before it failed, if any."""
        try:
            value = await self._ari.get_variable(channel_id, VARIABLE)
        except AriError as error:
            if error.status == 404:  # not set (a gone channel fails the next request too)
                return None
            raise
        try:
            return decode(value) if value else None
        except WireFormatError:
            return None
