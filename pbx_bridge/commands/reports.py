"""`pbx-bridge report|stats`: the centre's report and answer times."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import click

from pbx_bridge.commands.common import cli_settings, fail
from pbx_bridge.config import Settings
from pbx_bridge.errors import StartupError
from pbx_bridge.reports.model import Granularity, Period
from pbx_bridge.reports.render import report_csv, report_table, stats_csv, stats_table
from pbx_bridge.reports.service import Reports, report_zone
from pbx_bridge.wiring import centre_reports, open_store

ReportWork = Callable[[Reports, Period], Awaitable[Any]]
LOCAL_DAY = click.DateTime(formats=["%Y-%m-%d"])
OUTPUT = click.Choice(["table", "json", "csv"])


def _reports_run(settings: Settings, first: datetime, last: datetime, work: ReportWork) -> Any:
    """Open the store, run one report on the period, close the store; errors end in one line."""
    try:
        zone = report_zone(settings.report_timezone)
        period = Period(first.date(), last.date(), zone)
    except StartupError as error:
        fail(str(error))
    except ValueError as error:
        fail(f"--from/--to: {error}")

    async def run() -> Any:
        engine = await open_store(settings)
        try:
            return await work(centre_reports(engine, zone), period)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except StartupError as error:
        fail(str(error))


@click.command()
@click.option("--from", "first", type=LOCAL_DAY, required=True, help="First local day, YYYY-MM-DD.")
@click.option("--to", "last", type=LOCAL_DAY, required=True, help="Last local day, included.")
@click.option("--format", "output", type=OUTPUT, default="table", show_default=True)
def report(first: datetime, last: datetime, output: str) -> None:
    """The centre's report for a period, as Kendari published it.

    Total calls, unanswered in the queue, answered valid and invalid, silent, hung up at once,
    55 calls, answer times and NENA compliance; verified emergencies per category and agency
    (in the day of their first call) and handoff acknowledgement times (of handoffs sent in the
    period). Days are local to PBX_BRIDGE_REPORT_TIMEZONE. No caller number is in any format.
    """

    async def work(reports: Reports, period: Period) -> dict[str, Any]:
        return (await reports.centre(period)).as_json()

    record = _reports_run(cli_settings(), first, last, work)
    if output == "json":
        click.echo(json.dumps(record, indent=2))
    elif output == "csv":
        click.echo(report_csv(record), nl=False)
    else:
        click.echo(report_table(record))


@click.command()
@click.option("--from", "first", type=LOCAL_DAY, required=True, help="First local day, YYYY-MM-DD.")
@click.option("--to", "last", type=LOCAL_DAY, required=True, help="Last local day, included.")
@click.option("--by", type=click.Choice(["hour", "day"]), default="day", show_default=True)
@click.option("--format", "output", type=OUTPUT, default="table", show_default=True)
def stats(first: datetime, last: datetime, by: Granularity, output: str) -> None:
    """Answer-time statistics per hour or day (NENA-STA-020: 90 % in 15 s, 95 % in 20 s).

    Answer time runs from the call's arrival to a call taker's answer. Shares within 10, 15 and
    20 s are given of answered and of offered calls; also the abandoned rate, percentiles and
    the longest wait. Hours and days are local to PBX_BRIDGE_REPORT_TIMEZONE.
    """

    async def work(reports: Reports, period: Period) -> dict[str, Any]:
        return await reports.stats(period, by)

    record = _reports_run(cli_settings(), first, last, work)
    if output == "json":
        click.echo(json.dumps(record, indent=2))
    elif output == "csv":
        click.echo(stats_csv(record), nl=False)
    else:
        click.echo(stats_table(record))
