"""Fixtures against the real sandbox: Asterisk 22 and SIPp in the cached Debian sid root.

With CI=true a missing sandbox fails the run loudly; elsewhere these tests skip with the
command that sets the sandbox up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pbx_bridge import sandbox
from pbx_bridge.config import Settings, load_settings
from pbx_bridge.sipp.runner import free_port
from tests.support.ci import missing

QUEUE_TIMINGS = {
    "PBX_BRIDGE_RING_SECONDS": "5",
    "PBX_BRIDGE_WRAPUP_SECONDS": "3",
    "PBX_BRIDGE_OVERFLOW_SECONDS": "8",
}
PBX_BRIDGE = str(Path(sys.executable).with_name("pbx-bridge"))


def unavailable(reason: str) -> None:
    missing(
        f"{reason}: set it up with `sudo make run` or `sudo pbx-bridge sandbox up`",
        tests="integration",
    )


def forget_astdb(settings: Settings) -> None:
    """Asterisk's own database (queue members, registrations) gone, as on a new machine.
    Only while the sandbox is down."""
    (sandbox.instance_dir(settings) / "db" / "astdb.sqlite3").unlink(missing_ok=True)


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    """The sandbox, up for the whole session (freshly rendered) and down at its end."""
    if os.geteuid() != 0:
        unavailable("the Asterisk sandbox needs root (chroot, mount)")
    # Short queue timings so the queue tests run in seconds; they are rendered into
    # queues.conf and the dialplan, so the sandbox is started afresh with them.
    os.environ.update(QUEUE_TIMINGS)
    sandbox.ensure_credentials()
    current = load_settings()
    try:
        sandbox.down(current)
        # app_queue keeps its members in astdb (persistentmembers): a session starts with the
        # queue empty, whatever an earlier, interrupted run left logged in.
        forget_astdb(current)
        sandbox.up(current, progress=sandbox.stderr_progress)
    except (sandbox.SandboxError, OSError, subprocess.CalledProcessError) as error:
        unavailable(f"the Asterisk sandbox could not start: {error}")
    yield current
    sandbox.down(current)


def ari_get(settings: Settings, path: str) -> Any:
    assert settings.ari_password is not None
    token = b64encode(
        f"{settings.ari_username}:{settings.ari_password.get_secret_value()}".encode()
    ).decode()
    request = urllib.request.Request(  # noqa: S310 - loopback ARI
        settings.ari_url + "/ari" + path, headers={"Authorization": f"Basic {token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def assert_no_channel_left(settings: Settings, within: float = 10.0) -> None:
    """Every integration test ends here: Asterisk holds no channel."""
    deadline = time.monotonic() + within
    channels: list[Any] = []
    while time.monotonic() < deadline:
        channels = ari_get(settings, "/channels")
        if not channels:
            return
        time.sleep(0.2)
    names = [c["name"] for c in channels]
    pytest.fail(f"Asterisk still has {len(channels)} channel(s): {names}")


@dataclass
class Controller:
    env: dict[str, str]
    api_port: int
    process: subprocess.Popen[str]
    log_path: Path

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [PBX_BRIDGE, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, f"pbx-bridge {' '.join(args)}: {result.stderr}"
        return result.stdout

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def records(self) -> dict[str, dict[str, Any]]:
        """The stored calls by caller number, as `pbx-bridge calls --json` gives them."""
        rows = json.loads(self.cli("calls", "--json", "--show-numbers", "--limit", "1000"))
        return {row["caller_number"]: row for row in rows}


def controller_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PBX_BRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'calls.db'}",
        # The spool too is the test's own: no record of another test's controller drains here.
        "PBX_BRIDGE_STATE_DIR": str(tmp_path),
        "PBX_BRIDGE_API_PORT": str(free_port(kind=1)),
        "PBX_BRIDGE_LOG_FORMAT": "json",
        # Each test reads only the calls it placed: CDR lines of other tests' calls must not
        # be reconciled into its store.
        "PBX_BRIDGE_CDR_FILE": str(tmp_path / "no-cdr.csv"),
    }
    env.update(extra)
    return env


def wait_healthy(port: int, process: subprocess.Popen[str], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pbx-bridge serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail("pbx-bridge serve did not become healthy within 20 s")


def start_controller(tmp_path: Path, **extra: str) -> Controller:
    """`pbx-bridge serve` as a user runs it, on its own SQLite file and API port."""
    env = controller_env(tmp_path, **extra)
    log_path = tmp_path / f"serve-{time.monotonic_ns()}.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [PBX_BRIDGE, "serve"], env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True
        )
    running = Controller(env, int(env["PBX_BRIDGE_API_PORT"]), process, log_path)
    wait_healthy(running.api_port, process)
    return running


def stop_controller(running: Controller) -> None:
    running.process.terminate()
    try:
        running.process.wait(10)
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait()


@pytest.fixture
def controller(settings: Settings, tmp_path: Path) -> Iterator[Controller]:
    """A controller with the default configuration."""
    running = start_controller(tmp_path)
    try:
        yield running
    finally:
        stop_controller(running)
