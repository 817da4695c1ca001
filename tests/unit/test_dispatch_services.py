"""The dispatch use cases over a real store: races, the escalation loop, start-up checks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.config import Settings
from pbx_bridge.dispatch import escalation
from pbx_bridge.dispatch.model import (
    Category,
    HandoffState,
    Location,
    LocationSource,
    VerificationState,
)
from pbx_bridge.dispatch.services import Conflict, DispatchService, IncidentDraft, NotFound
from pbx_bridge.errors import StartupError
from pbx_bridge.store.database import make_engine, migrate
from pbx_bridge.store.users import Role, User
from pbx_bridge.wiring import agencies
from tests.support.api import Api, build_api

CT = User("ct", Role.CALL_TAKER)
DINKES = User("dinkes-desk", Role.AGENCY, "dinkes")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'dispatch.db'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def api(engine: AsyncEngine) -> Api:
    return await build_api(engine, users=False)


async def verified_accident(service: DispatchService) -> int:
    location = Location("Jl. Ahmad Yani km 4", -3.99, 122.51, LocationSource.NETWORK)
    draft = IncidentDraft(Category.ACCIDENT, "two motorbikes", location, priority=1)
    incident = await service.create_incident("c1", draft, CT)
    await service.verify(incident.id, VerificationState.VERIFIED, "", CT)
    return incident.id


async def test_an_incident_keeps_its_location_and_its_source(api: Api) -> None:
    service = api.parts.dispatch
    incident_id = await verified_accident(service)
    detail = await service.visible_incident(incident_id, CT)
    assert detail.incident.location.source is LocationSource.NETWORK
    assert detail.incident.location.latitude == -3.99
    assert detail.incident.verification is VerificationState.VERIFIED
    with pytest.raises(NotFound):
        await service.visible_incident(incident_id, DINKES)  # not handed to dinkes yet


async def test_acknowledgement_racing_the_escalation_loop_is_applied_exactly_once(
    api: Api,
) -> None:
    """Both step the same pending handoff; the store takes one, the other re-reads and steps."""
    service = api.parts.dispatch
    handoff = await service.hand_off(await verified_accident(service), "", CT)
    api.clock.advance(minutes=3)
    escalated, acknowledged = await asyncio.gather(
        service.escalate_due(), service.acknowledge(handoff.id, DINKES)
    )
    assert acknowledged.state is HandoffState.ACKNOWLEDGED
    stored = await service.repo.handoff(handoff.id)
    assert stored is not None
    assert stored.state is HandoffState.ACKNOWLEDGED
    kinds = [t.kind for t in await service.repo.timeline(handoff.incident_id)]
    assert kinds.count("handoff_acknowledged") == 1
    assert kinds.count("handoff_escalated_to_supervisor") == escalated
    again = await service.acknowledge(handoff.id, DINKES)  # idempotent
    assert again == stored


async def test_the_escalation_loop_survives_a_failing_round(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = api.parts.dispatch
    rounds = 0
    second_round = asyncio.Event()

    async def flaky() -> int:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise OSError("database is locked")
        second_round.set()
        return 0

    monkeypatch.setattr(service, "escalate_due", flaky)
    task = asyncio.create_task(escalation.escalate_forever(service, 0.01))
    # Wait for the second round rather than a fixed 0.1 s: the first round's logged traceback
    # can take longer than that on a loaded machine.
    async with asyncio.timeout(5):
        await second_round.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert rounds >= 2


async def test_a_call_is_one_incident_or_one_closure(api: Api) -> None:
    service = api.parts.dispatch
    await verified_accident(service)
    with pytest.raises(Conflict):
        await service.create_incident("c1", IncidentDraft(Category.FIRE, "", Location()), CT)
    with pytest.raises(NotFound):
        await service.attach_call("c2", 404, CT)


def test_a_bad_agencies_file_stops_start_up_naming_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(StartupError) as raised:
        agencies(Settings(agencies_file=missing))
    assert "PBX_BRIDGE_AGENCIES_FILE" in str(raised.value)
    assert agencies(Settings()).route(Category.FIRE).primary == "damkar"
