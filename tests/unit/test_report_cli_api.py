"""`pbx-bridge report` / `stats` and /api/report, /api/stats on a small stored day of calls."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.cli import main
from pbx_bridge.dispatch.agencies import load_agencies
from pbx_bridge.dispatch.model import Category, Location, VerificationState
from pbx_bridge.dispatch.repository import DispatchRepository
from pbx_bridge.dispatch.services import DispatchService, IncidentDraft
from pbx_bridge.reports.model import Period
from pbx_bridge.reports.query import calls_in
from pbx_bridge.screening.model import Call, Phase, TimelineEntry
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.database import make_engine, migrate
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.users import Role, User
from tests.support.api import POLICY, FakeClock, build_api

MAKASSAR = ZoneInfo("Asia/Makassar")  # Kendari's time, UTC+8
NUMBER = "081234567890"


def answered_call(channel_id: str, arrived: datetime, answer_after: float) -> Call:
    answered = arrived + timedelta(seconds=0.5)
    connected = arrived + timedelta(seconds=answer_after)
    ended = connected + timedelta(seconds=60)
    return Call(
        channel_id=channel_id,
        caller_number=NUMBER,
        caller_name="Budi",
        arrived_at=arrived,
        phase=Phase.ENDED,
        answered_at=answered,
        ended_at=ended,
        agent="PJSIP/taker-1",
        connected_at=connected,
        timeline=(
            TimelineEntry(arrived, "arrived"),
            TimelineEntry(answered, "answered"),
            TimelineEntry(answered, "speech"),
            TimelineEntry(answered, "queued", "speech prio=5"),
            TimelineEntry(connected, "agent_connected", "PJSIP/taker-1"),
            TimelineEntry(ended, "hung_up", "16"),
        ),
    )


def abandoned_call(channel_id: str, arrived: datetime) -> Call:
    answered = arrived + timedelta(seconds=0.5)
    ended = arrived + timedelta(seconds=40)
    return Call(
        channel_id=channel_id,
        caller_number=NUMBER,
        caller_name="",
        arrived_at=arrived,
        phase=Phase.ENDED,
        answered_at=answered,
        ended_at=ended,
        timeline=(
            TimelineEntry(arrived, "arrived"),
            TimelineEntry(answered, "answered"),
            TimelineEntry(answered, "speech"),
            TimelineEntry(answered, "queued", "speech prio=5"),
            TimelineEntry(ended, "hung_up", "16"),
        ),
    )


# 25 November in Makassar runs from 24 Nov 16:00 UTC to 25 Nov 16:00 UTC.
CALLS = [
    answered_call("early", datetime(2026, 11, 24, 16, 0, 5, tzinfo=UTC), 8),  # 00:00:05 local
    answered_call("mid", datetime(2026, 11, 25, 2, 0, tzinfo=UTC), 14),
    answered_call("slow", datetime(2026, 11, 25, 2, 30, tzinfo=UTC), 25),
    abandoned_call("gave-up", datetime(2026, 11, 25, 3, 0, tzinfo=UTC)),
    answered_call("next-day", datetime(2026, 11, 25, 16, 0, tzinfo=UTC), 5),  # the 26th, local
    answered_call("day-before", datetime(2026, 11, 24, 15, 59, 59, tzinfo=UTC), 5),
]


async def store(engine: AsyncEngine) -> None:
    repo = CallRepository(engine, judge_by(Thresholds()))
    for call in CALLS:
        await repo.save(call)


async def store_a_fire(engine: AsyncEngine) -> None:
    """The "mid" call (10:00 local) becomes a verified fire, handed to damkar at 10:05 local and
    acknowledged 42.5 s later."""
    clock = FakeClock(datetime(2026, 11, 25, 2, 3, tzinfo=UTC))
    service = DispatchService(
        DispatchRepository(engine), load_agencies(), POLICY, lambda _k, _d: None, now=clock
    )
    taker = User("ct", Role.CALL_TAKER)
    draft = IncidentDraft(Category.FIRE, "warung on fire", Location("Pasar Sentral"))
    incident = await service.create_incident("mid", draft, taker)
    await service.verify(incident.id, VerificationState.VERIFIED, "", taker)
    clock.advance(minutes=2)
    handoff = await service.hand_off(incident.id, "", taker)
    clock.advance(seconds=42.5)
    await service.acknowledge(handoff.id, User("damkar-desk", Role.AGENCY, "damkar"))


async def test_the_period_query_uses_local_days_on_both_backends(engine: AsyncEngine) -> None:
    await store(engine)
    rows = await calls_in(engine, Period(date(2026, 11, 25), date(2026, 11, 25), MAKASSAR))
    assert len(rows) == 4
    assert rows[0].arrived_at == datetime(2026, 11, 24, 16, 0, 5, tzinfo=UTC)
    assert rows[0].connected_at == datetime(2026, 11, 24, 16, 0, 13, tzinfo=UTC)
    assert [row.disposition for row in rows].count("abandoned_in_queue") == 1


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pbx-bridge.db'}"

    async def create() -> None:
        engine = make_engine(url)
        await migrate(engine)
        await store(engine)
        await store_a_fire(engine)
        await engine.dispose()

    asyncio.run(create())
    monkeypatch.setenv("PBX_BRIDGE_DATABASE_URL", url)
    monkeypatch.setenv("PBX_BRIDGE_REPORT_TIMEZONE", "Asia/Makassar")
    monkeypatch.setenv("PBX_BRIDGE_CONFIG", str(tmp_path / "none.env"))
    return url


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    assert NUMBER not in result.output
    assert NUMBER[-4:] not in result.output
    return result.output


def test_report_as_json_counts_the_local_day(database: str) -> None:
    report = json.loads(
        run("report", "--from", "2026-11-25", "--to", "2026-11-25", "--format", "json")
    )
    assert report["timezone"] == "Asia/Makassar"
    assert report["total_calls"] == 4
    assert report["unanswered_in_queue"] == 1
    assert report["answered_valid"] == 3
    times = report["answer_times"]
    assert times["answered"] == 3
    assert times["within_15s_pct_of_answered"] == 66.67
    assert times["within_15s_pct_of_offered"] == 50.0
    assert times["longest_wait_seconds"] == 40.0
    assert times["nena_90pct_within_15s"] is False
    assert report["dispatch"] == {
        "verified_emergencies": 1,
        "emergencies_by_category": {"fire": 1},
        "emergencies_by_agency": {"damkar": 1},
        "handoffs_sent": 1,
        "handoffs_acknowledged": 1,
        "handoff_ack_p50_seconds": 42.5,
        "handoff_ack_p90_seconds": 42.5,
        "handoff_ack_longest_seconds": 42.5,
    }


def test_report_as_table_and_csv(database: str) -> None:
    table = run("report", "--from", "2026-11-25", "--to", "2026-11-26")
    assert "total calls" in table
    assert "NENA: 90 % within 15 s" in table
    assert "not available" not in table
    lines = {line[:42].strip(): line[42:].strip() for line in table.splitlines()}
    assert lines["verified emergencies"] == "1"
    assert lines["category fire"] == "1"
    assert lines["agency damkar"] == "1"
    assert lines["acknowledged in, p50 / p90 / max seconds"] == "42.5 / 42.5 / 42.5"
    rows = dict(
        csv.reader(
            io.StringIO(
                run("report", "--from", "2026-11-25", "--to", "2026-11-26", "--format", "csv")
            )
        )
    )
    assert rows["total_calls"] == "5"
    assert rows["answer_times.answer_p50_seconds"] == "8.0"
    assert rows["dispatch.emergencies_by_category.fire"] == "1"
    assert rows["dispatch.emergencies_by_agency.damkar"] == "1"
    assert rows["dispatch.handoff_ack_longest_seconds"] == "42.5"


def test_stats_by_hour_lists_every_local_hour(database: str) -> None:
    out = run(
        "stats", "--from", "2026-11-25", "--to", "2026-11-25", "--by", "hour", "--format", "json"
    )
    stats = json.loads(out)
    assert len(stats["buckets"]) == 24
    assert stats["buckets"][0]["start"] == "2026-11-25T00:00:00+08:00"
    assert stats["buckets"][0]["offered"] == 1
    assert stats["buckets"][10]["offered"] == 2  # 10:00 and 10:30 local
    assert stats["total"]["offered"] == 4
    lines = run(
        "stats", "--from", "2026-11-25", "--to", "2026-11-25", "--by", "hour", "--format", "csv"
    ).splitlines()
    assert lines[0].startswith("start,offered,answered,")
    assert len(lines) == 1 + 24 + 1  # header, hours, total
    assert lines[-1].startswith("total,4,3,")
    table = run("stats", "--from", "2026-11-24", "--to", "2026-11-26")
    assert "2026-11-25" in table
    assert "total" in table


def test_a_period_that_ends_before_it_starts_is_one_clear_line(database: str) -> None:
    result = CliRunner().invoke(main, ["stats", "--from", "2026-11-25", "--to", "2026-11-24"])
    assert result.exit_code == 2
    assert "ends (2026-11-24) before it starts (2026-11-25)" in result.output


def test_an_unknown_report_timezone_names_the_setting(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PBX_BRIDGE_REPORT_TIMEZONE", "Asia/Kendari")
    result = CliRunner().invoke(main, ["report", "--from", "2026-11-25", "--to", "2026-11-25"])
    assert result.exit_code == 2
    assert "setting report_timezone (PBX_BRIDGE_REPORT_TIMEZONE)" in result.output


async def test_the_api_gives_the_same_report_and_stats_to_the_centre(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'api.db'}")
    await migrate(engine)
    await store(engine)
    await store_a_fire(engine)
    api = await build_api(engine, calls=0, report_zone=MAKASSAR)
    async with TestClient(TestServer(api.app)) as client:
        assert (await client.get("/api/report?from=2026-11-25&to=2026-11-25")).status == 401
        for who in ("ct", "sv", "admin"):
            report = await client.get(
                "/api/report?from=2026-11-25&to=2026-11-25", headers=api.auth(who)
            )
            assert report.status == 200, who
            body = await report.json()
            assert (body["from"], body["to"]) == ("2026-11-25", "2026-11-25")
            assert body["total_calls"] == 4
            assert body["dispatch"]["emergencies_by_agency"] == {"damkar": 1}
        auth = api.auth("ct")
        stats = await client.get("/api/stats?from=2026-11-25&to=2026-11-26&by=day", headers=auth)
        assert [b["offered"] for b in (await stats.json())["buckets"]] == [4, 1]
        exported = await client.get(
            "/api/stats?from=2026-11-25&to=2026-11-25&format=csv", headers=auth
        )
        assert exported.content_type == "text/csv"
        assert NUMBER not in await exported.text()
        exported = await client.get(
            "/api/report?from=2026-11-25&to=2026-11-25&format=csv", headers=auth
        )
        assert "dispatch.emergencies_by_category.fire,1" in await exported.text()
    await engine.dispose()


async def test_an_agency_may_not_read_the_centres_figures(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'api.db'}")
    await migrate(engine)
    api = await build_api(engine, calls=0)
    async with TestClient(TestServer(api.app)) as client:
        for path in ("/api/report", "/api/stats"):
            response = await client.get(
                f"{path}?from=2026-11-25&to=2026-11-25", headers=api.auth("damkar")
            )
            assert response.status == 403, path
            assert "role agency may not" in (await response.json())["error"]
    await engine.dispose()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=2026-11-25", "from"),
        ("from=2026-11-25", "to"),
        ("from=x&to=2026-11-25", "from"),
        ("from=1764028800&to=2026-11-25", "from"),  # a Unix time is not a local day
        ("from=2026-11-25T00:00&to=2026-11-25", "from"),
        ("from=2026-11-24&from=2026-11-25&to=2026-11-25", "from"),  # which one?
        ("from=2026-11-25&to=2026-11-24", "to"),  # ends before it starts
        ("from=2025-01-01&to=2026-11-25", "to"),  # more than 366 days
        ("from=0001-01-01&to=0001-01-02", "from"),  # out of datetime's reach in UTC
        ("from=2026-11-25&to=2026-11-25&format=xml", "format"),
        ("from=2026-11-25&to=2026-11-25&by=week", "by"),
    ],
)
async def test_bad_report_queries_are_422_naming_the_field(
    tmp_path: Path, query: str, field: str
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'api.db'}")
    await migrate(engine)
    api = await build_api(engine, calls=0, users=False)
    async with TestClient(TestServer(api.app)) as client:
        response = await client.get(f"/api/stats?{query}", headers=api.auth("admin"))
        assert response.status == 422, query
        assert (await response.json())["field"] == field
    await engine.dispose()
