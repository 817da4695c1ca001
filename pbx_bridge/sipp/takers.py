"""SIPp call takers: a softphone that registers, then answers the queue's calls."""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pbx_bridge.config import Settings
from pbx_bridge.queue.takers import sip_password
from pbx_bridge.sandbox import SandboxError
from pbx_bridge.sipp.runner import SippResult, SippRun, free_port, prepare


@dataclass(frozen=True)
class AnsweredCall:
    """What the call taker's phone saw of one call, by SIPp's clock."""

    call_id: str
    invite_received: datetime
    answered: datetime | None  # our 200 OK


def register(settings: Settings, taker_id: str, port: int, expires: int = 3600) -> None:
    if settings.sip_secret is None:
        raise SandboxError("no PBX_BRIDGE_SIP_SECRET: run `pbx-bridge sandbox up` first")
    password = sip_password(settings.sip_secret.get_secret_value(), taker_id)
    run = prepare(
        settings,
        "taker_register",
        {"taker": taker_id, "expires": str(expires)},
        {"-p": str(port), "-m": "1", "-au": taker_id, "-ap": password, "-timeout": "10s"},
        ("-timeout_error",),
    )
    done = subprocess.run(run.command, capture_output=True, text=True, check=False, timeout=20)
    if done.returncode != 0:
        result = run.result(done.returncode, done.stdout + done.stderr)
        raise SandboxError(f"{taker_id} could not register: {result.errors or result.output}")


def udp_listening(port: int) -> bool:
    wanted = f":{port:04X} "
    with Path("/proc/net/udp").open(encoding="ascii") as table:
        return any(line.split()[1].endswith(wanted.strip()) for line in list(table)[1:])


def wait_listening(port: int, process: subprocess.Popen[str], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if udp_listening(port):
            return
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise SandboxError(f"SIPp phone exited at start: {output[-800:]}")
        time.sleep(0.02)
    raise SandboxError(f"SIPp phone did not listen on udp port {port} within {within:.0f} s")


class TakerPhone:
    """A SIPp phone answering up to `calls` calls in the background: a call taker's softphone
    (registered), or with registers=False a caller's phone at the carrier's address."""

    def __init__(
        self,
        settings: Settings,
        taker_id: str,
        *,
        answer_after: float = 1.0,
        talk_seconds: float = 5.0,
        calls: int = 1,
        port: int | None = None,
        registers: bool = True,
    ) -> None:
        self.taker_id = taker_id
        self._settings = settings
        self._registers = registers
        self.port = port or free_port()
        if registers:
            register(settings, taker_id, self.port)
        self._run: SippRun = prepare(
            settings,
            "taker",
            {
                "taker": taker_id,
                "answer_ms": str(int(answer_after * 1000)),
                "talk_ms": str(int(talk_seconds * 1000)),
            },
            {"-p": str(self.port), "-m": str(calls), "-l": str(max(calls, 1))},
        )
        self._process = subprocess.Popen(
            self._run.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        # An INVITE sent before SIPp has bound its port is lost: ready means listening.
        wait_listening(self.port, self._process)

    def answered(self) -> list[AnsweredCall]:
        """The calls the phone has seen so far (INVITE in, 200 OK out)."""
        found: dict[str, AnsweredCall] = {}
        for message in self._run.messages:
            if message.direction == "received" and message.first_line.startswith("INVITE"):
                found.setdefault(message.call_id, AnsweredCall(message.call_id, message.at, None))
            elif (
                message.direction == "sent"
                and message.first_line.startswith("SIP/2.0 200")
                and message.call_id in found
                and found[message.call_id].answered is None
            ):
                found[message.call_id] = AnsweredCall(
                    message.call_id, found[message.call_id].invite_received, message.at
                )
        return sorted(found.values(), key=lambda call: call.invite_received)

    def stop(self, timeout: float = 10.0) -> SippResult:
        """End the phone (after its calls, or now) and unregister it."""
        try:
            output, _ = self._process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            output, _ = self._process.communicate()
        # The phone is gone: so is its registration. Only the same contact (this port) can be
        # removed; a contact left behind outlives the sandbox (astdb) and makes the taker look
        # available to whatever runs next, which is how one test once passed only after others.
        if self._registers:
            with contextlib.suppress(SandboxError):
                register(self._settings, self.taker_id, self.port, expires=0)
        return self._run.result(self._process.returncode, output or "")
