"""Each fault against the real sandbox: a fresh Asterisk, a controller of its own, SIPp call
takers who answer and SIPp callers, half of them talking, half silent (held in screening); the
fault strikes while they are on the line.

What a row says is measured from outside the controller: the Stasis app's channels (ARI), SIPp's
own record of who hung up, and the store's records once the controller is healthy again.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pbx_bridge import sandbox
from pbx_bridge.config import Settings
from pbx_bridge.faults.ari_relay import AriRelay
from pbx_bridge.faults.postgres import PostgresCluster, PostgresUnavailable
from pbx_bridge.faults.report import NOT_MEASURED, FaultRow
from pbx_bridge.faults.surge import SurgeOutcome, SurgePlan, surge
from pbx_bridge.faults.watch import StasisWatch, ari_channels
from pbx_bridge.guard.runner import in_app
from pbx_bridge.logging import mask_number
from pbx_bridge.replay.load import stop
from pbx_bridge.sipp.runner import SippResult, free_port, random_caller, run_scenario
from pbx_bridge.sipp.takers import TakerPhone

Say = Callable[[str], None]
_Part = TypeVar("_Part")
# The greeting and the 55 prompt, with a margin: the shipped prompts last about 17 s together.
PROMPTS_SECONDS = 20.0


class FaultError(RuntimeError):
    """The suite could not run a fault (not: the fault's target was missed)."""


@dataclass(frozen=True)
class FaultPlan:
    callers: int = 12  # each on the line `talk_seconds`: every other one silent, so calls are
    # held in screening (about 30 s) when the fault strikes, the others talk and queue at once
    spread_seconds: float = 12.0  # their arrivals, spread evenly
    talk_seconds: float = 40.0
    fault_after: float = 5.0  # after the first caller
    outage_seconds: float = 30.0  # a freeze, a dead controller, a locked database
    takers: tuple[str, ...] = ("ct-01", "ct-02", "ct-03")
    settle_seconds: float = 45.0  # for the records once every call has ended
    surge_rate: float = 96.0  # calls/s: twice the SER of S in BENCHMARKS.md (48) on 2 cores


@dataclass
class Controller:
    """`pbx-bridge serve` as a child process, restartable with the same configuration."""

    env: dict[str, str]
    log: Path
    api_port: int
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        if self.process is not None:
            self.process.wait(30)  # the one before has been stopped or killed: reap it
        self.starts += 1
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pbx_bridge", "serve"],
                stdout=output,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        self.wait_healthy()

    def wait_healthy(self, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise FaultError(f"the controller exited: {self.log.read_text()[-1500:]}")
            with contextlib.suppress(OSError, ValueError):
                url = f"http://127.0.0.1:{self.api_port}/health"
                with urllib.request.urlopen(url, timeout=1) as response:
                    if json.loads(response.read()).get("ari") is True:
                        return
            time.sleep(0.2)
        raise FaultError(f"the controller was not healthy within {within:.0f} s: see {self.log}")

    def signal(self, signum: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, within=20)

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "pbx_bridge", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            raise FaultError(f"pbx-bridge {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def callback_numbers(self) -> set[str]:
        rows = json.loads(self.cli("callbacks", "--json", "--show-numbers"))
        return {str(row["caller_number"]) for row in rows}

    def records(self) -> dict[str, dict[str, Any]]:
        rows = json.loads(self.cli("calls", "--json", "--show-numbers", "--limit", "5000"))
        return {str(row["caller_number"]): row for row in rows}


@dataclass
class Run:
    """One fault's world: what the fault acts on, and when it struck."""

    settings: Settings
    controller: Controller
    work_dir: Path
    fault_at: float = 0.0
    notes: list[str] = field(default_factory=list)
    relay: AriRelay | None = None  # between the controller and ARI, for injected events
    postgres: PostgresCluster | None = None  # the store, when not SQLite
    spool_disk: Path | None = None  # a small file system of its own under the spool
    surge: SurgeOutcome | None = None  # what the surge did, when the fault is one


def _no_preparation(_run: Run, _stack: ExitStack) -> None:
    return None


@dataclass(frozen=True)
class Fault:
    slug: str  # what `--only` takes
    name: str
    what: str  # one line for RELIABILITY.md
    strike: Callable[[Run, FaultPlan], None]  # returns once the fault is over
    # Before the controller starts: what the fault needs in its world (the controller's
    # environment is still open to change); cleanups go on the stack.
    prepare: Callable[[Run, ExitStack], None] = _no_preparation


# --- the faults ---------------------------------------------------------------------------


def _kill_and_restart(run: Run, plan: FaultPlan) -> None:
    run.controller.signal(signal.SIGKILL)
    if run.controller.process is not None:
        run.controller.process.wait(10)
    time.sleep(plan.outage_seconds / 3)
    run.controller.start()


def _freeze(run: Run, plan: FaultPlan) -> None:
    run.controller.signal(signal.SIGSTOP)
    try:
        time.sleep(plan.outage_seconds)
    finally:
        run.controller.signal(signal.SIGCONT)


def _terminate_and_restart(run: Run, plan: FaultPlan) -> None:
    run.controller.signal(signal.SIGTERM)
    if run.controller.process is not None:
        run.controller.process.wait(30)
    time.sleep(plan.outage_seconds / 6)
    run.controller.start()


def _cut(port: int) -> None:
    """Kill the established TCP connections to this loopback port (as a network fault would)."""
    subprocess.run(
        ["ss", "-K", "dst", "127.0.0.1", "dport", "=", f":{port}"],
        capture_output=True,
        check=False,
        timeout=10,
    )


def _cut_ari(run: Run, _plan: FaultPlan) -> None:
    _cut(int(run.settings.ari_url.rsplit(":", 1)[1].split("/")[0]))


def _cut_ami(run: Run, _plan: FaultPlan) -> None:
    _cut(run.settings.ami_port)


def _lock_sqlite(run: Run, plan: FaultPlan) -> None:
    """Another process holds the SQLite database locked (a long `retag`, a backup)."""
    path = run.work_dir / "calls.db"
    connection = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        time.sleep(plan.outage_seconds * 2)
        connection.execute("COMMIT")
    finally:
        connection.close()


def _restart_asterisk(run: Run, _plan: FaultPlan) -> None:
    sandbox.asterisk_cli(run.settings, "core restart now")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not sandbox.ari_answers(run.settings):
        time.sleep(0.5)
    run.notes.append("Asterisk's own restart ends every call it holds: those are cut off")


def _prepared(part: _Part | None, what: str) -> _Part:
    if part is None:
        raise FaultError(f"{what} was not prepared for this fault")
    return part


def _through_relay(run: Run, stack: ExitStack) -> None:
    run.relay = stack.enter_context(AriRelay(run.settings.ari_url))
    run.controller.env["PBX_BRIDGE_ARI_URL"] = run.relay.url


def _malformed_events(run: Run, _plan: FaultPlan) -> None:
    """What no Asterisk should send, as if it had: unreadable frames, an event of no channel,
    and for each call held in screening an event its handler cannot take."""
    relay = _prepared(run.relay, "the ARI relay")
    held = [str(c["id"]) for c in ari_channels(run.settings) if in_app(c, run.settings.ari_app)]
    frames = ["{not json", "[1, 2, 3]", json.dumps({"type": "StasisStart"})]
    for index, channel_id in enumerate(held):
        channel = {"id": channel_id}
        frames.append(
            json.dumps(
                {"type": "ChannelDtmfReceived", "timestamp": "yesterday", "channel": channel}
            )
            if index % 2
            else json.dumps(
                {"type": "ChannelTalkingFinished", "duration": "long", "channel": channel}
            )
        )
    if not relay.inject(frames):
        raise FaultError("no controller was connected to the ARI relay")
    run.notes.append(f"{len(frames)} malformed events, {len(held)} of them for calls in screening")


def _on_postgres(run: Run, stack: ExitStack) -> None:
    try:
        cluster = PostgresCluster.create()
    except PostgresUnavailable as error:
        raise FaultError(str(error)) from error
    stack.callback(cluster.remove)
    cluster.start()
    run.postgres = cluster
    run.controller.env["PBX_BRIDGE_DATABASE_URL"] = cluster.create_database("pbx_bridge")


def _stop_postgres(run: Run, plan: FaultPlan) -> None:
    postgres = _prepared(run.postgres, "PostgreSQL")
    postgres.stop()
    try:
        time.sleep(plan.outage_seconds * 2)
    finally:
        postgres.start()


def _spool_on_small_disk(run: Run, stack: ExitStack) -> None:
    """The spool on a file system of its own (a 1 MiB tmpfs), so that it can be filled."""
    disk = run.work_dir / "spool"
    disk.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "pbx-bridge-spool", str(disk)],
        check=True,
        capture_output=True,
        timeout=10,
    )
    stack.callback(subprocess.run, ["umount", "--lazy", str(disk)], check=False, timeout=10)
    run.spool_disk = disk


def _fill(disk: Path) -> None:
    with (disk / "filler").open("ab") as filler, contextlib.suppress(OSError):  # ENOSPC: full
        while True:
            filler.write(b"\0" * 65536)
            filler.flush()


def _spool_disk_full(run: Run, plan: FaultPlan) -> None:
    """The database down (SQLite locked) while the spool's disk is full; the disk stays full
    after the database returns."""
    _fill(_prepared(run.spool_disk, "the spool's disk"))
    _lock_sqlite(run, plan)


def _surge(run: Run, plan: FaultPlan) -> None:
    run.surge = surge(run.settings, SurgePlan(rate=plan.surge_rate))
    outcome = run.surge
    run.notes.append(
        f"{outcome.placed} surge calls at {plan.surge_rate:g}/s, {outcome.failed} failed; "
        f"calm answer time {outcome.baseline_seconds * 1000:.0f} ms, "
        f"{outcome.probes_failed} probe calls failed"
    )


FAULTS: tuple[Fault, ...] = (
    Fault(
        "sigkill",
        "controller SIGKILL",
        "the controller killed (-9) mid-call, restarted 10 s later",
        _kill_and_restart,
    ),
    Fault(
        "freeze",
        "controller frozen 30 s",
        "SIGSTOP for 30 s while callers are on the line, then SIGCONT",
        _freeze,
    ),
    Fault(
        "sigterm",
        "controller SIGTERM",
        "a clean stop mid-call (held calls go to the queue), restarted 5 s later",
        _terminate_and_restart,
    ),
    Fault("ari-cut", "ARI websocket cut", "`ss -K` on the controller's ARI connection", _cut_ari),
    Fault("ami-cut", "AMI cut", "`ss -K` on the controller's AMI connection", _cut_ami),
    Fault(
        "sqlite-locked",
        "SQLite locked 60 s",
        "another process holds the database exclusively for 60 s",
        _lock_sqlite,
    ),
    Fault(
        "malformed-event",
        "malformed ARI events",
        "unreadable frames and events their handlers cannot take, slipped into the controller's"
        " ARI websocket by a relay",
        _malformed_events,
        _through_relay,
    ),
    Fault(
        "postgres-stopped",
        "PostgreSQL stopped 60 s",
        "the store on PostgreSQL, its server stopped (fast) for 60 s",
        _stop_postgres,
        _on_postgres,
    ),
    Fault(
        "spool-disk-full",
        "spool disk full",
        "SQLite locked 60 s while the spool's file system is full, and full still after",
        _spool_disk_full,
        _spool_on_small_disk,
    ),
    Fault(
        "surge",
        "surge at 2x the SER",
        "10 s of callers at twice the full controller's SER, probe calls every second",
        _surge,
    ),
    Fault(
        "asterisk-restart", "Asterisk restarted", "`core restart now` mid-call", _restart_asterisk
    ),
)


def fault_named(name: str) -> Fault:
    for fault in FAULTS:
        if name in (fault.slug, fault.name):
            return fault
    raise FaultError(f"no fault {name!r}: one of {', '.join(f.slug for f in FAULTS)}")


# --- one fault, measured --------------------------------------------------------------------


@contextmanager
def _world(
    settings: Settings, fault: Fault, work_dir: Path, plan: FaultPlan, say: Say
) -> Iterator[Run]:
    work_dir.mkdir(parents=True, exist_ok=True)
    sandbox.down(settings)
    sandbox.up(settings, progress=say)
    api_port = free_port(kind=1)
    env = {
        **os.environ,
        "PBX_BRIDGE_STATE_DIR": str(work_dir),
        "PBX_BRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{work_dir / 'calls.db'}",
        "PBX_BRIDGE_API_PORT": str(api_port),
        "PBX_BRIDGE_LOG_FORMAT": "json",
        "PBX_BRIDGE_CDR_FILE": str(
            sandbox.instance_dir(settings) / "log/cdr-custom/pbx-bridge-cdr.csv"
        ),
        "PBX_BRIDGE_RECONCILE_INTERVAL_SECONDS": "2",
        "PBX_BRIDGE_GUARD_METRICS_PORT": str(free_port(kind=1)),
    }
    controller = Controller(env, work_dir / "controller.log", api_port)
    run = Run(settings, controller, work_dir)
    with ExitStack() as stack:
        fault.prepare(run, stack)
        controller.start()
        stack.callback(controller.stop)
        for taker in plan.takers:
            controller.cli("takers", "login", taker, "--ready")
        yield run


# What the controller's own log says the fault made it do, named in the row's note.
TOLD_EVENTS = {
    "ari.event_failed": "events its handlers could not take",
    "ari.event_unreadable": "unreadable ARI frames",
    "store.spool_unwritable": "records held in memory (spool unwritable)",
    "store.held_records_released": "releases of held records",
    "store.record_lost": "records LOST by the writer",
    "spool.drained": "spool drains",
}


def told(log: Path) -> list[str]:
    """How often each event of TOLD_EVENTS is in the controller's JSON log."""
    counts: dict[str, int] = dict.fromkeys(TOLD_EVENTS, 0)
    for line in log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line).get("event") if line.startswith("{") else None
            if event in counts:
                counts[event] += 1
    return [f"{count} {TOLD_EVENTS[event]}" for event, count in counts.items() if count]


def measure(
    settings: Settings, fault: Fault, plan: FaultPlan, work_dir: Path, say: Say
) -> FaultRow:
    """Callers on the line, the fault in the middle, and what it cost them."""
    with _world(settings, fault, work_dir, plan, say) as run, ExitStack() as stack:
        # Call takers talk longer than any caller stays: every call that ends before its
        # caller hangs up was cut off by the PBX.
        phones = [
            TakerPhone(settings, taker, answer_after=1.0, talk_seconds=600, calls=plan.callers)
            for taker in plan.takers
        ]
        for phone in phones:
            stack.callback(phone.stop, 5)
        watch = stack.enter_context(StasisWatch(settings, settings.ari_app))
        pool = stack.enter_context(ThreadPoolExecutor(plan.callers))
        calls: dict[str, Future[SippResult]] = {}
        silent: set[str] = set()
        gap = plan.spread_seconds / max(plan.callers - 1, 1)

        def place_callers() -> None:
            for index in range(plan.callers):
                number = random_caller()
                scenario = "silent" if index % 2 else "talk"
                if index % 2:
                    silent.add(number)
                calls[number] = pool.submit(
                    run_scenario, settings, scenario, seconds=plan.talk_seconds, caller=number,
                    timeout=plan.talk_seconds + 120,
                )  # fmt: skip
                time.sleep(gap)

        placing = threading.Thread(target=place_callers, name="callers")
        placing.start()
        time.sleep(plan.fault_after)
        say(f"  {fault.name}: striking")
        run.fault_at = time.monotonic()
        fault.strike(run, plan)
        placing.join()
        results = {number: future.result() for number, future in calls.items()}
        run.controller.wait_healthy()
        numbers = set(results)
        records = _records_within(run.controller, numbers, plan.settle_seconds)
        run.notes += told(run.controller.log)
        owed = run.controller.callback_numbers()
        # A healthy controller screens a silent caller for the greeting, the listening time,
        # the 55 prompt and the wait for 55 (about 32 s with the shipped prompts).
        screening = settings.listen_seconds + settings.await_55_seconds + PROMPTS_SECONDS
        longest = watch.longest_stranded(run.fault_at, numbers - silent, silent, screening)
    return _row(fault, run, results, records, owed_callback=owed, longest=longest)


def _row(
    fault: Fault,
    run: Run,
    results: dict[str, SippResult],
    records: dict[str, dict[str, Any]],
    *,
    owed_callback: set[str],
    longest: float,
) -> FaultRow:
    numbers = set(results)
    for number in sorted(numbers - set(records)):  # what a lost call looked like to its caller
        timing = results[number].calls[0] if results[number].calls else None
        run.notes.append(
            f"lost {mask_number(number)}: "
            + (
                f"INVITE {timing.invite_sent:%H:%M:%S.%f}, answered {timing.answered is not None}, "
                f"caller's BYE {timing.bye_sent is not None}"
                if timing
                else "SIPp saw no call"
            )
        )
    cut = {
        number
        for number, result in results.items()
        if not result.ok or not result.calls or result.calls[0].bye_sent is None
    }
    if cut:  # what the centre can still do for them: a call taker spoke with them, or calls back
        spoke = {number for number in cut if records.get(number, {}).get("agent")}
        run.notes.append(
            f"of the {len(cut)} cut off, {len(spoke)} had spoken with a call taker, "
            f"{len(cut & owed_callback)} are on the callback worklist"
        )
    placed, recorded, cut_off = len(numbers), len(numbers & set(records)), len(cut)
    if run.surge is not None:  # its callers are counted too, from SIPp's totals
        placed += run.surge.placed
        cut_off += run.surge.failed
        recorded += sum(1 for number in records if number.startswith(run.surge.number_prefix))
    return FaultRow(
        fault=fault.name,
        calls=placed,
        answered=sum(1 for number in numbers if records.get(number, {}).get("agent")),
        cut_off=cut_off,
        longest_in_stasis=round(longest, 1),
        recorded=recorded,
        note="; ".join([fault.what, *run.notes]),
        back_to_normal=run.surge.back_to_normal_seconds if run.surge else NOT_MEASURED,
    )


def _records_within(
    controller: Controller, numbers: set[str], within: float
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + within
    records = controller.records()
    while not numbers <= set(records) and time.monotonic() < deadline:
        time.sleep(1)
        records = controller.records()
    return records


def run_faults(
    settings: Settings, faults: list[Fault], plan: FaultPlan, work_dir: Path, say: Say
) -> list[FaultRow]:
    rows = []
    for index, fault in enumerate(faults, 1):
        say(f"[{index}/{len(faults)}] {fault.name}: {plan.callers} callers")
        row = measure(settings, fault, plan, work_dir / f"fault-{index}", say)
        say(f"  -> {row}")
        rows.append(row)
    sandbox.down(settings)
    return rows
