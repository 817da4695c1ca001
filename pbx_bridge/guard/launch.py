"""One guard per state directory: its lock file says whether it runs, `serve` starts or reuses it.

The guard holds an exclusive lock on <state_dir>/guard.lock (with its pid in it) for as long
as it runs; the kernel drops the lock when the process dies, however it dies. The guard runs in
its own session, so a signal to the controller (SIGKILL, SIGSTOP, a terminal's Ctrl-C) does
not reach it: it is there exactly when the controller is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

LOCK_NAME = "guard.lock"
START_SECONDS = 10.0  # a guard that holds no lock by then did not start
STOP_SECONDS = 5.0  # a guard still holding its lock after SIGTERM this long is killed
POLL_SECONDS = 0.05
_LEFT_RUNNING: list[subprocess.Popen[bytes]] = []  # guards a crashing controller leaves behind


def lock_path(state_dir: Path) -> Path:
    return state_dir / LOCK_NAME


@contextlib.contextmanager
def hold_lock(path: Path) -> Iterator[bool]:
    """Take the guard's lock for the life of the block: True, or False when another holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield True
    finally:
        os.close(fd)


def running_guard(path: Path) -> int | None:
    """The pid of the guard holding the lock (0 while it has not written it yet), or None."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode(errors="replace").strip()
            return int(text) if text.isdigit() else 0
        return None  # nobody holds it
    finally:
        os.close(fd)


def spawn_guard() -> subprocess.Popen[bytes]:
    """`pbx-bridge guard` in its own session, with this process's settings and output."""
    return subprocess.Popen(
        [sys.executable, "-m", "pbx_bridge", "guard"],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


async def _wait_for_lock(path: Path, process: subprocess.Popen[bytes]) -> int | None:
    for _ in range(round(START_SECONDS / POLL_SECONDS)):
        pid = running_guard(path)
        if pid:
            return pid
        if process.poll() is not None:
            return running_guard(path) or None  # it exited: no credentials, or another guard
        await asyncio.sleep(POLL_SECONDS)
    return running_guard(path) or None


async def stop_guard(pid: int, path: Path, process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL if it still holds its lock after STOP_SECONDS."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)  # a stopped guard would never see the SIGTERM
    # Another process's lock has no event to await: look at it every POLL_SECONDS.
    for _ in range(round(STOP_SECONDS / POLL_SECONDS)):
        if running_guard(path) is None:
            break
        await asyncio.sleep(POLL_SECONDS)
    if running_guard(path) is not None:
        log.warning("guard.killed", pid=pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if process is not None:
        await asyncio.to_thread(process.wait)  # our child: reaped, no zombie left


@contextlib.asynccontextmanager
async def guard_beside(state_dir: Path) -> AsyncIterator[int | None]:
    """The guard of this state directory for the block: reused if one runs, started if not,
    stopped when the block ends cleanly. A block that raises (the controller crashed) leaves it
    running, as a killed controller does: that is the point. Yields its pid, or None when it
    could not start."""
    path = lock_path(state_dir)
    process: subprocess.Popen[bytes] | None = None
    pid = running_guard(path)
    if pid is not None:
        log.info("guard.reused", pid=pid)
    else:
        process = spawn_guard()
        pid = await _wait_for_lock(path, process)
        if pid is None:
            log.error("guard.not_started", returncode=process.poll())
        else:
            log.info("guard.spawned", pid=pid)
    try:
        yield pid
    except BaseException:
        # The controller crashed: its calls may still be in Stasis, and the guard moves them.
        log.warning("guard.left_running", pid=pid)
        if process is not None:
            _LEFT_RUNNING.append(process)  # on purpose: no "still running" warning as it goes
        raise
    pid = pid or running_guard(path)  # 0: a reused guard had not written its pid yet
    if pid:
        await stop_guard(pid, path, process)
    elif process is not None and process.poll() is None:
        process.kill()
        await asyncio.to_thread(process.wait)
