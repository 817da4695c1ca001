"""`pbx-bridge calls|retag|reconcile|migrate|users|purge-numbers`: the store's commands."""

from __future__ import annotations

import asyncio
import getpass
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from pbx_bridge.commands.common import cli_settings, fail, say
from pbx_bridge.dispatch.agencies import AgencyConfigError, load_agencies
from pbx_bridge.errors import StartupError
from pbx_bridge.logging import mask_number
from pbx_bridge.reconcile.service import reconcile_file
from pbx_bridge.screening.outcome import judge_by, reclassify_by
from pbx_bridge.store.number_files import purge_cdr
from pbx_bridge.store.privacy import PrivacyRepository, PurgeResult, retention_cutoff
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.users import NoSuchUser, Role, UserEntry, UserExists, UserRepository
from pbx_bridge.wiring import cdr_file as default_cdr_file
from pbx_bridge.wiring import open_store, thresholds


@click.command()
@click.option("--json", "as_json", is_flag=True, help="JSON, one object per call.")
@click.option("--limit", default=100, show_default=True, help="Newest N calls.")
@click.option(
    "--show-numbers",
    is_flag=True,
    help="Show callers' numbers in clear (masked by default); each view is audited.",
)
def calls(as_json: bool, limit: int, show_numbers: bool) -> None:
    """Print the stored call records, newest first."""

    settings = cli_settings()

    async def fetch() -> list[dict[str, Any]]:
        engine = await open_store(settings)
        try:
            repo = CallRepository(engine, judge_by(thresholds(settings)))
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
        fail(str(error))
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


@click.command()
def retag() -> None:
    """Recompute every stored call's validity and disposition with the current thresholds.

    Set PBX_BRIDGE_VALID_MIN_SECONDS / PBX_BRIDGE_HUNG_UP_IMMEDIATELY_SECONDS first; each call's
    stored timeline is classified again, so nothing is lost when a threshold changes.
    """

    settings = cli_settings()

    async def run() -> tuple[int, int]:
        engine = await open_store(settings)
        try:
            return await CallRepository(engine, judge_by(thresholds(settings))).retag(
                reclassify_by(thresholds(settings))
            )
        finally:
            await engine.dispose()

    try:
        seen, changed = asyncio.run(run())
    except StartupError as error:
        fail(str(error))
    say(f"retagged {seen} call(s): {changed} changed")


@click.command()
@click.option(
    "--cdr-file",
    type=click.Path(path_type=Path),
    default=None,
    help="Asterisk's CDR CSV (cdr_custom.conf); default: the sandbox's.",
)
def reconcile(cdr_file: Path | None) -> None:
    """Add a record for every call in Asterisk's CDR that the store lacks (serve does this too)."""

    settings = cli_settings()
    path = cdr_file or default_cdr_file(settings)

    async def run() -> tuple[int, int]:
        engine = await open_store(settings)
        try:
            repo = CallRepository(engine, judge_by(thresholds(settings)))
            result = await reconcile_file(path, repo, settle=timedelta(0))
        finally:
            await engine.dispose()
        return result.seen, result.added

    try:
        seen, added = asyncio.run(run())
    except StartupError as error:
        fail(str(error))
    say(f"{path}: {seen} call(s) in Asterisk's records, {added} added to the store")


@click.command()
def migrate() -> None:
    """Create or upgrade the database schema (serve does this too)."""

    async def run() -> None:
        engine = await open_store(cli_settings())
        await engine.dispose()

    try:
        asyncio.run(run())
    except StartupError as error:
        fail(str(error))
    say("database schema is current")


@click.group()
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
@click.option(
    "--expires-days",
    type=click.IntRange(min=1),
    default=None,
    help="The token stops working after this many days (default: never).",
)
def users_add(name: str, role: str, agency: str, expires_days: int | None) -> None:
    """Create a user and print its token once (only a hash of it is stored)."""
    settings = cli_settings()
    if (role == Role.AGENCY) != bool(agency):
        fail("--agency is needed with --role agency, and only with it")
    if agency:
        try:
            known = load_agencies(settings.agencies_file).names
        except AgencyConfigError as error:
            fail(str(error))
        if agency not in known:
            fail(f"--agency {agency!r} is not one of: {', '.join(sorted(known))}")

    async def run() -> str:
        engine = await open_store(settings)
        try:
            return await UserRepository(engine).add(name, Role(role), agency, expires_days)
        finally:
            await engine.dispose()

    try:
        token = asyncio.run(run())
    except (StartupError, UserExists) as error:
        fail(str(error))
    say(f"user {name} ({role}{' of ' + agency if agency else ''}) created; its token:")
    click.echo(token)
    say("it is shown only now: give it to the user (Authorization: Bearer <token>)")


@users.command("list")
def users_list() -> None:
    """List the users, their roles and agencies (never their tokens)."""
    settings = cli_settings()

    async def run() -> list[UserEntry]:
        engine = await open_store(settings)
        try:
            return await UserRepository(engine).entries()
        finally:
            await engine.dispose()

    try:
        found = asyncio.run(run())
    except StartupError as error:
        fail(str(error))
    now = datetime.now(UTC)
    for entry in found:
        user = entry.user
        if entry.revoked:
            state = "revoked"
        elif entry.expires_at is None:
            state = "no expiry"
        else:
            verb = "expired" if entry.expires_at <= now else "expires"
            state = f"{verb} {entry.expires_at:%Y-%m-%d %H:%M}Z"
        click.echo(f"{user.name:24} {user.role:12} {user.agency:10} {state}")


@users.command("revoke")
@click.argument("name")
def users_revoke(name: str) -> None:
    """The user's token stops working now; their open live-event streams end within seconds."""
    settings = cli_settings()

    async def run() -> None:
        engine = await open_store(settings)
        try:
            await UserRepository(engine).revoke(name)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except (StartupError, NoSuchUser) as error:
        fail(str(error))
    say(f"user {name}: token revoked (`pbx-bridge users rotate {name}` issues a new one)")


@users.command("rotate")
@click.argument("name")
@click.option(
    "--expires-days",
    type=click.IntRange(min=1),
    default=None,
    help="The new token stops working after this many days (default: the expiry is kept).",
)
def users_rotate(name: str, expires_days: int | None) -> None:
    """Print a new token for the user; the old one stops working (a revoked user is let back)."""
    settings = cli_settings()

    async def run() -> str:
        engine = await open_store(settings)
        try:
            return await UserRepository(engine).rotate(name, expires_days)
        finally:
            await engine.dispose()

    try:
        token = asyncio.run(run())
    except (StartupError, NoSuchUser) as error:
        fail(str(error))
    say(f"user {name}: new token (the old one no longer works):")
    click.echo(token)
    say("it is shown only now: give it to the user (Authorization: Bearer <token>)")


@click.command("purge-numbers")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Blank numbers of calls older than this (default PBX_BRIDGE_NUMBER_RETENTION_DAYS).",
)
@click.option(
    "--cdr-file",
    type=click.Path(path_type=Path),
    default=None,
    help="Asterisk's CDR CSV whose old lines lose src/clid; default: PBX_BRIDGE_CDR_FILE.",
)
def purge_numbers(days: int | None, cdr_file: Path | None) -> None:
    """Blank callers' numbers on calls, callbacks and Asterisk's CDR lines older than the
    retention (serve does this daily, and also in its spool files)."""
    settings = cli_settings()
    keep = days or settings.number_retention_days
    cdr = cdr_file or default_cdr_file(settings)

    async def run() -> tuple[PurgeResult, int]:
        engine = await open_store(settings)
        now = datetime.now(UTC)
        try:
            result = await PrivacyRepository(engine).purge_numbers(keep, now)
        finally:
            await engine.dispose()
        return result, await asyncio.to_thread(purge_cdr, cdr, retention_cutoff(keep, now))

    try:
        result, cdr_lines = asyncio.run(run())
    except StartupError as error:
        fail(str(error))
    except OSError as error:
        fail(f"{cdr}: {error.strerror}")
    say(
        f"numbers older than {keep} days blanked: {result.calls} call(s), "
        f"{result.callbacks} callback(s), {cdr_lines} CDR line(s) in {cdr}"
    )
