"""The report's dispatch figures from hand-made incidents, on SQLite and PostgreSQL.

The day is 25 November in Makassar (UTC+8): 24 Nov 16:00 UTC to 25 Nov 16:00 UTC. Each incident
below says where it should count; the expected figures are worked out by hand in each test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.dispatch.agencies import load_agencies
from pbx_bridge.dispatch.figures import IncidentFigures
from pbx_bridge.dispatch.model import Category, Location, VerificationState
from pbx_bridge.dispatch.repository import DispatchRepository
from pbx_bridge.dispatch.services import DispatchService, IncidentDraft
from pbx_bridge.reports.model import Period
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.users import Role, User
from tests.support.api import POLICY, FakeClock
from tests.support.calls import ended_call

MAKASSAR = ZoneInfo("Asia/Makassar")
CT = User("ct", Role.CALL_TAKER)
DAMKAR = User("damkar-desk", Role.AGENCY, "damkar")
DINKES = User("dinkes-desk", Role.AGENCY, "dinkes")
POLICE = User("police-desk", Role.AGENCY, "police")


def utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def day(first: int, last: int | None = None) -> Period:
    return Period(date(2026, 11, first), date(2026, 11, last or first), MAKASSAR)


@dataclass
class Centre:
    calls: CallRepository
    service: DispatchService
    clock: FakeClock

    async def call(self, call_id: str, arrived: datetime) -> None:
        await self.calls.save(ended_call(call_id, arrived=arrived))

    async def incident(
        self, call_id: str, category: Category, at: datetime, *, verify: bool = True
    ) -> int:
        """An incident from the call at `at`, verified a minute later unless `verify` is off."""
        self.clock.now = at
        draft = IncidentDraft(category, "", Location("Jl. Bunggasi"))
        incident = await self.service.create_incident(call_id, draft, CT)
        if verify:
            self.clock.advance(minutes=1)
            await self.service.verify(incident.id, VerificationState.VERIFIED, "", CT)
        return incident.id

    async def hand_off(self, incident_id: int, at: datetime) -> int:
        self.clock.now = at
        return (await self.service.hand_off(incident_id, "", CT)).id

    async def acknowledge(self, handoff_id: int, by: User, at: datetime) -> None:
        self.clock.now = at
        await self.service.acknowledge(handoff_id, by)

    async def escalate(self, at: datetime) -> None:
        self.clock.now = at
        await self.service.escalate_due()


async def centre(engine: AsyncEngine) -> Centre:
    clock = FakeClock()
    service = DispatchService(
        DispatchRepository(engine), load_agencies(), POLICY, lambda _k, _d: None, now=clock
    )
    return Centre(CallRepository(engine, judge_by(Thresholds())), service, clock)


async def a_day_of_incidents(engine: AsyncEngine) -> None:
    c = await centre(engine)
    # A: fire, first call on the day; handed to damkar, acknowledged in 60 s.
    await c.call("a1", utc(25, 1))
    a = await c.incident("a1", Category.FIRE, utc(25, 1, 2))
    handoff = await c.hand_off(a, utc(25, 1, 4))
    await c.acknowledge(handoff, DAMKAR, utc(25, 1, 5))
    # B: health, first call one second before the day (23:59:59 local on the 24th), made an
    # incident and handed off on the 25th (local): the emergency is the 24th's, the handoff's
    # acknowledgement time (30 s) the 25th's.
    await c.call("b1", utc(24, 15, 59, 59))
    b = await c.incident("b1", Category.HEALTH, utc(24, 16, 3))
    handoff = await c.hand_off(b, utc(24, 16, 6))
    await c.acknowledge(handoff, DINKES, utc(24, 16, 6, 30))
    # C: accident with a redundant second call; dinkes never acknowledges, so after 3 min the
    # supervisor and after 2 more police are told; police acknowledge at 6 min (360 s).
    await c.call("c1", utc(25, 2))
    await c.call("c2", utc(25, 2, 1))
    accident = await c.incident("c1", Category.ACCIDENT, utc(25, 2, 2))
    await c.service.attach_call("c2", accident, CT)
    handoff = await c.hand_off(accident, utc(25, 2, 10))
    await c.escalate(utc(25, 2, 13))
    await c.escalate(utc(25, 2, 15))
    await c.acknowledge(handoff, POLICE, utc(25, 2, 16))
    # D: crime, never verified: no emergency.
    await c.call("d1", utc(25, 4))
    await c.incident("d1", Category.CRIME, utc(25, 4, 2), verify=False)
    # E: fire, verified then found false: no emergency.
    await c.call("e1", utc(25, 5))
    e = await c.incident("e1", Category.FIRE, utc(25, 5, 2))
    await c.service.verify(e, VerificationState.FALSE, "smoke from a kitchen", CT)
    # F: disaster, verified, not handed off (yet): an emergency under no agency.
    await c.call("f1", utc(25, 6))
    await c.incident("f1", Category.DISASTER, utc(25, 6, 2))
    # G: fire on the 26th (00:00 local): not the 25th's; its handoff is never acknowledged.
    await c.call("g1", utc(25, 16))
    g = await c.incident("g1", Category.FIRE, utc(25, 16, 2))
    await c.hand_off(g, utc(25, 16, 4))


async def test_the_day_counts_its_verified_emergencies_once_and_their_agencies(
    engine: AsyncEngine,
) -> None:
    await a_day_of_incidents(engine)
    figures = await IncidentFigures(engine).figures(day(25))
    # A fire, C accident (two calls, once), F disaster; not B (the 24th), D, E, G.
    assert figures.emergencies_by_category == {"accident": 1, "disaster": 1, "fire": 1}
    # A to damkar; C to dinkes and, escalated, police; F to nobody.
    assert figures.emergencies_by_agency == {"damkar": 1, "dinkes": 1, "police": 1}


async def test_acknowledgement_times_are_of_the_handoffs_sent_in_the_period(
    engine: AsyncEngine,
) -> None:
    await a_day_of_incidents(engine)
    figures = await IncidentFigures(engine).figures(day(25))
    # Sent on the 25th (local): B's at 00:06, A's, C's; G's is the 26th's.
    assert figures.handoffs_sent == 3
    assert list(figures.handoff_ack_seconds) == [30.0, 60.0, 360.0]
    dispatch = figures.as_json()
    assert dispatch["verified_emergencies"] == 3
    assert dispatch["handoffs_acknowledged"] == 3
    # Nearest rank of 3 values: p50 is the 2nd, p90 the 3rd.
    assert dispatch["handoff_ack_p50_seconds"] == 60.0
    assert dispatch["handoff_ack_p90_seconds"] == 360.0
    assert dispatch["handoff_ack_longest_seconds"] == 360.0


async def test_an_emergency_belongs_to_the_day_of_its_first_call(engine: AsyncEngine) -> None:
    await a_day_of_incidents(engine)
    source = IncidentFigures(engine)
    the_24th = await source.figures(day(24))
    assert the_24th.emergencies_by_category == {"health": 1}  # B, though made on the 25th
    assert the_24th.emergencies_by_agency == {"dinkes": 1}
    assert the_24th.handoffs_sent == 0  # B's handoff went on the 25th
    the_26th = await source.figures(day(26))
    assert the_26th.emergencies_by_category == {"fire": 1}  # G
    assert (the_26th.handoffs_sent, list(the_26th.handoff_ack_seconds)) == (1, [])
    three_days = await source.figures(day(24, 26))
    assert three_days.emergencies_by_category == {
        "accident": 1,
        "disaster": 1,
        "fire": 2,
        "health": 1,
    }
    assert three_days.emergencies_by_agency == {"damkar": 2, "dinkes": 2, "police": 1}
    assert three_days.handoffs_sent == 4


async def test_no_incidents_give_zeros_not_missing_figures(engine: AsyncEngine) -> None:
    figures = await IncidentFigures(engine).figures(day(25))
    dispatch = figures.as_json()
    assert dispatch["verified_emergencies"] == 0
    assert dispatch["emergencies_by_category"] == {}
    assert dispatch["handoffs_sent"] == 0
    assert dispatch["handoff_ack_p50_seconds"] is None
