"""`pbx-bridge guard`, and `serve` with its guard beside it."""

from __future__ import annotations

import asyncio

import click

from pbx_bridge.app import serve as serve_app
from pbx_bridge.commands.common import cli_settings, fail, say
from pbx_bridge.config import Settings
from pbx_bridge.errors import StartupError
from pbx_bridge.guard.launch import guard_beside, hold_lock, lock_path
from pbx_bridge.guard.main import run_guard
from pbx_bridge.logging import configure_logging


@click.command("guard")
def guard_command() -> None:
    """Move every call in our Stasis app to the queue while the controller does not answer.

    Checks the controller's /health/live every PBX_BRIDGE_GUARD_CHECK_SECONDS; after
    PBX_BRIDGE_GUARD_MISSES_TO_FAIL misses in a row it sends the calls it held, and every call
    that arrives, on to the queue. `serve` starts one by itself (PBX_BRIDGE_GUARD_WITH_SERVE);
    one guard runs per state directory.
    """
    settings = cli_settings()
    configure_logging(settings.log_format, settings.log_level)
    with hold_lock(lock_path(settings.state_dir)) as held:
        if not held:
            say(f"a guard already runs for {settings.state_dir}: nothing to do")
            return
        try:
            asyncio.run(run_guard(settings))
        except StartupError as error:
            fail(f"guard cannot start: {error}")


async def serve_with_guard(settings: Settings) -> None:
    """The controller; once it is ready, its guard beside it (reused if one runs), stopped when
    the controller stops cleanly. A controller that is killed leaves its guard running."""
    if not settings.guard_with_serve:
        await serve_app(settings)
        return
    ready = asyncio.Event()
    serving = asyncio.create_task(serve_app(settings, ready))
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait({serving, waiting}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if serving.done():  # it could not start: its error, not a guard
        await serving
        return
    async with guard_beside(settings.state_dir):
        await serving
