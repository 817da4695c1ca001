"""Parts built from the settings: what the server, the commands and the tools construct alike.

Each factory turns a bad setting into a StartupError that names it and says what to do.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.config import Settings
from pbx_bridge.dispatch.agencies import Agencies, AgencyConfigError, load_agencies
from pbx_bridge.dispatch.figures import IncidentFigures
from pbx_bridge.dispatch.model import HandoffPolicy
from pbx_bridge.errors import StartupError
from pbx_bridge.queue.takers import Taker, TakerConfigError, load_takers
from pbx_bridge.reports.service import Reports
from pbx_bridge.screening.machine import ScreeningConfig
from pbx_bridge.screening.model import SilentPolicy
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.database import make_engine, migrate

SANDBOX_HINT = "run `pbx-bridge sandbox up` (it generates the sandbox's credentials)"


def screening_config(settings: Settings) -> ScreeningConfig:
    return ScreeningConfig(
        greeting=settings.greeting_prompt,
        press_55_prompt=settings.press_55_prompt,
        closing_prompt=settings.closing_prompt,
        listen_seconds=settings.listen_seconds,
        await_55_seconds=settings.await_55_seconds,
        silent_policy=SilentPolicy(settings.silent_policy),
        priority_55=settings.priority_55,
        priority_speech=settings.priority_speech,
        priority_silent=settings.priority_silent,
    )


def thresholds(settings: Settings) -> Thresholds:
    return Thresholds(
        valid_min_seconds=settings.valid_min_seconds,
        hung_up_immediately_seconds=settings.hung_up_immediately_seconds,
    )


def handoff_policy(settings: Settings) -> HandoffPolicy:
    return HandoffPolicy(
        ack_timeout=timedelta(seconds=settings.handoff_ack_timeout_seconds),
        supervisor_timeout=timedelta(seconds=settings.handoff_supervisor_timeout_seconds),
    )


def agencies(settings: Settings) -> Agencies:
    try:
        return load_agencies(settings.agencies_file)
    except AgencyConfigError as error:
        raise StartupError("agencies_file", str(error)) from error


def centre_reports(engine: AsyncEngine, zone: ZoneInfo) -> Reports:
    """The reports over the store, the incident records' figures included (CLI and API alike)."""
    return Reports(engine, zone, dispatch=IncidentFigures(engine))


def call_takers(settings: Settings) -> tuple[Taker, ...]:
    try:
        return tuple(load_takers(settings.call_takers_file))
    except (OSError, TakerConfigError) as error:
        raise StartupError("call_takers_file", str(error)) from error


def cdr_file(settings: Settings) -> Path:
    if settings.cdr_file is not None:
        return settings.cdr_file
    from pbx_bridge.sandbox import instance_dir  # noqa: PLC0415 - sandbox default only

    return instance_dir(settings) / "log" / "cdr-custom" / "pbx-bridge-cdr.csv"


def require_secret(value: SecretStr | None, setting: str) -> str:
    if value is None or not value.get_secret_value():
        raise StartupError(setting, f"not set: {SANDBOX_HINT} or set it in pbx-bridge.env")
    return value.get_secret_value()


async def open_store(settings: Settings) -> AsyncEngine:
    url = settings.effective_database_url()
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        engine = make_engine(url)
    except Exception as error:
        raise StartupError("database_url", f"{shown} is not a usable URL: {error}") from error
    try:
        await asyncio.wait_for(migrate(engine), 15)
    except Exception as error:
        await engine.dispose()
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise StartupError("database_url", f"cannot open {shown}: {reason}") from error
    return engine
