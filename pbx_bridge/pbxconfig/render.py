"""The Asterisk configuration pbx_bridge needs, rendered for the sandbox and for a real PBX.

Templates are asterisk-config/*.conf and dialplans/*.conf with @@NAME@@ placeholders; the call
takers' PJSIP accounts come from call-takers.toml. `pbx-bridge pbx-config` writes them for a PBX,
the sandbox writes them into its root.
"""

from __future__ import annotations

from pathlib import Path

from pbx_bridge.config import Settings
from pbx_bridge.paths import asterisk_config_dir, dialplans_dir
from pbx_bridge.pbxconfig.accounts import load_taker_accounts, pjsip_accounts
from pbx_bridge.private_files import CONFIG_FILE, write_private
from pbx_bridge.queue.takers import MAIN_QUEUE, load_takers


class PbxConfigError(RuntimeError):
    """The configuration cannot be rendered; the message says which setting or template."""


def host_port(url: str) -> tuple[str, int]:
    hostport = url.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    return host, int(port)


def base_values(settings: Settings) -> dict[str, str]:
    """The placeholders every PBX shares; the sandbox and `pbx-config` add where Asterisk lives."""
    if settings.ari_password is None or settings.ami_password is None:
        raise PbxConfigError("no ARI/AMI password: set PBX_BRIDGE_ARI_PASSWORD and _AMI_PASSWORD")
    http_host, http_port = host_port(settings.ari_url)
    return {
        "HTTP_BIND": http_host,
        "HTTP_PORT": str(http_port),
        "ARI_USERNAME": settings.ari_username,
        "ARI_PASSWORD": settings.ari_password.get_secret_value(),
        "ARI_APP": settings.ari_app,
        "AMI_BIND": settings.ami_host,
        "AMI_PORT": str(settings.ami_port),
        "AMI_USERNAME": settings.ami_username,
        "AMI_PASSWORD": settings.ami_password.get_secret_value(),
        "SIP_BIND": "127.0.0.1",
        "SIP_PORT": str(settings.sandbox_sip_port),
        "TRUNK_MATCH": "127.0.0.1",
        "RTP_START": str(settings.sandbox_rtp_start),
        "RTP_END": str(settings.sandbox_rtp_end),
        "OVERFLOW_SECONDS": str(settings.overflow_seconds),
        "WRAPUP_SECONDS": str(settings.wrapup_seconds),
        "RING_SECONDS": str(settings.ring_seconds),
        "CALLBACK_RING_SECONDS": str(settings.callback_ring_seconds),
        "TRUNK_CONTACT": settings.trunk_contact,
        "MAIN_QUEUE": MAIN_QUEUE,
        "TALK_SILENCE_MS": str(settings.talk_silence_ms),
        "TALK_THRESHOLD": str(settings.talk_threshold),
        "GUARD_ARI_USER": guard_ari_user(settings),
    }


def guard_ari_user(settings: Settings) -> str:
    """ari.conf's section for the guard's own user, when it has a password."""
    if settings.guard_ari_password is None:
        return "; none: set PBX_BRIDGE_GUARD_ARI_PASSWORD to give the guard its user"
    return (
        f"[{settings.guard_ari_username}]\ntype = user\nread_only = no\n"
        f"password = {settings.guard_ari_password.get_secret_value()}"
    )


def render_text(template: str, values: dict[str, str], name: str) -> str:
    for key, value in values.items():
        template = template.replace(f"@@{key}@@", value)
    if "@@" in template:
        left = template[template.index("@@") :].split("\n", 1)[0]
        raise PbxConfigError(f"{name}: unknown placeholder {left}")
    return template


SANDBOX_ONLY = ("asterisk.conf", "bench.conf")  # sandbox paths; the benchmark's entries
NOT_INCLUDED = "; (not on a real PBX)"


def write_configs(
    out_dir: Path,
    values: dict[str, str],
    settings: Settings,
    *,
    skip: tuple[str, ...] = (),
    load_taker_count: int = 0,
) -> list[Path]:
    """Render asterisk-config/*.conf and dialplans/*.conf, and the call takers' accounts.

    Every file is created 0640 from its first byte: several hold credentials."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if settings.sip_secret is None:
        raise PbxConfigError("no SIP secret for the call takers: set PBX_BRIDGE_SIP_SECRET")
    accounts = out_dir / "pjsip_call_takers.conf"
    write_private(
        accounts,
        pjsip_accounts(
            load_takers(settings.call_takers_file),
            settings.sip_secret.get_secret_value(),
            values["SIP_BIND"],
        ),
        CONFIG_FILE,
    )
    written = [accounts]
    if load_taker_count:
        written.append(out_dir / "pjsip_load_takers.conf")
        port = settings.sandbox_load_taker_port
        text = load_taker_accounts(load_taker_count, port, values["SIP_BIND"])
        write_private(written[-1], text, CONFIG_FILE)
    for source in [*asterisk_config_dir().glob("*.conf"), *dialplans_dir().glob("*.conf")]:
        if source.name in skip:
            continue
        target = out_dir / source.name
        write_private(target, render_text(source.read_text(), values, source.name), CONFIG_FILE)
        written.append(target)
    return written


def pbx_values(
    settings: Settings, module_dir: str, sip_bind: str, trunk_match: str, sip_lan: str
) -> dict[str, str]:
    """Placeholders for a real PBX: the operator's addresses instead of the sandbox's, and no
    sandbox-only entry (benchmark dialplan, load call takers)."""
    values = base_values(settings)
    values.update(
        {
            "MODULE_DIR": module_dir,
            "SIP_BIND": sip_bind,
            "TRUNK_MATCH": trunk_match,
            "SIP_LAN": sip_lan,
            "BENCH_INCLUDE": NOT_INCLUDED,
            "LOAD_TAKERS_INCLUDE": NOT_INCLUDED,
        }
    )
    return values
