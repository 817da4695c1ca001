"""`pbx-bridge replay`: a centre's load against the sandbox, checked against its truth."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import click

from pbx_bridge.commands.common import cli_settings, fail, say
from pbx_bridge.replay.controller import ControllerError
from pbx_bridge.replay.mix import MixError, load_mix, shipped
from pbx_bridge.replay.run import ReplayError, replay
from pbx_bridge.sandbox import SandboxError

MISMATCHES_SHOWN = 30


@click.command("replay")
@click.option(
    "--mix",
    "mix_name",
    default="kendari",
    show_default=True,
    help=f"A shipped mix ({', '.join(shipped())}) or a mix .toml file.",
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0.0001, max=10),
    default=1.0,
    show_default=True,
    help="Multiply every count and the replay time (0.1: a tenth of the calls, same rate).",
)
@click.option("--seed", type=int, default=112, show_default=True, help="Seed of the plan.")
def replay_command(mix_name: str, scale: float, seed: int) -> None:
    """Replay a mix of 112 callers with SIPp, with SIPp call takers answering, then check
    every call in the store against the plan (ground truth).

    Starts the sandbox if needed, and a controller when none is connected. Prints, per
    category, expected vs recorded and every mismatch; exits 1 when there is one. The truth,
    mismatches and a summary are written under <state_dir>/replays/.
    """
    settings = cli_settings()
    try:
        mix = load_mix(mix_name)
    except MixError as error:
        fail(str(error))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = settings.state_dir / "replays" / f"{stamp}-{mix.name}"
    try:
        result = asyncio.run(
            replay(settings, mix, scale=scale, seed=seed, out_dir=out_dir, say=say)
        )
    except (ReplayError, ControllerError, SandboxError) as error:
        fail(str(error))
    verdict = result.reconciliation
    click.echo(verdict.table())
    for mismatch in verdict.mismatches[:MISMATCHES_SHOWN]:
        click.echo(f"MISMATCH {mismatch.describe()}")
    hidden = len(verdict.mismatches) - MISMATCHES_SHOWN
    if hidden > 0:
        click.echo(f"... and {hidden} more in {out_dir / 'mismatches.txt'}")
    click.echo(
        f"{result.calls} calls in {result.seconds:.0f} s, {result.sipp_failed} failed on the "
        f"SIPp side, {len(verdict.mismatches)} mismatches; details in {out_dir}"
    )
    if not verdict.ok or result.sipp_failed:
        raise SystemExit(1)
