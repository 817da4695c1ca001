"""The store writes one record per call with its timeline; the API hides it behind a token."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.repository import CallRepository
from tests.support.api import build_api
from tests.support.calls import T0, ended_call


async def test_a_saved_call_reads_back_with_durations_validity_and_timeline(
    engine: AsyncEngine,
) -> None:
    repo = CallRepository(engine, judge_by(Thresholds()))
    await repo.save(ended_call("a", 15))
    await repo.save(ended_call("b", 2))
    await repo.save(ended_call("b", 2))  # written twice, stored once
    views = {view.id: view for view in await repo.list()}
    assert set(views) == {"a", "b"}
    assert views["a"].validity == "valid"
    assert views["b"].validity == "invalid"
    assert views["a"].connected_seconds == 15.0
    assert views["a"].ring_seconds == 0.25
    assert views["a"].ended_at == T0 + timedelta(seconds=15.25)
    assert views["a"].disposition == "abandoned_in_queue"
    # The timeline as the core wrote it, entry by entry, in order.
    assert [(e["kind"], e["detail"]) for e in views["a"].timeline] == [
        (entry.kind, entry.detail) for entry in ended_call("a", 15).timeline
    ]


async def test_api_refuses_without_the_token_and_masks_numbers(engine: AsyncEngine) -> None:
    repo = CallRepository(engine, judge_by(Thresholds()))
    await repo.save(ended_call("a", 15))

    api = await build_api(engine, calls=0)
    async with TestClient(TestServer(api.app)) as client:
        assert (await client.get("/api/calls")).status == 401
        assert (
            await client.get("/api/calls", headers={"Authorization": "Bearer no"})
        ).status == 401
        response = await client.get("/api/calls", headers={"Authorization": "Bearer s3cret"})
        assert response.status == 200
        body = await response.json()
        assert body["calls"][0]["caller_number"] == "**********90"
        bad = await client.get("/api/calls?limit=abc", headers={"Authorization": "Bearer s3cret"})
        assert bad.status == 422
        assert (await bad.json())["field"] == "limit"
        health = await client.get("/health")
        assert health.status == 503
        assert (await health.json())["ami"] is False
        assert (await client.get("/metrics")).status == 200
