"""The console in a real browser: Debian's Chromium, headless, driven by Selenium.

The server is the real aiohttp application built from the composition root's pieces (store,
dispatch, event bus, reports, users) on a free 127.0.0.1 port, over a temporary SQLite store
seeded with today's calls, with users of every role and a fake AMI standing in for app_queue.
Nothing is downloaded: Selenium Manager is bypassed with Debian's chromedriver.

With CI=true a missing Chromium fails the run; elsewhere these tests skip and say what to install.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.dispatch.agencies import load_agencies
from pbx_bridge.dispatch.figures import IncidentFigures
from pbx_bridge.dispatch.model import HandoffPolicy
from pbx_bridge.dispatch.repository import DispatchRepository
from pbx_bridge.dispatch.services import DispatchService
from pbx_bridge.queue.takers import load_takers
from pbx_bridge.reports.service import Reports
from pbx_bridge.screening.model import Call, Phase, QueueReason, TimelineEntry
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.database import make_engine, migrate
from pbx_bridge.store.privacy import PrivacyRepository
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.users import Role, UserRepository
from pbx_bridge.web.api import ApiParts, Health, build_web_app
from pbx_bridge.web.auth import Authenticator
from pbx_bridge.web.events import EventBus
from tests.support.ci import missing as missing_part
from tests.support.fake_app_queue import FakeAmi

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "apt-get install -y chromium chromium-driver"
ADMIN_TOKEN = "browser-admin-token"  # noqa: S105 - a test token
ZONE = ZoneInfo("Asia/Makassar")
NUMBER = "081234567890"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _call(
    call_id: str,
    arrived: datetime,
    *,
    number: str = "081355550000",
    reason: str = "speech",
    agent: str = "",
    answer_after: float | None = None,
    talk: float | None = 60.0,
    hang_up_after: float | None = None,
) -> Call:
    """A call as the screening runtime would store it: answered by us at once, then queued."""
    answered = arrived + timedelta(seconds=0.3)
    timeline = [TimelineEntry(arrived, "arrived"), TimelineEntry(answered, "answered")]
    if reason == "pressed_55":
        timeline += [
            TimelineEntry(answered + timedelta(seconds=9), "dtmf", "5"),
            TimelineEntry(answered + timedelta(seconds=9.5), "dtmf", "5"),
        ]
        queued = answered + timedelta(seconds=9.5)
        priority = 10
    elif reason == "speech":
        timeline.append(TimelineEntry(answered + timedelta(seconds=2), "speech"))
        queued = answered + timedelta(seconds=2)
        priority = 5
    else:
        queued = answered
        priority = 0
    if reason in {"speech", "pressed_55"}:
        timeline.append(TimelineEntry(queued, "queued", f"{reason} prio={priority}"))
    connected = ended = None
    if agent and answer_after is not None:
        connected = arrived + timedelta(seconds=answer_after)
        timeline.append(TimelineEntry(connected, "agent_connected", agent))
        if talk is not None:
            ended = connected + timedelta(seconds=talk)
            timeline.append(TimelineEntry(ended, "agent_completed", f"{agent} ended_by=caller"))
    elif hang_up_after is not None:
        ended = arrived + timedelta(seconds=hang_up_after)
    if ended is not None:
        timeline.append(TimelineEntry(ended, "hung_up", "16"))
    return Call(
        channel_id=call_id,
        caller_number=number,
        caller_name="",
        arrived_at=arrived,
        phase=Phase.ENDED if ended else Phase.CONNECTED,
        answered_at=answered,
        ended_at=ended,
        hangup_cause=16 if ended else None,
        queue_reason=QueueReason(reason) if reason in {"speech", "pressed_55"} else None,
        queue_priority=priority or None,
        cannot_speak=reason == "pressed_55",
        agent=agent,
        connected_at=connected,
        timeline=tuple(timeline),
    )


def seed_calls(now: datetime) -> list[Call]:
    """Today's calls (local day): answered valid, abandoned, hung up at once, silent, a 55
    caller now on the line with ct-01 who called earlier today too."""
    midnight = datetime.combine(now.astimezone(ZONE).date(), datetime.min.time(), ZONE)
    start = max(now - timedelta(hours=3), midnight.astimezone(UTC) + timedelta(minutes=1))
    step = (now - timedelta(minutes=2) - start) / 10
    return [
        _call("c-early", start, number=NUMBER, hang_up_after=4, reason="none", talk=None),
        _call("c-ok-1", start + step, agent="ct-02", answer_after=8),
        _call("c-ok-2", start + 2 * step, agent="ct-03", answer_after=22),
        _call("c-ok-3", start + 3 * step, agent="ct-02", answer_after=12, talk=6),
        _call("c-gone", start + 4 * step, hang_up_after=45),
        _call("c-silent", start + 5 * step, reason="none", hang_up_after=2, talk=None),
        _call("c-fire-2", start + 6 * step, agent="ct-03", answer_after=5),
        _call("c-info", start + 7 * step, agent="ct-01", answer_after=9, talk=40),
        _call("c-live-55", now - timedelta(seconds=50), number=NUMBER, reason="pressed_55",
              agent="ct-01", answer_after=16, talk=None),
    ]  # fmt: skip


@dataclass
class Console:
    """The running console: its URL, tokens by user, the fake AMI, the store's URL."""

    url: str
    database_url: str
    ami: FakeAmi
    bus: EventBus
    loop: asyncio.AbstractEventLoop
    tokens: dict[str, str] = field(default_factory=dict)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """An event as the composition root would publish it (thread-safe)."""
        self.loop.call_soon_threadsafe(self.bus.publish, kind, data)

    def run(self, work: Any) -> Any:
        """Run a coroutine function against the store, on a fresh engine, from the test."""

        async def go() -> Any:
            engine = make_engine(self.database_url)
            try:
                return await work(engine)
            finally:
                await engine.dispose()

        return asyncio.run(go())


class ServerThread(threading.Thread):
    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database_url = f"sqlite+aiosqlite:///{database}"
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.stopping: asyncio.Event | None = None
        self.console: Console | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as error:  # handed to the fixture, which fails on it
            self.error = error
            self.ready.set()
        finally:
            self.loop.close()

    async def _build(self, engine: AsyncEngine) -> tuple[web.Application, Console]:
        calls = CallRepository(engine, judge_by(Thresholds()))
        for call in seed_calls(datetime.now(UTC)):
            await calls.save(call)
        users = UserRepository(engine)
        tokens = {
            "ct-01": await users.add("ct-01", Role.CALL_TAKER),
            "sv-01": await users.add("sv-01", Role.SUPERVISOR),
            "damkar": await users.add("damkar", Role.AGENCY, "damkar"),
            "admin": ADMIN_TOKEN,
        }
        bus = EventBus(100)
        ami = FakeAmi()
        policy = HandoffPolicy(timedelta(minutes=3), timedelta(minutes=3))
        dispatch = DispatchService(DispatchRepository(engine), load_agencies(), policy, bus.publish)

        async def database_ok() -> bool:
            return True

        parts = ApiParts(
            calls=calls,
            dispatch=dispatch,
            privacy=PrivacyRepository(engine),
            authenticator=Authenticator(users, ADMIN_TOKEN),
            events=bus,
            reports=Reports(engine, ZONE, dispatch=IncidentFigures(engine)),
            ami=ami,
            takers=tuple(load_takers()),
        )
        app = build_web_app(Health(lambda: True, lambda: True, database_ok), parts)
        console = Console("", self.database_url, ami, bus, self.loop, tokens)
        return app, console

    async def _serve(self) -> None:
        self.stopping = asyncio.Event()
        engine = make_engine(self.database_url)
        await migrate(engine)
        app, console = await self._build(engine)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        console.url = f"http://127.0.0.1:{port}"
        self.console = console
        self.ready.set()
        await self.stopping.wait()
        await runner.shutdown()
        await runner.cleanup()
        await engine.dispose()

    def stop(self) -> None:
        if self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)
        self.join(15)


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    server = ServerThread(tmp_path_factory.mktemp("console") / "console.db")
    server.start()
    server.ready.wait(30)
    if server.error is not None:
        raise server.error
    assert server.console is not None
    yield server.console
    server.stop()


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is missing: {INSTALL}"
    try:
        import selenium  # noqa: F401, PLC0415
    except ImportError:
        return "selenium is not installed: pip install -r requirements.lock"
    return None


@pytest.fixture(scope="session")
def driver() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        missing_part(missing, tests="browser")
    from selenium import webdriver  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    profile = tempfile.mkdtemp(prefix="pbx-console-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1440,1100",
        "--lang=id-ID",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(flag)
    # An explicit chromedriver: Selenium Manager has nothing to look up or download.
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(20)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(driver: Any, console: Console) -> Any:
    """A fresh console page: no token, Indonesian."""
    driver.get(f"{console.url}/console/")
    driver.execute_script("sessionStorage.clear(); localStorage.clear();")
    driver.get(f"{console.url}/console/")
    return driver
