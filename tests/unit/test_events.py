"""Live events: publishing never blocks, slow subscribers are dropped, numbers stay masked,
and an agency's stream carries only its own handoffs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from pbx_bridge.store.database import make_engine, migrate
from pbx_bridge.store.users import Role, User
from pbx_bridge.web.events import EventBus, visible_to
from tests.support.api import build_api


def test_a_slow_subscriber_is_dropped_and_the_others_keep_receiving() -> None:
    bus = EventBus(queue_size=3)
    slow = bus.subscribe()
    fast = bus.subscribe()
    received = []
    for n in range(10):
        bus.publish("call.arrived", {"n": n})
        while not fast.queue.empty():
            received.append(fast.queue.get_nowait())
    assert slow.dropped
    assert not fast.dropped
    assert len(received) == 10
    assert bus.subscribers == 1
    queued = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
    assert [e.data["n"] for e in queued if e is not None] == [0, 1, 2]
    assert queued[-1] is None  # the end marker: the stream closes and the client reconnects


def test_numbers_in_published_events_are_masked() -> None:
    bus = EventBus()
    subscription = bus.subscribe()
    bus.publish("call.arrived", {"call_id": "c1", "caller_number": "081234567890"})
    event = subscription.queue.get_nowait()
    assert event is not None
    assert event.data == {"call_id": "c1", "caller_number": "**********90"}


def test_an_agency_hears_only_events_that_name_it() -> None:
    bus = EventBus()
    damkar = bus.subscribe(visible_to(User("d", Role.AGENCY, "damkar")))
    staff = bus.subscribe(visible_to(User("s", Role.SUPERVISOR)))
    bus.publish("handoff.sent", {"agencies": ["police"]})
    bus.publish("call.arrived", {"call_id": "c9"})
    bus.publish("handoff.sent", {"agencies": ["damkar"]})
    assert damkar.queue.qsize() == 1
    assert staff.queue.qsize() == 3


async def next_event(response: ClientResponse) -> tuple[str, dict[str, Any]]:
    kind = ""
    while True:
        line = (await asyncio.wait_for(response.content.readline(), 5)).decode().strip()
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            return kind, json.loads(line.removeprefix("data: "))


async def test_the_sse_stream_delivers_incident_and_handoff_events(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'api.db'}")
    await migrate(engine)
    api = await build_api(engine)
    async with TestClient(TestServer(api.app)) as client:
        assert (await client.get("/api/events")).status == 401
        staff = await client.get("/api/events", headers=api.auth("sv"))
        damkar = await client.get("/api/events", headers=api.auth("damkar"))
        assert staff.headers["Content-Type"] == "text/event-stream"
        ct = api.auth("ct")
        await client.post("/api/calls/c1/incident", json={"category": "fire"}, headers=ct)
        await client.post("/api/incidents/1/verification", json={"state": "verified"}, headers=ct)
        await client.post("/api/incidents/1/handoffs", json={}, headers=ct)
        assert (await next_event(staff))[0] == "incident.created"
        assert (await next_event(staff))[0] == "incident.verified"
        kind, data = await next_event(damkar)  # the agency hears nothing before its handoff
        assert kind == "handoff.sent"
        assert data["agencies"] == ["damkar"]
        assert data["notify_agencies"] == ["damkar"]
        staff.close()
        damkar.close()
    await engine.dispose()
