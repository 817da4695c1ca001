"""The API against its users and the LAN: tokens that die (revoked, rotated, expired) and take
their open event streams with them, a long admin token, guessing throttled, security headers
on every response, and TLS from the operator's certificate."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge import sandbox
from pbx_bridge.app import is_loopback, start_web
from pbx_bridge.config import MIN_API_TOKEN_LENGTH, Settings
from pbx_bridge.errors import StartupError
from pbx_bridge.store.users import Role, UserRepository
from pbx_bridge.web import events
from pbx_bridge.web.auth import check_admin_token
from pbx_bridge.web.throttle import AuthThrottle
from pbx_bridge.web.tls import server_context
from tests.support.api import Api, api_client, build_api, sqlite_engine  # noqa: F401 - fixtures


@pytest.fixture
async def api(engine: AsyncEngine) -> Api:
    return await build_api(engine, calls=1)


# --- tokens: revoke, rotate, expiry


async def test_a_revoked_token_is_refused_and_a_rotated_one_replaces_it(
    api: Api, client: TestClient[Any, Any], engine: AsyncEngine
) -> None:
    users = UserRepository(engine)
    assert (await client.get("/api/me", headers=api.auth("sv"))).status == 200
    await users.revoke("sv")
    assert (await client.get("/api/me", headers=api.auth("sv"))).status == 401
    new = await users.rotate("sv")
    assert (await client.get("/api/me", headers=api.auth("sv"))).status == 401  # the old one
    fresh = await client.get("/api/me", headers={"Authorization": f"Bearer {new}"})
    assert (await fresh.json())["name"] == "sv"
    assert (await client.get("/api/me", headers=api.auth("ct"))).status == 200  # others untouched


async def test_an_expired_token_is_refused_and_one_within_its_days_works(
    client: TestClient[Any, Any], engine: AsyncEngine
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=30)
    expired = await UserRepository(engine, now=lambda: long_ago).add(
        "old", Role.SUPERVISOR, expires_days=7
    )
    current = await UserRepository(engine).add("new", Role.SUPERVISOR, expires_days=7)
    old = await client.get("/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert old.status == 401
    new = await client.get("/api/me", headers={"Authorization": f"Bearer {current}"})
    assert new.status == 200


async def test_expiry_is_counted_from_the_repositorys_clock(engine: AsyncEngine) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    clock = [now]
    users = UserRepository(engine, now=lambda: clock[0])
    token = await users.add("temp", Role.CALL_TAKER, expires_days=2)
    clock[0] = now + timedelta(days=2) - timedelta(seconds=1)
    assert await users.by_token(token) is not None
    clock[0] = now + timedelta(days=2)
    assert await users.by_token(token) is None
    renewed = await users.rotate("temp", expires_days=1)
    assert await users.by_token(renewed) is not None
    [entry] = [e for e in await users.entries() if e.user.name == "temp"]
    assert entry.expires_at == clock[0] + timedelta(days=1)


async def test_an_open_event_stream_ends_when_its_token_is_revoked(
    api: Api, client: TestClient[Any, Any], engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stream re-identifies its token (here on every keepalive): revoked, it closes."""
    monkeypatch.setattr(events, "RECHECK_SECONDS", 0.0)
    monkeypatch.setattr(events, "KEEPALIVE_SECONDS", 0.01)
    other = await client.get("/api/events", headers=api.auth("ct"))
    stream = await client.get("/api/events", headers=api.auth("sv"))
    assert stream.status == 200
    assert await stream.content.readline() == b": connected\n"
    await UserRepository(engine).revoke("sv")
    async with asyncio.timeout(10):  # a failure, not a measurement: without the fix it hangs
        rest = await stream.content.read()
    assert b": token revoked or expired" in rest
    assert not other.content.at_eof()  # ct's stream goes on
    other.close()


# --- the admin token


def test_a_short_admin_token_is_refused_at_start_with_what_to_do() -> None:
    with pytest.raises(StartupError) as refused:
        check_admin_token("s3cret-but-short")
    assert refused.value.setting == "api_token"
    assert "PBX_BRIDGE_API_TOKEN" in str(refused.value)
    assert "at least 32" in str(refused.value)
    long_enough = "x" * MIN_API_TOKEN_LENGTH
    assert check_admin_token(long_enough) == long_enough


def test_the_sandbox_replaces_a_short_api_token_and_keeps_the_other_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    env = tmp_path / "pbx-bridge" / "sandbox.env"
    env.parent.mkdir()
    env.write_text(
        "PBX_BRIDGE_ARI_PASSWORD=ari\nPBX_BRIDGE_AMI_PASSWORD=ami\n"
        "PBX_BRIDGE_API_TOKEN=short\nPBX_BRIDGE_SIP_SECRET=sip\n"
    )
    values = sandbox.ensure_credentials()
    assert len(values["PBX_BRIDGE_API_TOKEN"]) >= MIN_API_TOKEN_LENGTH
    assert values["PBX_BRIDGE_ARI_PASSWORD"] == "ari"  # noqa: S105 - a test value
    assert f"PBX_BRIDGE_API_TOKEN={values['PBX_BRIDGE_API_TOKEN']}\n" in env.read_text()
    check_admin_token(values["PBX_BRIDGE_API_TOKEN"])


# --- failed authentication throttled


def throttled_count() -> float:
    return REGISTRY.get_sample_value("pbx_bridge_auth_throttled_total") or 0.0


async def test_guessing_tokens_is_throttled_with_429_and_retry_after(
    api: Api, client: TestClient[Any, Any]
) -> None:
    """After `limit` failures the address's wrong tokens get 429 with Retry-After, counted; a
    valid token from the same address is still served (a centre shares one address)."""
    limit = api.parts.throttle.limit
    throttled = throttled_count()
    for guess in range(limit):
        wrong = {"Authorization": f"Bearer guess-{guess}"}
        assert (await client.get("/api/me", headers=wrong)).status == 401
    refused = await client.get("/api/me", headers={"Authorization": "Bearer guess-again"})
    assert refused.status == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= api.parts.throttle.window
    assert throttled_count() == throttled + 1
    assert (await client.get("/api/me", headers=api.auth("sv"))).status == 200


async def test_successful_requests_are_not_counted_as_failures(
    api: Api, client: TestClient[Any, Any]
) -> None:
    limit = api.parts.throttle.limit
    for _ in range(limit - 1):
        assert (await client.get("/api/me", headers={"Authorization": "Bearer no"})).status == 401
    for _ in range(3 * limit):
        assert (await client.get("/api/me", headers=api.auth("ct"))).status == 200
    # The limit-th failure is still answered; only then is the address throttled.
    assert (await client.get("/api/me", headers={"Authorization": "Bearer no"})).status == 401
    assert (await client.get("/api/me", headers={"Authorization": "Bearer no"})).status == 429
    assert (await client.get("/api/me", headers=api.auth("ct"))).status == 200


async def test_a_client_not_signed_in_yet_is_not_counted_as_guessing(
    api: Api, client: TestClient[Any, Any]
) -> None:
    for _ in range(3 * api.parts.throttle.limit):
        assert (await client.get("/api/me")).status == 401
    assert (await client.get("/console/")).status == 200  # outside /api: never throttled


def test_the_throttle_is_per_address_lets_go_after_the_window_and_stays_bounded() -> None:
    clock = [1000.0]
    throttle = AuthThrottle(limit=3, window=60, addresses=100, now=lambda: clock[0])
    for _ in range(3):
        throttle.failed("10.0.0.9")
    assert throttle.retry_after("10.0.0.9") == 60
    assert throttle.retry_after("10.0.0.10") == 0
    clock[0] += 59.5
    assert throttle.retry_after("10.0.0.9") == 1
    clock[0] += 0.5
    assert throttle.retry_after("10.0.0.9") == 0
    for host in range(1000):
        throttle.failed(f"10.1.{host // 256}.{host % 256}")
    assert throttle.tracked == 100


# --- security headers


@pytest.mark.parametrize(
    "path",
    ["/api/me", "/api/nowhere", "/health", "/metrics", "/openapi.json", "/console/app.js"],
)
async def test_every_response_carries_the_security_headers(
    api: Api, client: TestClient[Any, Any], path: str
) -> None:
    response = await client.get(path, headers=api.auth("sv"))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_api_answers_and_errors_are_never_cached(
    api: Api, client: TestClient[Any, Any]
) -> None:
    for response in (
        await client.get("/api/calls", headers=api.auth("sv")),
        await client.get("/api/calls"),  # 401
    ):
        assert response.headers["Cache-Control"] == "no-store"
        assert (
            response.headers["Content-Security-Policy"]
            == "default-src 'none'; frame-ancestors 'none'"
        )


@pytest.mark.parametrize("path", ["/console/", "/console/index.html", "/console/app.js"])
async def test_every_console_file_carries_the_consoles_policy(
    client: TestClient[Any, Any], path: str
) -> None:
    response = await client.get(path)
    assert response.status == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# --- TLS


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "api.crt", folder / "api.key"
    command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
    command += " -addext subjectAltName=IP:127.0.0.1"
    subprocess.run(
        [*command.split(), "-keyout", key, "-out", cert], check=True, capture_output=True
    )
    return cert, key


async def test_the_api_serves_https_from_the_configured_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)

    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/health", hello)
    settings = Settings(api_host="127.0.0.1", api_port=0, api_tls_cert=cert, api_tls_key=key)
    runner = await start_web(app, settings)
    try:
        [(host, port)] = [address[:2] for address in runner.addresses]
        trusting = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession() as session:
            async with session.get(f"https://{host}:{port}/health", ssl=trusting) as response:
                assert await response.text() == "hello"
            with pytest.raises(aiohttp.ClientError):  # plain HTTP is not answered
                await session.get(f"http://{host}:{port}/health")
    finally:
        await runner.cleanup()


def test_tls_settings_that_cannot_work_stop_the_start_naming_the_setting(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    assert server_context(None, None) is None
    with pytest.raises(StartupError) as only_cert:
        server_context(cert, None)
    assert only_cert.value.setting == "api_tls_key"
    with pytest.raises(StartupError) as missing:
        server_context(tmp_path / "nope.crt", key)
    assert missing.value.setting == "api_tls_cert"
    assert "cannot read" in str(missing.value)
    with pytest.raises(StartupError) as swapped:
        server_context(key, cert)
    assert swapped.value.setting == "api_tls_cert"
    assert isinstance(server_context(cert, key), ssl.SSLContext)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("192.168.1.5", False), ("pbx.centre.lan", False)],
)  # fmt: skip
def test_plain_http_is_warned_about_unless_the_api_host_is_loopback(
    host: str, loopback: bool
) -> None:
    assert is_loopback(host) is loopback
