"""The guard process: built from the settings, run until SIGTERM or SIGINT.

It needs only its own ARI user (guard_ari_*) and the controller's API address: no AMI, no
database, no API token.
"""

from __future__ import annotations

import asyncio
import signal

import aiohttp
import structlog
from aiohttp import web

from pbx_bridge.asterisk.ari import AriClient, AriError, AriUnavailable
from pbx_bridge.config import Settings
from pbx_bridge.errors import StartupError
from pbx_bridge.guard.decide import GuardConfig, held_limit
from pbx_bridge.guard.liveness import HttpProbe, live_url, trust_own_certificate
from pbx_bridge.guard.metrics import serve_metrics
from pbx_bridge.guard.runner import Guard

log = structlog.get_logger(__name__)

REQUEST_SECONDS = 2.0  # one ARI request; a move that times out is tried again at the next check


def guard_config(settings: Settings) -> GuardConfig:
    return GuardConfig(
        misses_to_fail=settings.guard_misses_to_fail,
        held_limit_seconds=held_limit(
            settings.listen_seconds, settings.await_55_seconds, settings.guard_prompts_seconds
        ),
    )


async def check_credentials(ari: AriClient, settings: Settings) -> None:
    """A wrong guard password is a start-up error; an Asterisk that is down is waited for."""
    try:
        await ari.info()
    except AriUnavailable as error:
        log.warning("guard.ari_unavailable", error=str(error))
    except AriError as error:
        if error.status == 401:
            raise StartupError(
                "guard_ari_password",
                f"ARI at {settings.ari_url} refused user {settings.guard_ari_username!r}: "
                "check PBX_BRIDGE_GUARD_ARI_USERNAME and _GUARD_ARI_PASSWORD against ari.conf",
            ) from error
        raise StartupError("ari_url", str(error)) from error


async def run_guard(settings: Settings) -> None:
    secret = settings.guard_ari_password
    if secret is None or not secret.get_secret_value():
        raise StartupError(
            "guard_ari_password",
            "not set: the guard has its own ARI user (ari.conf); `pbx-bridge sandbox up` "
            "generates one, or set it in pbx-bridge.env",
        )
    async with aiohttp.ClientSession() as session:
        ari = AriClient(
            session,
            base_url=settings.ari_url,
            username=settings.guard_ari_username,
            password=secret.get_secret_value(),
            app=settings.ari_app,
            request_timeout=REQUEST_SECONDS,
        )
        await check_credentials(ari, settings)
        probe = HttpProbe(
            session,
            live_url(settings),
            timeout=settings.guard_check_seconds,
            tls=trust_own_certificate(settings.api_tls_cert),
        )
        guard = Guard(
            ari,
            probe,
            app=settings.ari_app,
            config=guard_config(settings),
            queue_context=settings.queue_context,
            priority=settings.priority_speech,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        metrics_site = await _metrics_site(settings)
        task = asyncio.create_task(guard.run(settings.guard_check_seconds), name="guard")
        await stop.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if metrics_site is not None:
            await metrics_site.cleanup()
        log.info("guard.stopped", moved=dict(guard.moved))


async def _metrics_site(settings: Settings) -> web.AppRunner | None:
    """The guard's /metrics; a port already taken is said and the guard goes on without."""
    if not settings.guard_metrics_port:
        return None
    try:
        site = await serve_metrics(settings.api_host, settings.guard_metrics_port)
    except OSError as error:
        log.error(  # noqa: TRY400 - one line says it: the port is taken
            "guard.metrics_not_served",
            port=settings.guard_metrics_port,
            error=str(error),
            fix="set PBX_BRIDGE_GUARD_METRICS_PORT to a free port (0: none)",
        )
        return None
    log.info(
        "guard.metrics", url=f"http://{settings.api_host}:{settings.guard_metrics_port}/metrics"
    )
    return site
