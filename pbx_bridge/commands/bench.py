"""`pbx-bridge bench`: the controller's cost against plain dialplan, into BENCHMARKS.md."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from pbx_bridge.bench.render import chart, markdown
from pbx_bridge.bench.run import BenchError, Plan, bench
from pbx_bridge.commands.common import cli_settings, fail, say
from pbx_bridge.sandbox import SandboxError


def _rates(text: str) -> tuple[float, ...]:
    try:
        rates = tuple(sorted(float(part) for part in text.split(",") if part.strip()))
    except ValueError as error:
        raise click.BadParameter(f"{text!r}: give call rates like 25,50,100") from error
    if not rates or rates[0] <= 0:
        raise click.BadParameter("give at least one positive call rate")
    return rates


@click.command("bench")
@click.option(
    "--rates",
    default=",".join(f"{rate:g}" for rate in Plan().ladder),
    show_default=True,
    help="The call rates (calls/s) each mode is stepped through, until one fails.",
)
@click.option(
    "--step-seconds",
    type=click.FloatRange(min=2),
    default=Plan().step_seconds,
    show_default=True,
    help="How long each rate is offered.",
)
@click.option(
    "--held-calls",
    type=click.IntRange(min=2),
    default=Plan().held_calls,
    show_default=True,
    help="Calls held at once in screening and queue (S).",
)
@click.option(
    "--soak-seconds",
    type=click.FloatRange(min=10),
    default=Plan().soak_seconds,
    show_default=True,
    help="How long the memory soak runs (S).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("BENCHMARKS.md"),
    show_default=True,
    help="The report; the chart and raw JSON go to docs/bench/.",
)
def bench_command(
    rates: str, step_seconds: float, held_calls: int, soak_seconds: float, out: Path
) -> None:
    """Measure D (plain dialplan: Answer, TALK_DETECT, Queue), S0 (a Stasis hop that continues
    at once) and S (the full controller) on the sandbox's one Asterisk: the highest call rate
    each holds with no failed call (SER), answer latency, CPU per call, event-loop lag,
    memory per held call; then the ratios S/D. Takes about 25 minutes.

    Needs the sandbox and no controller running (it starts its own, with a throwaway
    database). Writes OUT, docs/bench/latency.png and docs/bench/results.json.
    """
    plan = Plan(
        ladder=_rates(rates),
        step_seconds=step_seconds,
        held_calls=held_calls,
        soak_seconds=soak_seconds,
    )
    # `make bench` says so (BENCH_COMMAND), so the report names the command a reader would run.
    command = os.environ.get("BENCH_COMMAND") or "pbx-bridge " + shlex.join(sys.argv[1:])
    try:
        result = bench(cli_settings(), plan, command, say)
    except (BenchError, SandboxError) as error:
        fail(str(error))
    bench_dir = out.parent / "docs" / "bench"
    chart(result, bench_dir / "latency.png")
    (bench_dir / "results.json").write_text(result.to_json())
    out.write_text(markdown(result, "docs/bench/latency.png"))
    for target in result.targets():
        state = "met" if target.met else "NOT met"
        click.echo(f"{target.name}: {target.measured} (target {target.target}): {state}")
    click.echo(f"report: {out}, chart: {bench_dir / 'latency.png'}")
