"""`pbx-bridge callbacks`: the callback worklist and callback attempts."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from datetime import UTC, datetime
from typing import Any

import click

from pbx_bridge.asterisk.ami import AmiClient
from pbx_bridge.callbacks.service import call_back
from pbx_bridge.commands.common import cli_settings, fail, say
from pbx_bridge.commands.takers import taker_by_id, with_ami
from pbx_bridge.errors import StartupError
from pbx_bridge.logging import mask_number
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.store.callbacks import CallbackNotFound, CallbackRepository
from pbx_bridge.store.privacy import PrivacyRepository
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.wiring import open_store, thresholds


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="JSON, one object per item.")
@click.option("--show-numbers", is_flag=True, help="Numbers in clear (masked by default); audited.")
@click.option(
    "--status",
    default="open",
    show_default=True,
    type=click.Choice(["open", "taken", "done"]),
    help="Which items.",
)
@click.pass_context
def callbacks(ctx: click.Context, as_json: bool, show_numbers: bool, status: str) -> None:
    """The callback worklist: callers who hung up before a call taker answered (NENA).

    Without a subcommand: list the items. `pbx-bridge callbacks call ID --taker ct-01` makes an
    attempt: the call taker's phone rings, then the caller, and the two are bridged.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = cli_settings()

    async def fetch() -> list[dict[str, Any]]:
        engine = await open_store(settings)
        try:
            items = await CallRepository(engine, judge_by(thresholds(settings))).callbacks(status)
            attempts = CallbackRepository(engine)
            for item in items:
                item["attempts"] = await attempts.attempts(item["id"])
            if show_numbers:  # every clear view of a number is audited, here as in the API
                shown = [item["call_id"] for item in items if item["caller_number"]]
                who = f"cli:{getpass.getuser()}"
                why = "pbx-bridge callbacks --show-numbers"
                await PrivacyRepository(engine).record_views(who, shown, why, datetime.now(UTC))
            return items
        finally:
            await engine.dispose()

    try:
        items = asyncio.run(fetch())
    except StartupError as error:
        fail(str(error))
    for item in items:
        if not show_numbers:
            item["caller_number"] = mask_number(item["caller_number"])
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    for item in items:
        click.echo(
            f"#{item['id']:<5} {item['created_at'][:19]}  {item['caller_number']:14} "
            f"{item['reason']:24} call {item['call_id']}  attempts {len(item['attempts'])}"
        )


@callbacks.command("call")
@click.argument("callback_id", type=int)
@click.option("--taker", "taker_id", required=True, help="The call taker who calls back.")
@click.option("--timeout", default=300.0, show_default=True, help="Seconds to wait for the end.")
def callbacks_call(callback_id: int, taker_id: str, timeout: float) -> None:
    """Call a caller back: ring the call taker, then the caller, bridge, store the outcome."""
    settings = cli_settings()
    taker = taker_by_id(settings, taker_id)

    async def attempt(ami: AmiClient) -> str:
        engine = await open_store(settings)
        try:
            return await call_back(
                ami, CallbackRepository(engine), callback_id, taker, timeout=timeout
            )
        finally:
            await engine.dispose()

    say(f"callback #{callback_id}: ringing {taker_id}, then the caller ...")
    try:
        outcome = with_ami(settings, attempt)
    except (CallbackNotFound, StartupError) as error:
        fail(str(error))
    click.echo(outcome)
    if outcome != "answered":
        sys.exit(1)
