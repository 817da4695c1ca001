"""Builds the API over a real SQLite store, with users of every role and a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.dispatch.agencies import load_agencies
from pbx_bridge.dispatch.model import HandoffPolicy
from pbx_bridge.dispatch.repository import DispatchRepository
from pbx_bridge.dispatch.services import DispatchService
from pbx_bridge.queue.takers import load_takers
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.database import make_engine, migrate
from pbx_bridge.store.privacy import PrivacyRepository
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.users import Role, UserRepository
from pbx_bridge.web.api import ApiParts, Health, build_web_app
from pbx_bridge.web.auth import Authenticator
from pbx_bridge.web.events import EventBus
from pbx_bridge.wiring import centre_reports
from tests.support.calls import T0, ended_call
from tests.support.fake_app_queue import FakeAmi

JAKARTA = ZoneInfo("Asia/Jakarta")
ADMIN_TOKEN = "s3cret"  # noqa: S105 - a test token
POLICY = HandoffPolicy(ack_timeout=timedelta(minutes=3), supervisor_timeout=timedelta(minutes=2))


@dataclass
class FakeClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


async def database_ok() -> bool:
    return True


@dataclass
class Api:
    app: web.Application
    parts: ApiParts
    clock: FakeClock
    ami: FakeAmi
    tokens: dict[str, str] = field(default_factory=dict)  # user name -> token

    def auth(self, who: str) -> dict[str, str]:
        token = ADMIN_TOKEN if who == "admin" else self.tokens[who]
        return {"Authorization": f"Bearer {token}"}


async def build_api(
    engine: AsyncEngine,
    *,
    calls: int = 3,
    users: bool = True,
    health: Health | None = None,
    report_zone: ZoneInfo = JAKARTA,
) -> Api:
    """The API with calls c1..cN stored and users ct (call taker), sv, damkar, police, dinkes.

    Reports read the same store, with the incident records' figures, in `report_zone`.
    """
    clock = FakeClock()
    call_repo = CallRepository(engine, judge_by(Thresholds()))
    for index in range(1, calls + 1):
        await call_repo.save(ended_call(f"c{index}"))
    user_repo = UserRepository(engine)
    tokens = {}
    if users:
        tokens = {
            "ct": await user_repo.add("ct", Role.CALL_TAKER),
            "sv": await user_repo.add("sv", Role.SUPERVISOR),
            "damkar": await user_repo.add("damkar", Role.AGENCY, "damkar"),
            "police": await user_repo.add("police", Role.AGENCY, "police"),
            "dinkes": await user_repo.add("dinkes", Role.AGENCY, "dinkes"),
            "ct-01": await user_repo.add("ct-01", Role.CALL_TAKER),  # named by SIP id
        }
    events = EventBus(queue_size=50)
    ami = FakeAmi()
    dispatch = DispatchService(
        DispatchRepository(engine), load_agencies(), POLICY, events.publish, now=clock
    )
    parts = ApiParts(
        calls=call_repo,
        dispatch=dispatch,
        privacy=PrivacyRepository(engine),
        authenticator=Authenticator(user_repo, ADMIN_TOKEN),
        events=events,
        reports=centre_reports(engine, report_zone),
        ami=ami,
        takers=tuple(load_takers()),
    )
    app = build_web_app(health or Health(lambda: True, lambda: False, database_ok), parts)
    return Api(app, parts, clock, ami, tokens)


# Fixtures for the API test modules, imported by them: the API over one SQLite file (these
# modules replace the two-backend `engine` of tests/unit/conftest.py), and a client for it.
@pytest.fixture(name="engine")
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'api.db'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(name="client")
async def api_client(api: Api) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(api.app)) as client:
        yield client
