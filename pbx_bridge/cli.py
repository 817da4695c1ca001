"""The one `pbx-bridge` command."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import click

from pbx_bridge import sandbox as sandbox_mod
from pbx_bridge.asterisk.prompts import (
    LANGUAGE,
    SOUND_FOLDER,
    PromptError,
    build_prompts,
    load_core_sounds,
)
from pbx_bridge.commands.bench import bench_command
from pbx_bridge.commands.callbacks import callbacks
from pbx_bridge.commands.common import cli_settings, fail, say
from pbx_bridge.commands.faults import faults_command
from pbx_bridge.commands.guard import guard_command, serve_with_guard
from pbx_bridge.commands.replay import replay_command
from pbx_bridge.commands.reports import report, stats
from pbx_bridge.commands.store import calls, migrate, purge_numbers, reconcile, retag, users
from pbx_bridge.commands.takers import takers
from pbx_bridge.config import sandbox_env_file
from pbx_bridge.errors import StartupError
from pbx_bridge.logging import configure_logging
from pbx_bridge.pbxconfig.render import SANDBOX_ONLY, PbxConfigError, pbx_values, write_configs
from pbx_bridge.sipp.runner import run_scenario


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
    settings = cli_settings()
    configure_logging(settings.log_format, settings.log_level)

    try:
        asyncio.run(serve_with_guard(settings))
    except StartupError as error:
        fail(f"cannot start: {error}")


@main.group()
def sandbox() -> None:
    """The embedded Asterisk 22 + SIPp sandbox (a cached Debian sid root, run as user asterisk)."""


@sandbox.command("up")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for ARI.")
def sandbox_up(timeout: float) -> None:
    """Build (first time, about 30 s) or reuse the sandbox, render the configs, start Asterisk."""
    sandbox_mod.ensure_credentials()
    settings = cli_settings()
    started = time.monotonic()
    try:
        pid = sandbox_mod.up(settings, progress=say, timeout=timeout)
    except sandbox_mod.SandboxError as error:
        fail(str(error))
    say(f"sandbox up in {time.monotonic() - started:.1f} s (Asterisk pid {pid})")
    say(f"  SIP (112 trunk): udp 127.0.0.1:{settings.sandbox_sip_port}")
    say(f"  ARI: {settings.ari_url}  AMI: {settings.ami_host}:{settings.ami_port}")
    say(f"  credentials: {sandbox_env_file()}")


@sandbox.command("down")
def sandbox_down() -> None:
    """Stop Asterisk and every process in the sandbox; unmount it."""
    sandbox_mod.down(cli_settings(), progress=say)


@sandbox.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def sandbox_status(as_json: bool) -> None:
    """Is the sandbox built, is Asterisk running, does ARI answer?"""
    state = sandbox_mod.status(cli_settings())
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
        click.echo(sandbox_mod.asterisk_cli(cli_settings(), " ".join(command)), nl=False)
    except sandbox_mod.SandboxError as error:
        fail(str(error))


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
    settings = cli_settings()
    say(f"calling 112: scenario {scenario}, {count} call(s) ...")
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
        fail(str(error))
    if as_json:
        click.echo(
            json.dumps({"ok": result.ok, "calls": [t.as_json() for t in result.calls]}, indent=2)
        )
    else:
        for timing in result.calls:
            answered = timing.answered.isoformat() if timing.answered else "not answered"
            click.echo(f"{timing.invite_sent.isoformat()}  answered {answered}")
    if not result.ok:
        fail(f"SIPp reported failed calls (exit {result.returncode}):\n{result.errors}", 1)


@main.command("config")
def show_config() -> None:
    """Print the effective settings (secrets hidden) and where each can be set."""
    settings = cli_settings()
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
    help="The carrier's SIP address(es) that identify the 112 trunk (pjsip identify), "
    "comma-separated: the only source of 112 calls.",
)
@click.option(
    "--lan",
    "sip_lan",
    required=True,
    help="The call takers' softphone network, e.g. 10.1.2.0/24: with the trunk, the only "
    "addresses PJSIP accepts requests from (pjsip acl).",
)
@click.option(
    "--module-dir",
    default="/usr/lib/x86_64-linux-gnu/asterisk/modules",
    show_default=True,
    help="The PBX's Asterisk module folder.",
)
def pbx_config(out: Path, sip_bind: str, trunk_match: str, sip_lan: str, module_dir: str) -> None:
    """Render asterisk-config/ and dialplans/ for a real PBX, with this configuration's secrets
    (no sandbox or benchmark entries; every file created 0640)."""
    settings = cli_settings()
    try:
        values = pbx_values(settings, module_dir, sip_bind, trunk_match, sip_lan)
        written = write_configs(out, values, settings, skip=SANDBOX_ONLY)
    except PbxConfigError as error:
        fail(str(error))
    for path in written:
        say(f"wrote {path}")
    say("asterisk.conf is not written: keep the PBX's own. See README, 'On a real PBX'.")


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
        fail(str(error))
    say(f"{len(written)} sound files in {sounds_dir}")


for command in (
    takers,
    calls,
    retag,
    reconcile,
    migrate,
    users,
    purge_numbers,
    report,
    stats,
    callbacks,
    replay_command,
    bench_command,
    faults_command,
    guard_command,
):
    main.add_command(command)
