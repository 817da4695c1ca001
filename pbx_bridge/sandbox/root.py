"""The sandbox's Debian sid root: Asterisk 22 and SIPp, built once with mmdebstrap and cached.

Debian 12 has no asterisk package, so the root is built once and cached outside the clone
(`~/.cache/pbx-bridge/`); every checkout on the machine reuses it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from pbx_bridge.config import Settings

PACKAGES = ("asterisk", "asterisk-modules", "sip-tester")
SUITE = "sid"
INSTANCE = "/srv/pbx-bridge"  # inside the root
RECIPE_VERSION = "1"
COMPLETE_MARKER = ".pbx-bridge-complete"

Progress = Callable[[str], None]


class SandboxError(RuntimeError):
    """The sandbox cannot be built or started; the message says what to do."""


def say(progress: Progress | None, message: str) -> None:
    if progress:
        progress(message)


def root_dir(settings: Settings) -> Path:
    recipe = f"{RECIPE_VERSION}:{SUITE}:{','.join(PACKAGES)}"
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:10]
    return settings.sandbox_cache_dir / f"sid-asterisk-{digest}"


def instance_dir(settings: Settings) -> Path:
    return root_dir(settings) / INSTANCE.lstrip("/")


def mounted(path: Path) -> bool:
    target = str(path.resolve())
    with Path("/proc/self/mountinfo").open(encoding="utf-8") as info:
        return any(line.split()[4] == target for line in info)


def mount(root: Path) -> None:
    if not mounted(root / "proc"):
        subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=True)
    if not mounted(root / "dev"):
        subprocess.run(["mount", "--bind", "/dev", str(root / "dev")], check=True)


def unmount_all(root: Path) -> None:
    for sub in ("dev", "proc"):
        if (root / sub).exists() and mounted(root / sub):
            subprocess.run(["umount", "-l", str(root / sub)], check=False)


def ensure_host_tools(progress: Progress | None = None) -> None:
    """mmdebstrap, espeak-ng and sox come from Debian 12 itself."""
    missing = [tool for tool in ("mmdebstrap", "espeak-ng", "sox") if not shutil.which(tool)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SandboxError(f"missing {', '.join(missing)}: run `sudo make deps`")
    say(progress, f"installing {', '.join(missing)} with apt-get")
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
        unmount_all(staging)
        shutil.rmtree(staging)
    say(progress, f"building the Asterisk sandbox (Debian {SUITE}: {', '.join(PACKAGES)})")
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
                say(progress, f"  {line[3:].rstrip()}")
        if proc.wait() != 0:
            raise SandboxError("mmdebstrap failed:\n" + "\n".join(tail))
    say(progress, f"  built in {time.monotonic() - started:.0f} s")
    hostname = socket.gethostname()
    with (staging / "etc/hosts").open("a") as hosts:
        hosts.write(f"127.0.0.1 {hostname}\n::1 {hostname}\n")
    (staging / COMPLETE_MARKER).write_text(" ".join(command) + "\n")
    staging.rename(root)
    return root
