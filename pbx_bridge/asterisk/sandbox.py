"""The embedded Asterisk: a Debian sid root with Asterisk 22 and SIPp, run as user asterisk.

Debian 12 has no asterisk package, so the root is built once with mmdebstrap and cached
outside the clone (`~/.cache/pbx-bridge/`); every checkout on the machine reuses it.
The project's asterisk-config/ and dialplans/ are rendered into `<root>/srv/pbx-bridge/etc`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pbx_bridge.asterisk.prompts import LANGUAGE, SOUND_FOLDER, build_prompts, load_core_sounds
from pbx_bridge.config import Settings, sandbox_env_file
from pbx_bridge.paths import asterisk_config_dir, dialplans_dir, sipp_scenarios_dir
from pbx_bridge.private_files import CONFIG_FILE, write_private
from pbx_bridge.queue.takers import (
    MAIN_QUEUE,
    load_taker_accounts,
    load_takers,
    pjsip_accounts,
)
from pbx_bridge.sipp.pcaps import build_caller_audio

PACKAGES = ("asterisk", "asterisk-modules", "sip-tester")
SUITE = "sid"
INSTANCE = "/srv/pbx-bridge"  # inside the root
RECIPE_VERSION = "1"
COMPLETE_MARKER = ".pbx-bridge-complete"

Progress = Callable[[str], None]


class SandboxError(RuntimeError):
    """The sandbox cannot be built or started; the message says what to do."""


@dataclass(frozen=True)
class SandboxStatus:
    built: bool
    running: bool
    pid: int | None
    ari_answers: bool
    root: Path


def _say(progress: Progress | None, message: str) -> None:
    if progress:
        progress(message)


def root_dir(settings: Settings) -> Path:
    recipe = f"{RECIPE_VERSION}:{SUITE}:{','.join(PACKAGES)}"
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:10]
    return settings.sandbox_cache_dir / f"sid-asterisk-{digest}"


def instance_dir(settings: Settings) -> Path:
    return root_dir(settings) / INSTANCE.lstrip("/")


# --- building -------------------------------------------------------------------------------


def ensure_host_tools(progress: Progress | None = None) -> None:
    """mmdebstrap, espeak-ng and sox come from Debian 12 itself."""
    missing = [tool for tool in ("mmdebstrap", "espeak-ng", "sox") if not shutil.which(tool)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SandboxError(f"missing {', '.join(missing)}: run `sudo make deps`")
    _say(progress, f"installing {', '.join(missing)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)


def build_root(settings: Settings, progress: Progress | None = None) -> Path:
    """Build the sid root once (about 30 s); later calls reuse the cached one."""
    root = root_dir(settings)
    if (root / COMPLETE_MARKER).is_file():
        return root
    if os.geteuid() != 0:
        raise SandboxError("building the sandbox needs root (mmdebstrap, chroot, mount)")
    ensure_host_tools(progress)
    settings.sandbox_cache_dir.mkdir(parents=True, exist_ok=True)
    staging = root.with_name(root.name + ".building")
    if staging.exists():
        _unmount_all(staging)
        shutil.rmtree(staging)
    _say(progress, f"building the Asterisk sandbox (Debian {SUITE}: {', '.join(PACKAGES)})")
    command = [
        "mmdebstrap",
        "--variant=apt",
        '--aptopt=Acquire::Check-Valid-Until "false"',
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(staging),
    ]
    started = time.monotonic()
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None  # noqa: S101 - Popen with PIPE always has it
        tail: list[str] = []
        for line in proc.stdout:
            tail = [*tail[-20:], line.rstrip()]
            if line.startswith("I: "):
                _say(progress, f"  {line[3:].rstrip()}")
        if proc.wait() != 0:
            raise SandboxError("mmdebstrap failed:\n" + "\n".join(tail))
    _say(progress, f"  built in {time.monotonic() - started:.0f} s")
    hostname = socket.gethostname()
    with (staging / "etc/hosts").open("a") as hosts:
        hosts.write(f"127.0.0.1 {hostname}\n::1 {hostname}\n")
    (staging / COMPLETE_MARKER).write_text(" ".join(command) + "\n")
    staging.rename(root)
    return root


# --- credentials and configuration -----------------------------------------------------------


def ensure_credentials() -> dict[str, str]:
    """Random ARI/AMI/API secrets for the sandbox, kept 0600 beside the cached root."""
    path = sandbox_env_file()
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.startswith("#"):
                values[key.strip()] = value.strip()
    wanted = (
        "PBX_BRIDGE_ARI_PASSWORD",
        "PBX_BRIDGE_AMI_PASSWORD",
        "PBX_BRIDGE_API_TOKEN",
        "PBX_BRIDGE_SIP_SECRET",
    )
    if all(values.get(key) for key in wanted):
        return values
    for key in wanted:
        values.setdefault(key, secrets.token_urlsafe(18))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(
        path,
        "# Generated by `pbx-bridge sandbox up`: credentials of the embedded Asterisk.\n"
        + "".join(f"{key}={value}\n" for key, value in values.items()),
    )
    return values


def _host_port(url: str) -> tuple[str, int]:
    hostport = url.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    return host, int(port)


def placeholders(settings: Settings, root: Path | None) -> dict[str, str]:
    if settings.ari_password is None or settings.ami_password is None:
        raise SandboxError("no ARI/AMI password: set PBX_BRIDGE_ARI_PASSWORD and _AMI_PASSWORD")
    http_host, http_port = _host_port(settings.ari_url)
    module_dir = ""
    if root is not None:
        module_dirs = sorted(root.glob("usr/lib/*/asterisk/modules"))
        if not module_dirs:
            raise SandboxError(f"no Asterisk modules in {root}: remove it and `sandbox up` again")
        module_dir = "/" + str(module_dirs[0].relative_to(root))
    return {
        "INSTANCE": INSTANCE,
        "MODULE_DIR": module_dir,
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
        # The sandbox's softphones and SIPp use all of 127.0.0.0/8 as "the LAN" (127.0.0.2 plays
        # a host on it that is not the carrier); the trunk is 127.0.0.1 alone.
        "SIP_LAN": "127.0.0.0/8",
        # Sandbox-only entries: the benchmark's dialplan and the load call takers.
        "BENCH_INCLUDE": "#tryinclude bench.conf",
        "LOAD_TAKERS_INCLUDE": "#tryinclude pjsip_load_takers.conf",
    }


def render_text(template: str, values: dict[str, str], name: str) -> str:
    for key, value in values.items():
        template = template.replace(f"@@{key}@@", value)
    if "@@" in template:
        left = template[template.index("@@") :].split("\n", 1)[0]
        raise SandboxError(f"{name}: unknown placeholder {left}")
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
        raise SandboxError("no SIP secret for the call takers: set PBX_BRIDGE_SIP_SECRET")
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
    values = placeholders(settings, None)
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


def _asterisk_ids(root: Path) -> tuple[int, int]:
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == "asterisk":
            return int(fields[2]), int(fields[3])
    raise SandboxError(f"no asterisk user in {root}/etc/passwd: rebuild the sandbox")


def render(settings: Settings, progress: Progress | None = None) -> Path:
    """Write the project's Asterisk configs, dialplan, prompts and SIPp files into the root."""
    root = root_dir(settings)
    inst = instance_dir(settings)
    values = placeholders(settings, root)
    etc = inst / "etc"
    for sub in ("etc", "db", "spool", "run", "log", "log/cdr-custom", "sipp"):
        (inst / sub).mkdir(parents=True, exist_ok=True)
    for stale in etc.glob("*.conf"):
        stale.unlink()
    write_configs(etc, values, settings, load_taker_count=settings.sandbox_load_takers)
    for scenario in sipp_scenarios_dir().glob("*"):
        if scenario.is_file():
            shutil.copyfile(scenario, inst / "sipp" / scenario.name)
    build_caller_audio(root / "usr/share/sip-tester", inst / "sipp")
    _say(progress, "speaking the prompts (espeak-ng -v id, sox)")
    sounds = root / "usr/share/asterisk/sounds"
    build_prompts(sounds / SOUND_FOLDER)
    build_prompts(sounds / LANGUAGE, load_core_sounds())
    uid, gid = _asterisk_ids(root)
    for path in [inst, *inst.rglob("*")]:
        os.chown(path, uid, gid)
    return inst


# --- running ----------------------------------------------------------------------------------


def _mounted(path: Path) -> bool:
    target = str(path.resolve())
    with Path("/proc/self/mountinfo").open(encoding="utf-8") as info:
        return any(line.split()[4] == target for line in info)


def _mount(root: Path) -> None:
    if not _mounted(root / "proc"):
        subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=True)
    if not _mounted(root / "dev"):
        subprocess.run(["mount", "--bind", "/dev", str(root / "dev")], check=True)


def _unmount_all(root: Path) -> None:
    for sub in ("dev", "proc"):
        if (root / sub).exists() and _mounted(root / sub):
            subprocess.run(["umount", "-l", str(root / sub)], check=False)


def _pid_file(settings: Settings) -> Path:
    return instance_dir(settings) / "run" / "asterisk.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def asterisk_pid(settings: Settings) -> int | None:
    pid_file = _pid_file(settings)
    with contextlib.suppress(FileNotFoundError, ValueError):
        pid = int(pid_file.read_text().strip())
        if _alive(pid):
            return pid
    return None


def ari_answers(settings: Settings, timeout: float = 1.0) -> bool:
    """True when ARI accepts our credentials; False when nothing answers or they are refused."""
    if settings.ari_password is None:
        return False
    token = b64encode(
        f"{settings.ari_username}:{settings.ari_password.get_secret_value()}".encode()
    ).decode()
    request = urllib.request.Request(  # noqa: S310 - our own loopback ARI URL
        settings.ari_url.rstrip("/") + "/ari/asterisk/info",
        headers={"Authorization": f"Basic {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, TimeoutError):
        return False


def processes_in_root(root: Path) -> list[int]:
    """Every process whose root directory is the sandbox: what `down` must leave none of."""
    found = []
    target = str(root.resolve())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if str((entry / "root").readlink()) == target:
                found.append(int(entry.name))
    return found


def _start_new_cdr(inst: Path) -> None:
    """Each sandbox start writes a new CDR file (the previous one is kept as .1). The sandbox
    is for trying and testing: a controller started on it then reconciles this session's
    calls, not every replay and benchmark run since the sandbox was built (tens of thousands)."""
    cdr = inst / "log" / "cdr-custom" / "pbx-bridge-cdr.csv"
    if cdr.exists():
        cdr.replace(cdr.with_name(cdr.name + ".1"))


def up(settings: Settings, progress: Progress | None = None, timeout: float = 30.0) -> int:
    """Build if needed, render, start Asterisk and wait for ARI. A second `up` changes nothing."""
    pid = asterisk_pid(settings)
    if pid is not None and ari_answers(settings):
        _say(progress, f"sandbox already running (Asterisk pid {pid})")
        return pid
    if pid is not None:
        raise SandboxError(
            f"an Asterisk (pid {pid}) runs in the sandbox but refuses this checkout's ARI "
            "credentials: run `pbx-bridge sandbox down` first"
        )
    _check_ports_free(settings)
    root = build_root(settings, progress)
    render(settings, progress)
    _mount(root)
    inst = instance_dir(settings)
    _start_new_cdr(inst)
    _say(progress, "starting Asterisk as user asterisk")
    # Asterisk daemonizes itself: the launcher returns once it has forked, and the daemon
    # outlives this process (it is the sandbox, not a child of whoever started it).
    with (inst / "log" / "console.log").open("ab") as console_log:
        launched = subprocess.run(
            [
                "chroot",
                str(root),
                "asterisk",
                "-n",
                "-U",
                "asterisk",
                "-G",
                "asterisk",
                "-C",
                f"{INSTANCE}/etc/asterisk.conf",
            ],
            stdin=subprocess.DEVNULL,
            stdout=console_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            check=False,
            timeout=timeout,
        )
    if launched.returncode != 0:
        raise SandboxError(f"Asterisk exited with {launched.returncode}:\n{_log_tail(settings)}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = asterisk_pid(settings)
        if pid is not None and ari_answers(settings, timeout=0.5):
            _say(progress, f"Asterisk is up (pid {pid}); ARI answers at {settings.ari_url}")
            return pid
        time.sleep(0.1)
    down(settings)
    raise SandboxError(f"ARI did not answer within {timeout:.0f} s:\n{_log_tail(settings)}")


def _check_ports_free(settings: Settings) -> None:
    checks = [
        ("ari_url", socket.SOCK_STREAM, *_host_port(settings.ari_url)),
        ("ami_port", socket.SOCK_STREAM, settings.ami_host, settings.ami_port),
        ("sandbox_sip_port", socket.SOCK_DGRAM, "127.0.0.1", settings.sandbox_sip_port),
    ]
    for setting, kind, host, port in checks:
        with socket.socket(socket.AF_INET, kind) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                raise SandboxError(
                    f"{host}:{port} is in use ({setting}): stop what holds it "
                    f"(`ss -lpn | grep {port}`) or change PBX_BRIDGE_{setting.upper()}"
                ) from error


def _log_tail(settings: Settings, lines: int = 15) -> str:
    log = instance_dir(settings) / "log" / "console.log"
    text = log.read_text(errors="replace") if log.is_file() else ""
    messages = instance_dir(settings) / "log" / "messages.log"
    if messages.is_file():
        text += messages.read_text(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def down(settings: Settings, progress: Progress | None = None, timeout: float = 10.0) -> None:
    """Stop Asterisk (and any SIPp) in the sandbox and unmount: no process is left behind."""
    root = root_dir(settings)
    if not root.exists():
        _say(progress, "no sandbox built")
        return
    pids = processes_in_root(root)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while processes_in_root(root) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in processes_in_root(root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    while processes_in_root(root) and time.monotonic() < deadline + 5:
        time.sleep(0.1)
    _pid_file(settings).unlink(missing_ok=True)
    _unmount_all(root)
    _say(progress, f"sandbox stopped ({len(pids)} process(es) ended)")


def status(settings: Settings) -> SandboxStatus:
    root = root_dir(settings)
    pid = asterisk_pid(settings)
    return SandboxStatus(
        built=(root / COMPLETE_MARKER).is_file(),
        running=pid is not None,
        pid=pid,
        ari_answers=ari_answers(settings) if pid else False,
        root=root,
    )


def asterisk_cli(settings: Settings, command: str) -> str:
    """Run an Asterisk CLI command in the running sandbox (`asterisk -rx`)."""
    result = subprocess.run(
        [
            "chroot",
            str(root_dir(settings)),
            "asterisk",
            "-C",
            f"{INSTANCE}/etc/asterisk.conf",
            "-rx",
            command,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=15,
    )
    if result.returncode != 0:
        raise SandboxError(f"asterisk -rx {command!r} failed: {result.stderr.strip()}")
    return result.stdout


def stderr_progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
