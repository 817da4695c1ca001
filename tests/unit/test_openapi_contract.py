"""The API keeps its OpenAPI contract: no 500, responses as documented, and no /api without a token.

Schemathesis reads the document from a real server on 127.0.0.1 (in a thread with its own loop,
since schemathesis makes blocking requests) and throws generated requests at every operation.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Err

from pbx_bridge.store.database import make_engine, migrate
from pbx_bridge.web.api import OPENAPI, OPERATIONS
from tests.support.api import ADMIN_TOKEN, Api, build_api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 25
NEGATIVE_EXAMPLES_PER_OPERATION = 15
# Generated ids rarely exist: a second pass per operation uses ids the seed created.
KNOWN_IDS = {"call_id": "c4", "incident_id": 1, "handoff_id": 1}
# Generated days rarely make a valid period: a second pass asks for the seed's day (format and
# `by` still generated), so the reports' 200s, JSON and CSV, are checked against the document.
SEED_DAY = {"from": "2026-11-25", "to": "2026-11-25"}
KNOWN_QUERIES = {"/api/report": SEED_DAY, "/api/stats": SEED_DAY}


async def seed(api: Api) -> None:
    """A few incidents in every state, so generated ids 1..3 find something to act on."""
    headers = api.auth("ct")
    async with TestClient(TestServer(api.app)) as client:
        for call, category in (("c1", "fire"), ("c2", "accident"), ("c3", "crime")):
            body = {"category": category, "description": "seed"}
            await client.post(f"/api/calls/{call}/incident", json=body, headers=headers)
        await client.post(
            "/api/incidents/1/verification", json={"state": "verified"}, headers=headers
        )
        await client.post("/api/incidents/1/handoffs", json={}, headers=headers)


class ServerThread(threading.Thread):
    """The API on a free 127.0.0.1 port, over its own SQLite store, until `stop()`."""

    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.ready = threading.Event()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._stopping = asyncio.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to the test, which fails on it
            self.error = error
            self.ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{self.database}")
        await migrate(engine)
        await seed(await build_api(engine, calls=6))  # c1..c3 on incidents, c4..c6 free
        api = await build_api_on(engine)
        runner = web.AppRunner(api.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.ready.set()
        await self._stopping.wait()
        await runner.cleanup()
        await engine.dispose()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stopping.set)
        self.join(10)


async def build_api_on(engine: Any) -> Api:
    return await build_api(engine, calls=0, users=False)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = ServerThread(tmp_path_factory.mktemp("contract") / "api.db")
    server.start()
    server.ready.wait(30)
    if server.error is not None:
        raise server.error
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


def test_every_operation_survives_generated_requests_and_answers_as_documented(
    base_url: str,
) -> None:
    """Schemathesis: every operation, valid admin token, generated bodies, queries and ids."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    tested = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        if operation.path == "/api/events":
            continue  # a stream that never ends by itself; tested in test_events.py

        known = {
            p.name: KNOWN_IDS[p.name] for p in operation.path_parameters if p.name in KNOWN_IDS
        }
        strategies = [operation.as_strategy()]
        if known:
            strategies.append(operation.as_strategy(path_parameters=known))
        if operation.path in KNOWN_QUERIES:
            strategies.append(operation.as_strategy(query=KNOWN_QUERIES[operation.path]))
        for strategy in strategies:

            @hypothesis.settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def exercise(case: Case[Any]) -> None:
                case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

            exercise()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) == len(OPERATIONS) - 1, tested
    # The reports are operations like the others now (they were routes outside the table).
    assert {"GET /api/report", "GET /api/stats"} <= set(tested)


def test_invalid_requests_never_cause_a_server_error(base_url: str) -> None:
    """Schemathesis' negative mode: wrong types, out-of-range values, broken bodies, no token."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        if operation.path == "/api/events":
            continue

        @hypothesis.settings(
            max_examples=NEGATIVE_EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        def refuse(case: Case[Any]) -> None:
            response = case.call(base_url=base_url, headers=headers)
            responses = case.operation.definition.raw["responses"]
            # An operation with nothing to break (no parameters, no body) may still answer 200,
            # and a mutation may leave a request valid: then a report may be the CSV asked for.
            assert response.status_code < 500, (case.path_parameters, case.query)
            content_type = response.headers["content-type"][0]
            if response.status_code == 400 and response.text.startswith("400, message="):
                # aiohttp's HTTP parser refused the request itself (say, a control character
                # in a header) before any handler or middleware: a plain-text 400 is all it
                # can say. Everything our code answers is JSON (or a documented CSV).
                return
            documented = responses.get(str(response.status_code), {}).get("content", {})
            assert content_type.startswith("application/json") or any(
                content_type.startswith(media) for media in documented
            ), (response.status_code, content_type, case.query, response.text[:200])

        refuse()


async def test_every_api_operation_answers_401_without_a_valid_token(tmp_path: Path) -> None:
    """No /api operation in the document answers without a token, or with a wrong one."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'api.db'}")
    await migrate(engine)
    api = await build_api(engine)
    api.parts.throttle.limit = 1_000_000  # every wrong token here is a check, not a guess
    document = api.app[OPENAPI]
    ids = {"{call_id}": "c1", "{incident_id}": "1", "{handoff_id}": "1"}
    checked = 0
    async with TestClient(TestServer(api.app)) as client:
        for path, methods in document["paths"].items():
            assert path.startswith("/api/")
            url = path
            for placeholder, value in ids.items():
                url = url.replace(placeholder, value)
            for method in methods:
                for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3"}):
                    response = await client.request(method, url, json={}, headers=headers)
                    assert response.status == 401, (method, path, headers)
                    assert "Bearer" in (await response.json())["error"]
                checked += 1
    await engine.dispose()
    assert checked == len(OPERATIONS)
