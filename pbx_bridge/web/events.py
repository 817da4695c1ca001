"""The in-process event bus behind GET /api/events (server-sent events).

Publishing never blocks and never fails: each subscriber has a bounded queue, and a subscriber
whose queue is full (a slow or stalled browser) is dropped, so the controller never waits on it.

The web console reads these kinds (README, "Web console"): `call.connected` {call_id, agent
(the call taker's SIP id), optionally arrived_at, queue_reason, cannot_speak, caller_number},
published when a call taker answers; `call.ended` {call_id, agent}, once the record is written;
`call.closed`, `incident.*` and `handoff.*` from the dispatch use cases; and `taker.state`
{taker_id, state, reason, by} when a call taker's queue state is changed through the API;
`queue.unattended` {callers, longest_wait_seconds} when callers wait and no call taker is ready,
and `queue.attended` when that is over (queue/watch.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from aiohttp import web

from pbx_bridge.logging import NUMBER_KEYS, mask_number
from pbx_bridge.store.users import Role, User
from pbx_bridge.web.auth import CREDENTIAL, current_user

log = structlog.get_logger(__name__)

KEEPALIVE_SECONDS = 15.0
# An open stream asks again this often whether its token still works (revoked, rotated or
# expired: the stream ends), since `pbx-bridge users revoke` runs in another process.
RECHECK_SECONDS = 15.0


@dataclass(frozen=True)
class Event:
    id: int
    kind: str  # e.g. call.arrived, incident.created, handoff.escalated
    at: datetime
    data: dict[str, Any]


@dataclass(eq=False)
class Subscription:
    accepts: Callable[[Event], bool]
    queue: asyncio.Queue[Event | None]
    dropped: bool = False


def _masked(data: dict[str, Any]) -> dict[str, Any]:
    # Whoever publishes, a caller's number never leaves in clear.
    return {k: mask_number(str(v)) if k in NUMBER_KEYS and v else v for k, v in data.items()}


@dataclass
class EventBus:
    queue_size: int = 100
    _subscribers: set[Subscription] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        event = Event(next(self._ids), kind, datetime.now(UTC), _masked(data))
        for subscription in list(self._subscribers):
            if not subscription.accepts(event):
                continue
            if subscription.queue.qsize() >= self.queue_size:
                self._drop(subscription)
            else:
                subscription.queue.put_nowait(event)

    def subscribe(self, accepts: Callable[[Event], bool] = lambda _e: True) -> Subscription:
        # One slot more than the events, so a dropped subscriber always gets its end marker.
        subscription = Subscription(accepts, asyncio.Queue(self.queue_size + 1))
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def close(self) -> None:
        """End every subscription (the server is stopping)."""
        for subscription in list(self._subscribers):
            self._subscribers.discard(subscription)
            subscription.queue.put_nowait(None)

    def _drop(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)
        subscription.dropped = True
        subscription.queue.put_nowait(None)
        log.warning("events.subscriber_dropped", reason="queue full")

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)


EVENTS = web.AppKey("events", EventBus)
_KEEPALIVE = Event(0, "keepalive", datetime.min.replace(tzinfo=UTC), {})  # nothing came: a comment


def visible_to(user: User) -> Callable[[Event], bool]:
    """An agency hears only about its own handoffs; the centre's staff hear everything."""
    if user.role is not Role.AGENCY:
        return lambda _event: True
    return lambda event: user.agency in event.data.get("agencies", ())


def _frame(event: Event) -> bytes:
    data = json.dumps({"at": event.at.isoformat(), **event.data})
    return f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n".encode()


async def _still_allowed(request: web.Request) -> bool:
    credential = request.get(CREDENTIAL)
    return credential is None or await credential.user() is not None


async def stream_events(request: web.Request) -> web.StreamResponse:
    """GET /api/events: server-sent events until the client goes, the server stops, or the
    token stops working."""
    bus = request.app[EVENTS]
    subscription = bus.subscribe(visible_to(current_user(request)))
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    loop = asyncio.get_running_loop()
    try:
        await response.prepare(request)
        await response.write(b": connected\n\n")
        next_check = loop.time() + RECHECK_SECONDS
        while True:
            try:
                event = await asyncio.wait_for(subscription.queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                event = _KEEPALIVE
            if loop.time() >= next_check:
                if not await _still_allowed(request):
                    await response.write(b": token revoked or expired\n\n")
                    break
                next_check = loop.time() + RECHECK_SECONDS
            if event is None:
                break
            if event is _KEEPALIVE:
                await response.write(b": keepalive\n\n")
            else:
                await response.write(_frame(event))
    except ConnectionResetError:
        pass  # the client went away: nothing to answer
    finally:
        bus.unsubscribe(subscription)
    return response
