"""The dispatch flow end to end at the service level, through the HTTP API, into the report.

A 112 call as the runtime stores it (speech, queued, a call taker connected) -> the call taker
makes it a fire with a location and verifies it -> hands it off -> damkar acknowledges -> the
incident is closed -> the day's report counts one verified fire under damkar, acknowledged in
exactly the time between handoff and acknowledgement. The telephony half (SIPp against the
sandbox) is in tests/integration. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.screening import timeline as kind
from pbx_bridge.screening.model import Call, Phase, QueueReason, TimelineEntry
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.repository import CallRepository
from tests.support.api import build_api
from tests.support.calls import T0

CALL_ID = "1764057600.42"
TAKER = "ct-01"
ACK_AFTER = timedelta(seconds=75.5)


def a_fire_call() -> Call:
    """Arrives 15:00 Jakarta, speaks during the greeting, queued, answered by ct-01 after 9 s."""

    def at(seconds: float) -> datetime:
        return T0 + timedelta(seconds=seconds)

    return Call(
        channel_id=CALL_ID,
        caller_number="081355501234",
        caller_name="Wa Ode",
        arrived_at=at(0),
        phase=Phase.ENDED,
        answered_at=at(0.3),
        ended_at=at(99),
        hangup_cause=16,
        hangup_cause_text="Normal Clearing",
        sip_call_id="fire-call@carrier",
        speech_at=at(2),
        queued_at=at(2.5),
        queue_reason=QueueReason.SPEECH,
        queue_priority=5,
        agent=TAKER,
        connected_at=at(9),
        timeline=(
            TimelineEntry(at(0), kind.ARRIVED),
            TimelineEntry(at(0.3), kind.ANSWERED),
            TimelineEntry(at(2), kind.SPEECH),
            TimelineEntry(at(2.5), kind.QUEUED, "speech prio=5"),
            TimelineEntry(at(2.6), kind.QUEUE_JOINED, "emergency-112 position=1"),
            TimelineEntry(at(9), kind.AGENT_CONNECTED, TAKER),
            TimelineEntry(at(99), kind.AGENT_COMPLETED, f"{TAKER} ended_by=caller"),
            TimelineEntry(at(99), kind.HUNG_UP, "16"),
        ),
    )


async def test_a_fire_call_handed_to_damkar_shows_in_the_days_report(engine: AsyncEngine) -> None:
    api = await build_api(engine, calls=0)  # reports in Asia/Jakarta: T0 is 15:00 on the 25th
    await CallRepository(engine, judge_by(Thresholds())).save(a_fire_call())
    ct, damkar = api.auth("ct"), api.auth("damkar")
    async with TestClient(TestServer(api.app)) as client:
        # While the call taker talks to the caller: an incident, then verified.
        api.clock.now = T0 + timedelta(seconds=30)
        new = {
            "category": "fire",
            "description": "kitchen fire spreading to the next house",
            "location": {
                "text": "Jl. Sao-Sao 12, Kendari",
                "latitude": -3.987,
                "longitude": 122.512,
                "source": "caller",
            },
            "priority": 1,
        }
        response = await client.post(f"/api/calls/{CALL_ID}/incident", json=new, headers=ct)
        assert response.status == 201, await response.text()
        incident = await response.json()
        assert incident["call_ids"] == [CALL_ID]
        assert incident["location"]["text"] == "Jl. Sao-Sao 12, Kendari"
        incident_url = f"/api/incidents/{incident['id']}"

        api.clock.advance(seconds=45)
        response = await client.post(
            f"{incident_url}/verification", json={"state": "verified"}, headers=ct
        )
        assert (await response.json())["verification"] == "verified"

        # Handed off: fire goes to damkar, which acknowledges 75.5 s later.
        api.clock.advance(seconds=10)
        response = await client.post(f"{incident_url}/handoffs", json={}, headers=ct)
        assert response.status == 201, await response.text()
        handoff = await response.json()
        assert handoff["agency"] == "damkar"

        api.clock.advance(seconds=ACK_AFTER.total_seconds())
        response = await client.post(
            f"/api/handoffs/{handoff['id']}/acknowledge", json={}, headers=damkar
        )
        assert response.status == 200, await response.text()
        acknowledged = await response.json()
        assert acknowledged["state"] == "acknowledged"
        ack_seconds = (
            datetime.fromisoformat(acknowledged["acknowledged_at"])
            - datetime.fromisoformat(handoff["sent_at"])
        ).total_seconds()
        assert ack_seconds == ACK_AFTER.total_seconds()

        api.clock.advance(minutes=40)
        response = await client.post(f"{incident_url}/close", json={"note": "out"}, headers=ct)
        assert (await response.json())["status"] == "closed"

        # The day's report, as a call taker reads it; the agency may not.
        day = "/api/report?from=2026-11-25&to=2026-11-25"
        assert (await client.get(day, headers=damkar)).status == 403
        response = await client.get(day, headers=ct)
        assert response.status == 200, await response.text()
        report = await response.json()

    assert report["timezone"] == "Asia/Jakarta"
    assert (report["total_calls"], report["answered_valid"]) == (1, 1)
    assert report["answer_times"]["answer_p50_seconds"] == 9.0
    assert report["dispatch"] == {
        "verified_emergencies": 1,
        "emergencies_by_category": {"fire": 1},
        "emergencies_by_agency": {"damkar": 1},
        "handoffs_sent": 1,
        "handoffs_acknowledged": 1,
        "handoff_ack_p50_seconds": ack_seconds,
        "handoff_ack_p90_seconds": ack_seconds,
        "handoff_ack_longest_seconds": ack_seconds,
    }
