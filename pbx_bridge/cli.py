"""The one `pbx-bridge` command."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from pbx_bridge.app import cdr_file as default_cdr_file
from pbx_bridge.app import centre_reports, open_store, thresholds
from pbx_bridge.app import serve as serve_app
from pbx_bridge.asterisk import sandbox as sandbox_mod
from pbx_bridge.asterisk.ami import AmiClient
from pbx_bridge.asterisk.prompts import (
    LANGUAGE,
    SOUND_FOLDER,
    PromptError,
    build_prompts,
    load_core_sounds,
)
from pbx_bridge.callbacks.service import call_back
from pbx_bridge.config import Settings, load_settings, sandbox_env_file
from pbx_bridge.dispatch.agencies import AgencyConfigError, load_agencies
from pbx_bridge.errors import StartupError
from pbx_bridge.logging import configure_logging, mask_number
from pbx_bridge.queue.cli import taker_by_id, takers, with_ami
from pbx_bridge.reconcile.service import reconcile_file
from pbx_bridge.reports.model import Granularity, Period
from pbx_bridge.reports.render import report_csv, report_table, stats_csv, stats_table
from pbx_bridge.reports.service import Reports, report_zone
from pbx_bridge.sipp.runner import run_scenario
from pbx_bridge.store.callbacks import CallbackNotFound, CallbackRepository
from pbx_bridge.store.privacy import PrivacyRepository, PurgeResult
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.users import Role, User, UserExists, UserRepository

ReportWork = Callable[[Reports, Period], Awaitable[Any]]


def _settings() -> Settings:
    return load_settings()


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"pbx-bridge: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pbx-bridge")
def main() -> None:
    """pbx_bridge: screens, queues and records the 112 emergency line's calls on Asterisk.

    Settings come from PBX_BRIDGE_* environment variables, the env file pbx-bridge.env
    (or PBX_BRIDGE_CONFIG), and the sandbox's generated credentials; see `pbx-bridge config`.
    """


@main.command()
def serve() -> None:
    """Run the controller: ARI screening, AMI, the store and the web API, until Ctrl-C."""
    settings = _settings()
    configure_logging(settings.log_format, settings.log_level)

    try:
        asyncio.run(serve_app(settings))
    except StartupError as error:
        _fail(f"cannot start: {error}")


@main.group()
def sandbox() -> None:
    """The embedded Asterisk 22 + SIPp sandbox (a cached Debian sid root, run as user asterisk)."""


@sandbox.command("up")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for ARI.")
def sandbox_up(timeout: float) -> None:
    """Build (first time, about 30 s) or reuse the sandbox, render the configs, start Asterisk."""
    sandbox_mod.ensure_credentials()
    settings = _settings()
    started = time.monotonic()
    try:
        pid = sandbox_mod.up(settings, progress=_progress, timeout=timeout)
    except sandbox_mod.SandboxError as error:
        _fail(str(error))
    _progress(f"sandbox up in {time.monotonic() - started:.1f} s (Asterisk pid {pid})")
    _progress(f"  SIP (112 trunk): udp 127.0.0.1:{settings.sandbox_sip_port}")
    _progress(f"  ARI: {settings.ari_url}  AMI: {settings.ami_host}:{settings.ami_port}")
    _progress(f"  credentials: {sandbox_env_file()}")


@sandbox.command("down")
def sandbox_down() -> None:
    """Stop Asterisk and every process in the sandbox; unmount it."""
    sandbox_mod.down(_settings(), progress=_progress)


@sandbox.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def sandbox_status(as_json: bool) -> None:
    """Is the sandbox built, is Asterisk running, does ARI answer?"""
    state = sandbox_mod.status(_settings())
    data = {
        "built": state.built,
        "running": state.running,
        "pid": state.pid,
        "ari_answers": state.ari_answers,
        "root": str(state.root),
    }
    if as_json:
        click.echo(json.dumps(data))
        return
    for key, value in data.items():
        click.echo(f"{key:12} {value}")
    if not state.running:
        sys.exit(3)


@sandbox.command("cli")
@click.argument("command", nargs=-1, required=True)
def sandbox_cli(command: tuple[str, ...]) -> None:
    """Run an Asterisk CLI command in the sandbox, e.g. `core show channels`."""
    try:
        click.echo(sandbox_mod.asterisk_cli(_settings(), " ".join(command)), nl=False)
    except sandbox_mod.SandboxError as error:
        _fail(str(error))


@main.command()
@click.option(
    "--scenario",
    default="talk",
    show_default=True,
    help="A scenario from sipp-scenarios/ (talk, hangup, ...).",
)
@click.option(
    "--seconds",
    default=15.0,
    show_default=True,
    help="How long the caller stays on the line after the answer (talk scenario).",
)
@click.option("--caller", default=None, help="Caller number (default: a random 08... number).")
@click.option("--count", default=1, show_default=True, help="Number of calls.")
@click.option("--rate", default=1.0, show_default=True, help="Calls per second.")
@click.option(
    "--dtmf-at",
    default=10.0,
    show_default=True,
    help="press55: seconds after the answer at which the caller presses 55.",
)
@click.option("--json", "as_json", is_flag=True, help="Print SIPp's timing of each call as JSON.")
def call(  # noqa: PLR0917 - one parameter per click option
    scenario: str,
    seconds: float,
    caller: str | None,
    count: int,
    rate: float,
    dtmf_at: float,
    as_json: bool,
) -> None:
    """Place test calls to 112 with SIPp, as the trunk would.

    Scenarios: talk (speech), silent, speech_then_silence, press55, hangup (at once).
    --seconds is how long the caller stays after the answer, unless Asterisk hangs up first.
    """
    settings = _settings()
    _progress(f"calling 112: scenario {scenario}, {count} call(s) ...")
    try:
        result = run_scenario(
            settings,
            scenario,
            seconds=seconds,
            caller=caller,
            count=count,
            rate=rate,
            dtmf_at=dtmf_at,
        )
    except sandbox_mod.SandboxError as error:
        _fail(str(error))
    if as_json:
        click.echo(
            json.dumps({"ok": result.ok, "calls": [t.as_json() for t in result.calls]}, indent=2)
        )
    else:
        for timing in result.calls:
            answered = timing.answered.isoformat() if timing.answered else "not answered"
            click.echo(f"{timing.invite_sent.isoformat()}  answered {answered}")
    if not result.ok:
        _fail(f"SIPp reported failed calls (exit {result.returncode}):\n{result.errors}", 1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="JSON, one object per call.")
@click.option("--limit", default=100, show_default=True, help="Newest N calls.")
@click.option(
    "--show-numbers",
    is_flag=True,
    help="Show callers' numbers in clear (masked by default); each view is audited.",
)
def calls(as_json: bool, limit: int, show_numbers: bool) -> None:
    """Print the stored call records, newest first."""

    settings = _settings()

    async def fetch() -> list[dict[str, Any]]:
        engine = await open_store(settings)
        try:
            repo = CallRepository(engine, thresholds(settings))
            views = await repo.list(limit)
            if show_numbers:  # every clear view of a number is audited, here as in the API
                shown = [view.id for view in views if view.caller_number]
                who = f"cli:{getpass.getuser()}"
                why = "pbx-bridge calls --show-numbers"
                await PrivacyRepository(engine).record_views(who, shown, why, datetime.now(UTC))
            mask = None if show_numbers else mask_number
            return [view.as_json(mask) for view in views]
        finally:
            await engine.dispose()

    try:
        records = asyncio.run(fetch())
    except StartupError as error:
        _fail(str(error))
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    click.echo(
        f"{'arrived (UTC)':26} {'caller':14} {'ring':>5} {'on line':>8} {'validity':10} disposition"
    )
    for record in records:
        ring = record["ring_seconds"]
        connected = record["connected_seconds"]
        click.echo(
            f"{record['arrived_at'][:26]:26} {record['caller_number']:14} "
            f"{'-' if ring is None else f'{ring:.1f}':>5} "
            f"{'-' if connected is None else f'{connected:.1f}':>8} {record['validity']:10} "
            f"{record['disposition']}"
        )


LOCAL_DAY = click.DateTime(formats=["%Y-%m-%d"])
OUTPUT = click.Choice(["table", "json", "csv"])


def _reports_run(settings: Settings, first: datetime, last: datetime, work: ReportWork) -> Any:
    """Open the store, run one report on the period, close the store; errors end in one line."""
    try:
        zone = report_zone(settings.report_timezone)
        period = Period(first.date(), last.date(), zone)
    except StartupError as error:
        _fail(str(error))
    except ValueError as error:
        _fail(f"--from/--to: {error}")

    async def run() -> Any:
        engine = await open_store(settings)
        try:
            return await work(centre_reports(engine, zone), period)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except StartupError as error:
        _fail(str(error))


@main.command()
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

    record = _reports_run(_settings(), first, last, work)
    if output == "json":
        click.echo(json.dumps(record, indent=2))
    elif output == "csv":
        click.echo(report_csv(record), nl=False)
    else:
        click.echo(report_table(record))


@main.command()
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

    record = _reports_run(_settings(), first, last, work)
    if output == "json":
        click.echo(json.dumps(record, indent=2))
    elif output == "csv":
        click.echo(stats_csv(record), nl=False)
    else:
        click.echo(stats_table(record))


@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="JSON, one object per item.")
@click.option("--show-numbers", is_flag=True, help="Numbers in clear (masked by default).")
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
    settings = _settings()

    async def fetch() -> list[dict[str, Any]]:
        engine = await open_store(settings)
        try:
            items = await CallRepository(engine, thresholds(settings)).callbacks(status)
            attempts = CallbackRepository(engine)
            for item in items:
                item["attempts"] = await attempts.attempts(item["id"])
            return items
        finally:
            await engine.dispose()

    try:
        items = asyncio.run(fetch())
    except StartupError as error:
        _fail(str(error))
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
    settings = _settings()
    taker = taker_by_id(settings, taker_id)

    async def attempt(ami: AmiClient) -> str:
        engine = await open_store(settings)
        try:
            return await call_back(
                ami, CallbackRepository(engine), callback_id, taker, timeout=timeout
            )
        finally:
            await engine.dispose()

    _progress(f"callback #{callback_id}: ringing {taker_id}, then the caller ...")
    try:
        outcome = with_ami(settings, attempt)
    except (CallbackNotFound, StartupError) as error:
        _fail(str(error))
    click.echo(outcome)
    if outcome != "answered":
        sys.exit(1)


@main.command()
def retag() -> None:
    """Recompute every stored call's validity and disposition with the current thresholds.

    Set PBX_BRIDGE_VALID_MIN_SECONDS / PBX_BRIDGE_HUNG_UP_IMMEDIATELY_SECONDS first; each call's
    stored timeline is classified again, so nothing is lost when a threshold changes.
    """

    settings = _settings()

    async def run() -> tuple[int, int]:
        engine = await open_store(settings)
        try:
            return await CallRepository(engine, thresholds(settings)).retag(thresholds(settings))
        finally:
            await engine.dispose()

    try:
        seen, changed = asyncio.run(run())
    except StartupError as error:
        _fail(str(error))
    _progress(f"retagged {seen} call(s): {changed} changed")


@main.command()
@click.option(
    "--cdr-file",
    type=click.Path(path_type=Path),
    default=None,
    help="Asterisk's CDR CSV (cdr_custom.conf); default: the sandbox's.",
)
def reconcile(cdr_file: Path | None) -> None:
    """Add a record for every call in Asterisk's CDR that the store lacks (serve does this too)."""

    settings = _settings()
    path = cdr_file or default_cdr_file(settings)

    async def run() -> tuple[int, int]:
        engine = await open_store(settings)
        try:
            repo = CallRepository(engine, thresholds(settings))
            result = await reconcile_file(path, repo, settle=timedelta(0))
        finally:
            await engine.dispose()
        return result.seen, result.added

    try:
        seen, added = asyncio.run(run())
    except StartupError as error:
        _fail(str(error))
    _progress(f"{path}: {seen} call(s) in Asterisk's records, {added} added to the store")


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (serve does this too)."""

    async def run() -> None:
        engine = await open_store(_settings())
        await engine.dispose()

    try:
        asyncio.run(run())
    except StartupError as error:
        _fail(str(error))
    _progress("database schema is current")


@main.command("config")
def show_config() -> None:
    """Print the effective settings (secrets hidden) and where each can be set."""
    settings = _settings()
    for name, value in settings.model_dump().items():
        shown = "(set)" if "password" in name or "token" in name else value
        if shown == "(set)" and value is None:
            shown = "(not set)"
        click.echo(f"PBX_BRIDGE_{name.upper():22} {shown}")


@main.command("pbx-config")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder to write the rendered .conf files into (then copy to /etc/asterisk).",
)
@click.option(
    "--sip-bind",
    required=True,
    help="The PBX's address towards the carrier: SIP listens and RTP flows on it.",
)
@click.option(
    "--trunk",
    "trunk_match",
    required=True,
    help="The carrier's SIP address(es) that identify the 112 trunk (pjsip identify).",
)
@click.option(
    "--module-dir",
    default="/usr/lib/x86_64-linux-gnu/asterisk/modules",
    show_default=True,
    help="The PBX's Asterisk module folder.",
)
def pbx_config(out: Path, sip_bind: str, trunk_match: str, module_dir: str) -> None:
    """Render asterisk-config/ and dialplans/ for a real PBX, with this configuration's secrets."""
    settings = _settings()
    try:
        values = sandbox_mod.pbx_values(settings, module_dir, sip_bind, trunk_match)
        written = sandbox_mod.write_configs(out, values, settings, skip=("asterisk.conf",))
    except sandbox_mod.SandboxError as error:
        _fail(str(error))
    for path in written:
        path.chmod(0o640)
        _progress(f"wrote {path}")
    _progress("asterisk.conf is not written: keep the PBX's own. See README, 'On a real PBX'.")


@main.group()
def prompts() -> None:
    """The voice prompts (asterisk-config/prompts.toml)."""


@prompts.command("build")
@click.option(
    "--sounds-dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Asterisk's sounds folder, e.g. /usr/share/asterisk/sounds: the prompts go to "
    "pbx-bridge/ in it, the queue's Indonesian announcements and numbers to id/.",
)
def prompts_build(sounds_dir: Path) -> None:
    """Speak every prompt with espeak-ng (-v id) into 8 kHz WAV files for Asterisk."""
    try:
        written = build_prompts(sounds_dir / SOUND_FOLDER)
        written += build_prompts(sounds_dir / LANGUAGE, load_core_sounds())
    except PromptError as error:
        _fail(str(error))
    _progress(f"{len(written)} sound files in {sounds_dir}")


@main.group()
def users() -> None:
    """Who may use the API: call takers, supervisors, agencies, admins (bearer tokens)."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="call_taker, supervisor, agency (needs --agency) or admin.",
)
@click.option("--agency", default="", help="The agency id (see agencies.toml), for --role agency.")
def users_add(name: str, role: str, agency: str) -> None:
    """Create a user and print its token once (only a hash of it is stored)."""
    settings = _settings()
    if (role == Role.AGENCY) != bool(agency):
        _fail("--agency is needed with --role agency, and only with it")
    if agency:
        try:
            known = load_agencies(settings.agencies_file).names
        except AgencyConfigError as error:
            _fail(str(error))
        if agency not in known:
            _fail(f"--agency {agency!r} is not one of: {', '.join(sorted(known))}")

    async def run() -> str:
        engine = await open_store(settings)
        try:
            return await UserRepository(engine).add(name, Role(role), agency)
        finally:
            await engine.dispose()

    try:
        token = asyncio.run(run())
    except (StartupError, UserExists) as error:
        _fail(str(error))
    _progress(f"user {name} ({role}{' of ' + agency if agency else ''}) created; its token:")
    click.echo(token)
    _progress("it is shown only now: give it to the user (Authorization: Bearer <token>)")


@users.command("list")
def users_list() -> None:
    """List the users, their roles and agencies (never their tokens)."""
    settings = _settings()

    async def run() -> list[User]:
        engine = await open_store(settings)
        try:
            return await UserRepository(engine).list()
        finally:
            await engine.dispose()

    try:
        found = asyncio.run(run())
    except StartupError as error:
        _fail(str(error))
    for user in found:
        click.echo(f"{user.name:24} {user.role:12} {user.agency}")


@main.command("purge-numbers")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Blank numbers of calls older than this (default PBX_BRIDGE_NUMBER_RETENTION_DAYS).",
)
def purge_numbers(days: int | None) -> None:
    """Blank callers' numbers on calls and callbacks older than the retention (serve: daily)."""
    settings = _settings()
    keep = days or settings.number_retention_days

    async def run() -> PurgeResult:
        engine = await open_store(settings)
        try:
            return await PrivacyRepository(engine).purge_numbers(keep)
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(run())
    except StartupError as error:
        _fail(str(error))
    _progress(
        f"numbers older than {keep} days blanked: {result.calls} call(s), "
        f"{result.callbacks} callback(s)"
    )


main.add_command(takers)
