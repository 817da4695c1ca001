"""One guard per state directory: serve starts one or reuses the one that runs, and stops it
on a clean exit; the guard command does not double a running guard."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pbx_bridge.commands.guard import guard_command
from pbx_bridge.guard import launch
from pbx_bridge.guard.launch import guard_beside, hold_lock, lock_path, running_guard
from tests.support.waits import wait_until

# Stands in for `pbx-bridge guard`: holds the lock until SIGTERM, as the real one does.
FAKE_GUARD = """
import signal, sys
from pathlib import Path
from pbx_bridge.guard.launch import hold_lock
with hold_lock(Path(sys.argv[1])) as held:
    assert held
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("holding", flush=True)
    signal.pause()
"""


def fake_guard(state_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", FAKE_GUARD, str(lock_path(state_dir))], start_new_session=True
    )


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    """spawn_guard starts the fake guard; the pids it started are listed."""
    pids: list[int] = []

    def spawn() -> subprocess.Popen[bytes]:
        process = fake_guard(tmp_path)
        pids.append(process.pid)
        return process

    monkeypatch.setattr(launch, "spawn_guard", spawn)
    return pids


def test_no_lock_file_or_a_lock_nobody_holds_means_no_guard(tmp_path: Path) -> None:
    path = lock_path(tmp_path)
    assert running_guard(path) is None
    path.write_text("12345\n")  # left by a guard that died: the kernel dropped its lock
    assert running_guard(path) is None


def test_a_guard_holding_the_lock_is_found_by_its_pid(tmp_path: Path) -> None:
    process = fake_guard(tmp_path)
    try:
        wait_until(lambda: running_guard(lock_path(tmp_path)), 10, "the fake guard holds the lock")
        assert running_guard(lock_path(tmp_path)) == process.pid
    finally:
        process.kill()
        process.wait()
    assert running_guard(lock_path(tmp_path)) is None  # killed: the lock went with it


async def test_serve_starts_a_guard_and_stops_it_on_a_clean_exit(
    tmp_path: Path, spawned: list[int]
) -> None:
    async with guard_beside(tmp_path) as pid:
        assert pid == spawned[0]
        assert running_guard(lock_path(tmp_path)) == pid
    assert running_guard(lock_path(tmp_path)) is None


async def test_a_running_guard_is_reused_not_doubled(tmp_path: Path, spawned: list[int]) -> None:
    process = fake_guard(tmp_path)  # left running by a controller that was killed
    try:
        wait_until(lambda: running_guard(lock_path(tmp_path)), 10, "the fake guard holds the lock")
        async with guard_beside(tmp_path) as pid:
            assert pid == process.pid
        assert spawned == []
        assert process.wait(5) == 0  # the clean exit stopped it (SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_a_controller_that_crashes_leaves_its_guard_running(
    tmp_path: Path, spawned: list[int]
) -> None:
    with pytest.raises(RuntimeError, match="crash"):
        async with guard_beside(tmp_path):
            raise RuntimeError("crash")
    try:
        assert running_guard(lock_path(tmp_path)) == spawned[0]
    finally:
        os.kill(spawned[0], signal.SIGTERM)
        wait_until(lambda: running_guard(lock_path(tmp_path)) is None, 10, "the guard stopped")


async def test_a_guard_that_cannot_start_does_not_stop_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(2)"])

    monkeypatch.setattr(launch, "spawn_guard", spawn)
    async with guard_beside(tmp_path) as pid:
        assert pid is None


def test_the_guard_command_leaves_a_running_guard_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PBX_BRIDGE_STATE_DIR", str(tmp_path))
    with hold_lock(lock_path(tmp_path)) as held:
        assert held
        result = CliRunner().invoke(guard_command, [])
    assert result.exit_code == 0
    assert "already runs" in result.output


def test_the_guard_without_its_password_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PBX_BRIDGE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("PBX_BRIDGE_GUARD_ARI_PASSWORD", "")
    result = CliRunner().invoke(guard_command, [])
    assert result.exit_code == 2
    assert "PBX_BRIDGE_GUARD_ARI_PASSWORD" in result.output
    assert running_guard(lock_path(tmp_path)) is None  # it let go of the lock
