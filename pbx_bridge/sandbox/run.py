"""The sandbox's Asterisk: started as user asterisk inside the root, stopped with every process
in it, its status and CLI."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from base64 import b64encode
from dataclasses import dataclass
from pathlib import Path

from pbx_bridge.config import Settings
from pbx_bridge.pbxconfig.render import host_port
from pbx_bridge.sandbox.root import (
    COMPLETE_MARKER,
    INSTANCE,
    Progress,
    SandboxError,
    build_root,
    instance_dir,
    mount,
    root_dir,
    say,
    unmount_all,
)
from pbx_bridge.sandbox.setup import render


@dataclass(frozen=True)
class SandboxStatus:
    built: bool
    running: bool
    pid: int | None
    ari_answers: bool
    root: Path


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
        say(progress, f"sandbox already running (Asterisk pid {pid})")
        return pid
    if pid is not None:
        raise SandboxError(
            f"an Asterisk (pid {pid}) runs in the sandbox but refuses this checkout's ARI "
            "credentials: run `pbx-bridge sandbox down` first"
        )
    _check_ports_free(settings)
    root = build_root(settings, progress)
    render(settings, progress)
    mount(root)
    inst = instance_dir(settings)
    _start_new_cdr(inst)
    say(progress, "starting Asterisk as user asterisk")
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
            say(progress, f"Asterisk is up (pid {pid}); ARI answers at {settings.ari_url}")
            return pid
        time.sleep(0.1)
    down(settings)
    raise SandboxError(f"ARI did not answer within {timeout:.0f} s:\n{_log_tail(settings)}")


def _check_ports_free(settings: Settings) -> None:
    checks = [
        ("ari_url", socket.SOCK_STREAM, *host_port(settings.ari_url)),
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
        say(progress, "no sandbox built")
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
    unmount_all(root)
    say(progress, f"sandbox stopped ({len(pids)} process(es) ended)")


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
