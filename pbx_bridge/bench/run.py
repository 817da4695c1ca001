"""`pbx-bridge bench`: D, S0 and S on one Asterisk, stepped up until calls fail.

D is 112 screened by plain dialplan (Answer, TALK_DETECT, Queue), S0 the same after a Stasis
hop to an app that continues at once, S the full controller. Every figure comes from the SIPp
side (failed calls, retransmissions, INVITE -> 200 OK) and from /proc (CPU, memory).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pbx_bridge import sandbox
from pbx_bridge.bench.load import CallerRun, start_callers
from pbx_bridge.bench.proc import (
    cpu_seconds,
    histogram_max_bound,
    prometheus_values,
    rss_bytes,
    this_machine,
)
from pbx_bridge.bench.results import BenchResult, HoldResult, ModeResult, SoakResult, Step
from pbx_bridge.bench.sipp_stats import read_stat
from pbx_bridge.config import Settings
from pbx_bridge.replay.controller import connected
from pbx_bridge.replay.load import stop
from pbx_bridge.sipp.runner import free_port

Say = Callable[[str], None]
SERVICE = {"D": "bench-d", "S0": "bench-s0", "S": "112"}
LOOP_LAG = "pbx_bridge_event_loop_lag_seconds"
ACTIVE_CALLS = "pbx_bridge_active_calls"
SETTLE_SECONDS = 3.0


class BenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class Plan:
    ladder: tuple[float, ...] = (10, 20, 30, 40, 50, 60, 80, 100, 125, 150, 200, 250)
    step_seconds: float = 15.0
    hold_ms: int = 5000  # each caller talks (speech), then hangs up this long after the answer
    held_calls: int = 1000  # held at once in screening and queue (S)
    held_seconds: float = 75.0
    soak_seconds: float = 300.0
    soak_rate: float = 20.0
    refine: int = 2  # halvings between the last held and the first failed rate
    # After an overloaded step Asterisk keeps retransmitting for about 32 s (measured here).
    recovery_seconds: float = 35.0


@dataclass
class Parts:
    """The processes measured, for the time of the bench."""

    settings: Settings
    asterisk: int
    controller: subprocess.Popen[bytes]
    continue_app: subprocess.Popen[bytes]
    metrics_url: str
    steps_run: int = field(default=0)

    def metrics(self) -> dict[str, float]:
        """The controller's /metrics; {} when it does not answer within 5 s (overloaded)."""
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=5) as page:  # noqa: S310
                return prometheus_values(page.read().decode())
        except OSError:
            return {}

    def measured_pid(self, mode: str) -> int | None:
        return {"S": self.controller.pid, "S0": self.continue_app.pid}.get(mode)

    def tag(self) -> str:
        self.steps_run += 1
        return f"{self.steps_run:03d}"


def _child(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)


def _wait_for(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ready():
            return
        if process.poll() is not None:
            raise BenchError(f"{log.name} stopped at start: {log.read_text()[-1200:]}")
        time.sleep(0.2)
    raise BenchError(f"{log.name}: not connected to ARI within 30 s")


@contextmanager
def measured_parts(settings: Settings, work_dir: Path, say: Say) -> Iterator[Parts]:
    if asyncio.run(connected(settings)):
        raise BenchError(
            f"a controller is serving on port {settings.api_port} (`make run`?): stop it "
            "first (the bench starts its own, with its own database)"
        )
    sandbox.up(settings, progress=say)
    asterisk = sandbox.asterisk_pid(settings)
    if asterisk is None:
        raise BenchError("Asterisk is not running in the sandbox: `pbx-bridge sandbox up`")
    api_port = free_port(kind=1)
    env = {
        **os.environ,
        "PBX_BRIDGE_STATE_DIR": str(work_dir),
        "PBX_BRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{work_dir / 'bench.db'}",
        "PBX_BRIDGE_API_PORT": str(api_port),
        "PBX_BRIDGE_LOG_FORMAT": "json",
        # The bench's calls only: not the sandbox's CDR history.
        "PBX_BRIDGE_CDR_FILE": str(work_dir / "no-cdr.csv"),
    }
    with ExitStack() as stack:
        controller_log = work_dir / "controller.log"
        controller = _child([sys.executable, "-m", "pbx_bridge", "serve"], controller_log, env)
        stack.callback(stop, controller)
        ours = settings.model_copy(update={"api_port": api_port})
        _wait_for(lambda: asyncio.run(connected(ours)), controller, controller_log)
        app_log = work_dir / "continue-app.log"
        command = [sys.executable, "-m", "pbx_bridge.bench.continue_app"]
        continue_app = _child(command, app_log, env)
        stack.callback(stop, continue_app)
        _wait_for(lambda: "ari.connected" in app_log.read_text(), continue_app, app_log)
        yield Parts(
            settings, asterisk, controller, continue_app, f"http://127.0.0.1:{api_port}/metrics"
        )


def run_step(parts: Parts, mode: str, rate: float, plan: Plan) -> Step:
    count = max(2, round(rate * plan.step_seconds))
    measured = parts.measured_pid(mode)
    before_cpu = cpu_seconds(parts.asterisk), cpu_seconds(measured) if measured else None
    before_metrics = parts.metrics()
    callers = start_callers(
        parts.settings,
        scenario="talk",
        service=SERVICE[mode],
        rate=rate,
        count=count,
        hold_ms=plan.hold_ms,
        tag=parts.tag(),
    )
    offered = callers.wait(timeout=plan.step_seconds + plan.hold_ms / 1000 + 90)
    lag = histogram_max_bound(before_metrics, parts.metrics(), LOOP_LAG) if mode == "S" else None
    return Step(
        mode=mode,
        asked_rate=rate,
        seconds=offered.sending_seconds,
        totals=offered.totals,
        latencies_ms=offered.latencies_ms,
        controller_cpu_seconds=(
            cpu_seconds(measured) - before_cpu[1]
            if measured and before_cpu[1] is not None
            else None
        ),
        asterisk_cpu_seconds=cpu_seconds(parts.asterisk) - before_cpu[0],
        loop_lag_ms_max=lag * 1000 if lag is not None else None,
    )


def _describe(step: Step) -> str:
    p95 = f"{step.p95:.1f}" if step.p95 is not None else "-"
    verdict = "held" if step.held else f"NOT held: {step.failure_text()}"
    return (
        f"  {step.mode:<2} {step.asked_rate:5.0f}/s: {step.totals.created} calls, "
        f"p95 {p95} ms, {verdict}"
    )


def _offer(parts: Parts, mode: str, rate: float, plan: Plan, say: Say) -> Step:
    step = run_step(parts, mode, rate, plan)
    say(_describe(step))
    if step.held:
        time.sleep(SETTLE_SECONDS)
    else:
        say(f"  waiting {plan.recovery_seconds:.0f} s for Asterisk to recover")
        time.sleep(plan.recovery_seconds)
    return step


def ladder(parts: Parts, mode: str, plan: Plan, say: Say) -> ModeResult:
    """Step up the ladder until a rate fails, then halve the gap to the last held rate
    `plan.refine` times: the SER to within a few calls/s, not to the ladder's spacing."""
    say(f"{mode}: stepping the call rate up ({', '.join(f'{r:g}' for r in plan.ladder)})")
    steps: list[Step] = []
    held_rate, failed_rate = 0.0, None
    for rate in plan.ladder:
        steps.append(_offer(parts, mode, rate, plan, say))
        if not steps[-1].held:
            failed_rate = rate
            break
        held_rate = rate
    for _ in range(plan.refine if failed_rate is not None else 0):
        assert failed_rate is not None  # noqa: S101 - narrowing for mypy
        middle = round((held_rate + failed_rate) / 2)
        if middle in (held_rate, failed_rate):
            break
        steps.append(_offer(parts, mode, middle, plan, say))
        if steps[-1].held:
            held_rate = middle
        else:
            failed_rate = middle
    return ModeResult(mode, tuple(steps))


def _peak_sampler(parts: Parts, runs: list[CallerRun]) -> tuple[int, int, int, int]:
    """Sample until the callers end: peak calls held (SIPp and controller agreeing), peak RSS
    of the controller and Asterisk, and the peak of SIPp's own count."""
    peak_held = peak_controller_rss = peak_asterisk_rss = peak_sipp = 0
    while any(run.process.poll() is None for run in runs):
        time.sleep(1)
        sipp_now = 0
        for run in runs:
            if run.stat_file().exists():
                try:
                    sipp_now += read_stat(run.stat_file()).current_calls
                except ValueError:
                    continue  # a row being written
        active = int(parts.metrics().get(ACTIVE_CALLS, 0))
        peak_sipp = max(peak_sipp, sipp_now)
        peak_held = max(peak_held, min(sipp_now, active))
        peak_controller_rss = max(peak_controller_rss, rss_bytes(parts.controller.pid))
        peak_asterisk_rss = max(peak_asterisk_rss, rss_bytes(parts.asterisk))
    return peak_held, peak_controller_rss, peak_asterisk_rss, peak_sipp


def hold(parts: Parts, plan: Plan, say: Say) -> HoldResult:
    """Half talking (queued at once), half silent (screened for ~30 s, then queued)."""
    say(f"S: holding {plan.held_calls} calls at once in screening and queue")
    idle_controller, idle_asterisk = rss_bytes(parts.controller.pid), rss_bytes(parts.asterisk)
    half = plan.held_calls // 2
    hold_ms = round(plan.held_seconds * 1000)
    runs = [
        start_callers(
            parts.settings,
            scenario=scenario,
            service=SERVICE["S"],
            rate=10.0,
            count=count,
            hold_ms=hold_ms,
            tag=parts.tag(),
            stats_every="1",
        )
        for scenario, count in (("talk", half), ("silent", plan.held_calls - half))
    ]
    held, controller_peak, asterisk_peak, sipp_peak = _peak_sampler(parts, runs)
    failed = sum(run.wait(timeout=30).totals.failed for run in runs)
    say(f"  held {held} at once (SIPp saw {sipp_peak}), {failed} failed")
    time.sleep(SETTLE_SECONDS)
    return HoldResult(
        target_calls=plan.held_calls,
        reached_calls=held,
        failed=failed,
        controller_rss_idle=idle_controller,
        controller_rss_peak=controller_peak,
        asterisk_rss_idle=idle_asterisk,
        asterisk_rss_peak=asterisk_peak,
    )


def soak(parts: Parts, plan: Plan, say: Say) -> SoakResult:
    count = round(plan.soak_rate * plan.soak_seconds)
    say(f"S: {count} calls at {plan.soak_rate:g}/s, sampling the controller's memory")
    run = start_callers(
        parts.settings,
        scenario="talk",
        service=SERVICE["S"],
        rate=plan.soak_rate,
        count=count,
        hold_ms=plan.hold_ms,
        tag=parts.tag(),
        stats_every="1",
    )
    samples: list[tuple[int, int]] = []
    while run.process.poll() is None:
        time.sleep(2)
        try:
            done = read_stat(run.stat_file()).successful if run.stat_file().exists() else 0
        except ValueError:
            continue
        samples.append((done, rss_bytes(parts.controller.pid)))
    run.wait(timeout=30)
    return SoakResult(tuple(samples))


def cpu_budget(modes: dict[str, ModeResult], cores: int) -> tuple[str, ...]:
    """Where the CPU went at each mode's first failing rate: the machine is shared by Asterisk,
    the Stasis app or controller, and SIPp, so this is what limits the rates."""
    notes = []
    for mode, result in modes.items():
        failed = result.first_failed()
        if failed is None or failed.asterisk_cpu_ms_per_call is None:
            continue
        asterisk = failed.asterisk_cpu_ms_per_call
        ours = failed.controller_cpu_ms_per_call or 0.0
        used = (asterisk + ours) * failed.achieved_rate / 1000
        who = {"S": "the controller", "S0": "the Stasis app"}.get(mode, "")
        detail = f" and {who} {ours:.1f} ms" if who else ""
        notes.append(
            f"{mode} at {failed.asked_rate:g} calls/s: Asterisk used {asterisk:.1f} ms of CPU "
            f"per call{detail}: {used:.2f} of the {cores} cores, SIPp's callers besides."
        )
    return tuple(notes)


def bench(settings: Settings, plan: Plan, command: str, say: Say) -> BenchResult:
    started = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory(prefix="pbx-bridge-bench-") as work,
        measured_parts(settings, Path(work), say) as parts,
    ):
        version = sandbox.asterisk_cli(settings, "core show version").strip()
        # First, while the controller is fresh: its memory per held call is then not hidden
        # in what the allocator kept from earlier steps.
        held = hold(parts, plan, say)
        say(f"  waiting {plan.recovery_seconds:.0f} s for Asterisk to settle")
        time.sleep(plan.recovery_seconds)
        modes = {mode: ladder(parts, mode, plan, say) for mode in ("D", "S0", "S")}
        half = modes["D"].ser / 2
        half_steps: list[Step] = []
        if half > 0:
            say(f"all modes at half of SER(D): {half:g} calls/s")
            for mode in ("D", "S0", "S"):
                half_steps.append(run_step(parts, mode, half, plan))
                say(_describe(half_steps[-1]))
                time.sleep(SETTLE_SECONDS)
        soaked = soak(parts, plan, say)
    machine = this_machine(version)
    return BenchResult(
        modes=modes,
        machine=machine,
        command=command,
        started=started,
        finished=datetime.now(UTC),
        half_rate=tuple(half_steps),
        hold=held,
        soak=soaked,
        notes=cpu_budget(modes, machine.cpu_count),
    )
