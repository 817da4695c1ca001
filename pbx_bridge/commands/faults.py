"""`pbx-bridge faults`: what each fault costs the callers, into RELIABILITY.md."""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click

from pbx_bridge.bench.proc import this_machine
from pbx_bridge.commands.common import cli_settings, fail, say
from pbx_bridge.faults.report import markdown
from pbx_bridge.faults.run import FAULTS, FaultError, FaultPlan, fault_named, run_faults
from pbx_bridge.sandbox import SandboxError


@click.command("faults")
@click.option(
    "--only",
    "names",
    multiple=True,
    help="Run only this fault (repeatable): " + ", ".join(f.slug for f in FAULTS) + ".",
)
@click.option(
    "--callers",
    type=click.IntRange(min=1, max=200),
    default=FaultPlan().callers,
    show_default=True,
    help="Talking callers on the line during each fault.",
)
@click.option(
    "--surge-rate",
    type=click.FloatRange(min=1, max=1000),
    default=FaultPlan().surge_rate,
    show_default=True,
    help="The surge's calls/s: twice the SER of S in BENCHMARKS.md on this machine.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("RELIABILITY.md"),
    show_default=True,
    help="Where the table goes.",
)
def faults_command(names: tuple[str, ...], callers: int, surge_rate: float, out: Path) -> None:
    """Run each fault against the real sandbox (a fresh Asterisk each, a controller of its own,
    SIPp call takers and talking SIPp callers) and write the table: calls, answered, cut off,
    longest in Stasis after the fault, recorded, lost. About 2 minutes a fault.

    Needs root (the sandbox) and no controller of `make run` on the sandbox meanwhile.
    Exit status 1 when a row misses its target.
    """
    try:
        chosen = [fault_named(name) for name in names] if names else list(FAULTS)
    except FaultError as error:
        fail(str(error))
    plan = FaultPlan(callers=callers, surge_rate=surge_rate)
    command = os.environ.get("FAULTS_COMMAND") or "pbx-bridge " + shlex.join(sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="pbx-bridge-faults-") as work:
        try:
            rows = run_faults(cli_settings(), chosen, plan, Path(work), say)
        except (FaultError, SandboxError) as error:
            fail(str(error))
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = this_machine(asterisk_version="Asterisk 22 (the sandbox)")
    where = f"{machine.cpu_count} cores, {machine.memory_bytes / 2**30:.0f} GiB, {machine.kernel}"
    out.write_text(markdown(rows, command, when, where))
    for row in rows:
        verdict = "met" if row.target_met else "NOT met: " + ", ".join(row.misses())
        click.echo(f"{row.fault}: {verdict}")
    click.echo(f"table: {out}")
    if not all(row.target_met for row in rows):
        sys.exit(1)
