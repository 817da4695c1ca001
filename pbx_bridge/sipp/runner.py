"""Run a SIPp scenario against the sandbox and time each call from SIPp's own message trace."""

from __future__ import annotations

import random
import re
import socket
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pbx_bridge.config import Settings
from pbx_bridge.paths import sipp_scenarios_dir
from pbx_bridge.sandbox import INSTANCE, SandboxError, root_dir

# SIPp 3.8: "----------------------------------------------- 2026-11-25T14:08:36.402276Z"
# (older SIPp: "... 2026-11-25\t14:20:38.385719\t1764080438.385719")
_STAMP = re.compile(r"^-{20,} (\S+)(?:\t\S+\t(\d{9,}\.\d+))?\s*$")
_DIRECTION = re.compile(r"message (sent|received)")


@dataclass(frozen=True)
class SippMessage:
    at: datetime
    direction: str  # "sent" or "received"
    first_line: str
    call_id: str


@dataclass(frozen=True)
class CallTiming:
    """What SIPp did, by its own clock: the truth the store is checked against."""

    call_id: str
    invite_sent: datetime
    answered: datetime | None
    bye_sent: datetime | None

    def as_json(self) -> dict[str, str | None]:
        return {
            "call_id": self.call_id,
            "invite_sent": self.invite_sent.isoformat(),
            "answered": self.answered.isoformat() if self.answered else None,
            "bye_sent": self.bye_sent.isoformat() if self.bye_sent else None,
        }


@dataclass(frozen=True)
class SippResult:
    returncode: int
    calls: list[CallTiming]
    output: str
    errors: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def parse_messages(text: str) -> list[SippMessage]:
    messages: list[SippMessage] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        stamp = _STAMP.match(lines[index])
        if not stamp:
            index += 1
            continue
        at = (
            datetime.fromtimestamp(float(stamp.group(2)), UTC)
            if stamp.group(2)
            else datetime.fromisoformat(stamp.group(1)).astimezone(UTC)
        )
        direction_match = _DIRECTION.search(lines[index + 1]) if index + 1 < len(lines) else None
        body: list[str] = []
        index += 2
        while index < len(lines) and not _STAMP.match(lines[index]):
            body.append(lines[index])
            index += 1
        sip = [line.strip() for line in body if line.strip()]
        call_id = next(
            (line.split(":", 1)[1].strip() for line in sip if line.lower().startswith("call-id:")),
            "",
        )
        if direction_match and sip:
            messages.append(SippMessage(at, direction_match.group(1), sip[0], call_id))
    return messages


def timings(messages: list[SippMessage]) -> list[CallTiming]:
    by_call: dict[str, list[SippMessage]] = {}
    for message in messages:
        by_call.setdefault(message.call_id, []).append(message)
    result = []
    for call_id, items in by_call.items():
        invite = next(
            (m for m in items if m.direction == "sent" and m.first_line.startswith("INVITE")), None
        )
        if invite is None:
            continue
        answered = next(
            (
                m
                for m in items
                if m.direction == "received" and m.first_line.startswith("SIP/2.0 200")
            ),
            None,
        )
        bye = next(
            (m for m in items if m.direction == "sent" and m.first_line.startswith("BYE")), None
        )
        result.append(
            CallTiming(
                call_id, invite.at, answered.at if answered else None, bye.at if bye else None
            )
        )
    return sorted(result, key=lambda t: t.invite_sent)


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def random_caller() -> str:
    return "08" + "".join(random.choices("0123456789", k=10))  # noqa: S311 - test data


def scenarios() -> list[str]:
    return sorted(p.stem for p in sipp_scenarios_dir().glob("*.xml"))


@dataclass(frozen=True)
class SippRun:
    """One SIPp process in the sandbox root: its command and where its traces go."""

    root: Path
    host_run_dir: Path
    command: list[str]

    def result(self, returncode: int, output: str) -> SippResult:
        messages_log = self.host_run_dir / "messages.log"
        errors_log = self.host_run_dir / "errors.log"
        text = messages_log.read_text(errors="replace") if messages_log.exists() else ""
        return SippResult(
            returncode=returncode,
            calls=timings(parse_messages(text)),
            output=output[-6000:],
            errors=errors_log.read_text(errors="replace")[-4000:] if errors_log.exists() else "",
        )

    @property
    def messages(self) -> list[SippMessage]:
        messages_log = self.host_run_dir / "messages.log"
        text = messages_log.read_text(errors="replace") if messages_log.exists() else ""
        return parse_messages(text)


def prepare(
    settings: Settings,
    scenario: str,
    keys: dict[str, str],
    options: dict[str, str],
    flags: tuple[str, ...] = (),
    *,
    scenario_xml: str | None = None,
    trace_messages: bool = True,
) -> SippRun:
    """The SIPp command for a scenario of sipp-scenarios/ (or `scenario_xml`, a derived one
    saved under the name `scenario`), run inside the sandbox root."""
    root = root_dir(settings)
    if not (root / "usr/bin/sipp").exists():
        raise SandboxError("no SIPp in the sandbox: run `pbx-bridge sandbox up` first")
    if scenario_xml is None and scenario not in scenarios():
        raise SandboxError(f"unknown scenario {scenario!r}: one of {', '.join(scenarios())}")
    run_dir = f"{INSTANCE}/sipp/runs/{uuid.uuid4().hex[:12]}"
    host_run_dir = root / run_dir.lstrip("/")
    host_run_dir.mkdir(parents=True)
    # Keep the copy in the root current with the checkout's scenario.
    scenario_file = root / f"{INSTANCE.lstrip('/')}/sipp/{scenario}.xml"
    wanted = (
        scenario_xml.encode()
        if scenario_xml is not None
        else (sipp_scenarios_dir() / f"{scenario}.xml").read_bytes()
    )
    if not scenario_file.is_file() or scenario_file.read_bytes() != wanted:
        # Atomically: SIPp processes started in parallel read this file.
        staging = scenario_file.with_name(f".{scenario}.{uuid.uuid4().hex}.xml")
        staging.write_bytes(wanted)
        staging.replace(scenario_file)
    every = {
        "-sf": f"{INSTANCE}/sipp/{scenario}.xml",
        "-i": "127.0.0.1",
        "-mi": "127.0.0.1",
        "-mp": str(free_port() & ~1),
        **(
            {"-message_file": f"{run_dir}/messages.log", "-error_file": f"{run_dir}/errors.log"}
            if trace_messages
            else {}
        ),
        **{key: value.replace("@RUN@", run_dir) for key, value in options.items()},
    }
    command = ["chroot", str(root), "sipp", f"127.0.0.1:{settings.sandbox_sip_port}"]
    for key, value in keys.items():
        command += ["-key", key, value]
    for option, value in every.items():
        command += [option, value]
    # Without the message trace, no error trace either: it logs every 100 ms receive timeout
    # of the waiting loops, megabytes a second under load; failures are counted by -trace_stat.
    traces = ["-trace_msg", "-trace_err"] if trace_messages else []
    command += [*traces, "-nostdin", *flags]
    return SippRun(root, host_run_dir, command)


def run_scenario(
    settings: Settings,
    scenario: str,
    *,
    seconds: float = 0.0,
    dtmf_at: float = 0.0,
    caller: str | None = None,
    caller_name: str = "",
    count: int = 1,
    rate: float = 1.0,
    service: str = "112",
    timeout: float | None = None,
) -> SippResult:
    """Place calls with a caller scenario and wait for SIPp to end."""
    limit = timeout if timeout is not None else seconds + count / max(rate, 0.001) + 30
    keys = {
        "caller": caller or random_caller(),
        "caller_name": caller_name,
        "hangup_ms": str(int(seconds * 1000)),
        "dtmf_at_ms": str(int(dtmf_at * 1000)),
    }
    options = {
        "-s": service,
        "-p": str(free_port()),
        "-m": str(count),
        "-r": str(rate),
        "-l": str(max(count, 1)),
        "-timeout": f"{int(limit)}s",
    }
    run = prepare(settings, scenario, keys, options, ("-timeout_error",))
    completed = subprocess.run(
        run.command, capture_output=True, text=True, check=False, timeout=limit + 15
    )
    return run.result(completed.returncode, completed.stdout + completed.stderr)
