"""The composition root: builds every part from the settings, wires them, owns every task."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import structlog
from aiohttp import web
from sqlalchemy import text

from pbx_bridge import metrics
from pbx_bridge.asterisk import security_events
from pbx_bridge.asterisk.ami import AmiAuthError, AmiClient, AmiUnavailable
from pbx_bridge.asterisk.ari import AriClient, AriError, AriUnavailable
from pbx_bridge.config import Settings
from pbx_bridge.dispatch.escalation import escalate_forever
from pbx_bridge.dispatch.repository import DispatchRepository
from pbx_bridge.dispatch.services import DispatchService
from pbx_bridge.errors import StartupError
from pbx_bridge.loop_lag import watch_loop_lag
from pbx_bridge.queue.follow import follow_queue_events
from pbx_bridge.queue.watch import QueueWatch
from pbx_bridge.reconcile.service import Reconciler
from pbx_bridge.reports.service import report_zone
from pbx_bridge.screening.model import Call, QueueReason
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.runtime import ScreeningController
from pbx_bridge.store.number_files import purge_cdr
from pbx_bridge.store.privacy import PrivacyRepository, retention_cutoff
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.spool import CallSpool
from pbx_bridge.store.users import UserRepository
from pbx_bridge.store.writer import SpoolingWriter
from pbx_bridge.web.api import ApiParts, Health, build_web_app
from pbx_bridge.web.auth import Authenticator, check_admin_token
from pbx_bridge.web.events import EventBus
from pbx_bridge.web.tls import server_context
from pbx_bridge.wiring import (
    SANDBOX_HINT,
    agencies,
    call_takers,
    cdr_file,
    centre_reports,
    handoff_policy,
    open_store,
    require_secret,
    screening_config,
    thresholds,
)

log = structlog.get_logger(__name__)


async def reconcile_forever(
    settings: Settings, calls: CallRepository, controller: ScreeningController
) -> None:
    """Now and every interval: calls Asterisk recorded that the store lacks get a record (each
    round reads only the CDR lines written since the last)."""
    path = cdr_file(settings)
    reconciler = Reconciler(path, calls, is_active=controller.holds)
    try:
        while True:
            try:
                await reconciler.round()
            except Exception:
                log.exception("reconcile.failed", path=str(path))
            await asyncio.sleep(settings.reconcile_interval_seconds)
    finally:
        reconciler.close()


async def purge_numbers_daily(
    privacy: PrivacyRepository, days: int, spool: CallSpool, cdr: Path
) -> None:
    """Now and once a day: callers' numbers older than the retention are blanked, in the
    store, the spool files and Asterisk's CDR file."""
    while True:
        try:
            now = datetime.now(UTC)
            purged = await privacy.purge_numbers(days, now)
            cutoff = retention_cutoff(days, now)
            lines = await spool.purge_numbers(cutoff)
            lines += await asyncio.to_thread(purge_cdr, cdr, cutoff)
            log.info(
                "retention.purged",
                days=days,
                calls=purged.calls,
                callbacks=purged.callbacks,
                file_lines=lines,
            )
        except Exception:
            log.exception("retention.failed")
        await asyncio.sleep(24 * 3600)


async def check_ari(ari: AriClient, settings: Settings) -> None:
    try:
        await ari.info()
    except AriUnavailable as error:
        raise StartupError(
            "ari_url", f"nothing answers at {settings.ari_url}: is Asterisk running? {SANDBOX_HINT}"
        ) from error
    except AriError as error:
        if error.status == 401:
            raise StartupError(
                "ari_password",
                f"ARI at {settings.ari_url} refused user {settings.ari_username!r}: "
                "check PBX_BRIDGE_ARI_USERNAME and PBX_BRIDGE_ARI_PASSWORD against ari.conf",
            ) from error
        raise StartupError("ari_url", str(error)) from error


async def start_ami(ami: AmiClient) -> None:
    try:
        await ami.start()
    except AmiUnavailable as error:
        raise StartupError("ami_port", f"{error}: is Asterisk running? {SANDBOX_HINT}") from error
    except AmiAuthError as error:
        raise StartupError(
            "ami_password", f"{error}: check PBX_BRIDGE_AMI_USERNAME/_PASSWORD against manager.conf"
        ) from error


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may well resolve to the LAN


async def start_web(app: web.Application, settings: Settings) -> web.AppRunner:
    tls = server_context(settings.api_tls_cert, settings.api_tls_key)
    if tls is None and not is_loopback(settings.api_host):
        # Tokens and callers' numbers would cross the LAN in clear.
        log.warning("api.plain_http_off_loopback", host=settings.api_host, fix="api_tls_cert")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.api_host, settings.api_port, ssl_context=tls).start()
    except OSError as error:
        await runner.cleanup()
        raise StartupError(
            "api_port",
            f"cannot listen on {settings.api_host}:{settings.api_port}: {error.strerror}; "
            "stop what holds it or choose another PBX_BRIDGE_API_PORT",
        ) from error
    return runner


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Running]:
    """Every part started and checked, in the order that gives the clearest error first."""
    ari_password = require_secret(settings.ari_password, "ari_password")
    ami_password = require_secret(settings.ami_password, "ami_password")
    api_token = check_admin_token(require_secret(settings.api_token, "api_token"))
    directory = agencies(settings)
    takers = call_takers(settings)
    engine = await open_store(settings)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(engine.dispose)
        session = await stack.enter_async_context(aiohttp.ClientSession())
        ari = AriClient(
            session,
            base_url=settings.ari_url,
            username=settings.ari_username,
            password=ari_password,
            app=settings.ari_app,
        )
        await check_ari(ari, settings)
        ami = AmiClient(
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_username,
            secret=ami_password,
        )
        await start_ami(ami)
        stack.callback(ami.close)
        calls = CallRepository(engine, judge_by(thresholds(settings)))

        async def database_ok() -> bool:
            try:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
            except Exception:
                return False
            return True

        # A record the database cannot take now waits in the spool; none is dropped.
        spool = await CallSpool.open(settings.spool_file())
        writer = SpoolingWriter(
            calls,
            spool,
            on_depth=metrics.SPOOLED_CALLS.set,
            on_failure=metrics.STORE_FAILURES.inc,
        )

        async def store_call(call: Call) -> None:
            await writer.save(call)

        events = EventBus(settings.events_queue_size)
        controller = ScreeningController(
            ari,
            store_call,
            config=screening_config(settings),
            queue_context=settings.queue_context,
            publish=events.publish,
            queue_events_flow=lambda: ami.connected,
        )
        security_events.follow(ami)
        health = Health(
            ari=lambda: ari.connected,
            ami=lambda: ami.connected,
            database=database_ok,
            spooled=lambda: writer.spooled,
        )
        dispatch = DispatchService(
            DispatchRepository(engine), directory, handoff_policy(settings), events.publish
        )
        reports = centre_reports(engine, report_zone(settings.report_timezone))
        parts = ApiParts(
            calls=calls,
            dispatch=dispatch,
            privacy=PrivacyRepository(engine),
            authenticator=Authenticator(UserRepository(engine), api_token),
            events=events,
            reports=reports,
            ami=ami,
            takers=takers,
        )
        web_app = build_web_app(health, parts)
        runner = await start_web(web_app, settings)
        stack.push_async_callback(runner.cleanup)
        watch = QueueWatch(ami, takers, publish=events.publish, logins=lambda: ami.logins)
        yield Running(controller, calls, writer, dispatch, parts.privacy, events, spool, ami, watch)


@dataclass(frozen=True)
class Running:
    controller: ScreeningController
    calls: CallRepository
    writer: SpoolingWriter
    dispatch: DispatchService
    privacy: PrivacyRepository
    events: EventBus  # `events.publish(kind, data)` feeds /api/events
    spool: CallSpool  # the writer's; the retention purge blanks old numbers in it too
    ami: AmiClient
    queue_watch: QueueWatch


# On SIGTERM/SIGINT, how long the calls still held in Stasis have to reach the queue.
HAND_BACK_SECONDS = 5.0


async def serve(settings: Settings, ready: asyncio.Event | None = None) -> None:
    """Run until SIGINT or SIGTERM, then hand every held call to the queue and stop.

    Every task is the TaskGroup's: the controller's run() owns its call tasks, and
    follow_queue_events its resyncs; cancelling them on the way out ends everything.
    """
    async with running(settings) as parts:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        log.info(
            "serve.ready",
            api=f"{'https' if settings.api_tls_cert else 'http'}://"
            f"{settings.api_host}:{settings.api_port}",
            ari=settings.ari_url,
            app=settings.ari_app,
        )
        if ready is not None:
            ready.set()
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(parts.controller.run(), name="screening"),
                group.create_task(
                    follow_queue_events(parts.ami, parts.controller.deliver), name="queue-events"
                ),
                group.create_task(
                    reconcile_forever(settings, parts.calls, parts.controller), name="reconcile"
                ),
                group.create_task(
                    parts.writer.drain_forever(settings.spool_retry_seconds), name="spool"
                ),
                group.create_task(
                    escalate_forever(parts.dispatch, settings.escalation_interval_seconds),
                    name="escalation",
                ),
                group.create_task(
                    purge_numbers_daily(
                        parts.privacy,
                        settings.number_retention_days,
                        parts.spool,
                        cdr_file(settings),
                    ),
                    name="retention",
                ),
                group.create_task(watch_loop_lag(), name="loop-lag"),
                group.create_task(
                    parts.queue_watch.run_forever(settings.queue_watch_seconds), name="queue-watch"
                ),
            ]
            await stop.wait()
            # Calls still screened would otherwise wait in Stasis for a controller that is
            # gone: on to the queue with what screening found so far, bounded in time.
            await parts.controller.hand_back_all(QueueReason.SHUTDOWN, HAND_BACK_SECONDS)
            for task in tasks:
                task.cancel()
        log.info("serve.stopped")
