"""`pbx-bridge takers ...`: the call takers' SIP accounts and their state in the queue."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import click

from pbx_bridge.asterisk.ami import AmiAuthError, AmiClient, AmiUnavailable
from pbx_bridge.commands.common import fail
from pbx_bridge.config import Settings, load_settings
from pbx_bridge.queue import members
from pbx_bridge.queue.takers import Taker, TakerConfigError, load_takers, sip_password


def taker_by_id(settings: Settings, taker_id: str) -> Taker:
    try:
        takers = {t.id: t for t in load_takers(settings.call_takers_file)}
    except TakerConfigError as error:
        fail(str(error))
    if taker_id not in takers:
        fail(f"no call taker {taker_id!r} in call-takers.toml (known: {', '.join(takers)})")
    return takers[taker_id]


def with_ami(settings: Settings, work: Callable[[AmiClient], Awaitable[Any]]) -> Any:
    """Run one AMI conversation: connect, log in, work, close; errors say what to do."""
    if settings.ami_password is None:
        fail("PBX_BRIDGE_AMI_PASSWORD is not set: run `pbx-bridge sandbox up` first")

    async def run() -> Any:
        ami = AmiClient(
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_username,
            secret=settings.ami_password.get_secret_value() if settings.ami_password else "",
        )
        await ami.start()
        try:
            return await work(ami)
        finally:
            ami.close()

    try:
        return asyncio.run(run())
    except (AmiUnavailable, AmiAuthError, members.MemberError) as error:
        fail(str(error))


@click.group()
def takers() -> None:
    """Call takers and supervisors: SIP accounts, log in/out, ready, pause (over AMI)."""


@takers.command("show")
def show() -> None:
    """Each call taker's softphone settings (SIP user, password, registrar)."""
    settings = load_settings()
    if settings.sip_secret is None:
        fail("PBX_BRIDGE_SIP_SECRET is not set: run `pbx-bridge sandbox up` first")
    secret = settings.sip_secret.get_secret_value() if settings.sip_secret else ""
    for taker in load_takers(settings.call_takers_file):
        click.echo(
            f"{taker.id:8} {taker.group.value:10} {taker.name:20} "
            f"sip:{taker.id}@127.0.0.1:{settings.sandbox_sip_port} "
            f"password {sip_password(secret, taker.id)}"
        )


@takers.command("login")
@click.argument("taker_id")
@click.option("--ready", is_flag=True, help="Ready at once (default: logged in, paused).")
def login(taker_id: str, ready: bool) -> None:
    """Log a call taker in to the queue."""
    settings = load_settings()
    taker = taker_by_id(settings, taker_id)
    with_ami(settings, lambda ami: members.log_in(ami, taker, ready=ready))
    click.echo(f"{taker_id} logged in{' and ready' if ready else ' (paused until ready)'}")


@takers.command("ready")
@click.argument("taker_id")
def ready(taker_id: str) -> None:
    """The call taker is ready: the queue may ring them."""
    settings = load_settings()
    taker = taker_by_id(settings, taker_id)
    with_ami(settings, lambda ami: members.set_ready(ami, taker))
    click.echo(f"{taker_id} ready")


@takers.command("pause")
@click.argument("taker_id")
@click.option("--reason", required=True, help="Why (break, training, briefing, ...).")
def pause(taker_id: str, reason: str) -> None:
    """Pause a call taker: the queue does not ring them until ready again."""
    settings = load_settings()
    taker = taker_by_id(settings, taker_id)
    with_ami(settings, lambda ami: members.pause(ami, taker, reason))
    click.echo(f"{taker_id} paused: {reason}")


@takers.command("logout")
@click.argument("taker_id")
def logout(taker_id: str) -> None:
    """Log a call taker out of the queue."""
    settings = load_settings()
    taker = taker_by_id(settings, taker_id)
    with_ami(settings, lambda ami: members.log_out(ami, taker))
    click.echo(f"{taker_id} logged out")
