"""`pbx-bridge replay`: run a mix against the sandbox, then check the store against the truth."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge import sandbox
from pbx_bridge.asterisk.ami import AmiClient
from pbx_bridge.config import Settings
from pbx_bridge.dispatch.repository import DispatchRepository
from pbx_bridge.dispatch.services import DispatchService
from pbx_bridge.queue import members
from pbx_bridge.queue.takers import load_taker
from pbx_bridge.replay import load
from pbx_bridge.replay.controller import connected, started_controller, wait_connected
from pbx_bridge.replay.mix import Behaviour, Mix, Timing, check_timing
from pbx_bridge.replay.plan import PlannedCall, plan, write_truth
from pbx_bridge.replay.records import file_emergencies, recorded
from pbx_bridge.replay.verdict import Reconciliation, reconcile
from pbx_bridge.store.database import make_engine
from pbx_bridge.wiring import agencies, handoff_policy

Say = Callable[[str], None]
# After the last caller's SIPp ends, records still arrive (the controller writes on hang-up,
# the queue's events come 0.3 s late): wait this long without a new one before judging.
SETTLE_SECONDS = 10.0


class ReplayError(RuntimeError):
    pass


@dataclass(frozen=True)
class ReplayResult:
    reconciliation: Reconciliation
    calls: int
    seconds: float  # wall time from the first arrival to the verdict
    sipp_failed: int
    out_dir: Path


def timing(settings: Settings) -> Timing:
    return Timing(
        listen_seconds=settings.listen_seconds,
        await_55_seconds=settings.await_55_seconds,
        valid_min_seconds=settings.valid_min_seconds,
        hung_up_immediately_seconds=settings.hung_up_immediately_seconds,
        ring_seconds=settings.ring_seconds,
    )


def planned(settings: Settings, mix: Mix, scale: float, seed: int) -> list[PlannedCall]:
    problems = check_timing(mix, timing(settings))
    if problems:
        raise ReplayError("the mix's outcomes would not be certain:\n  " + "\n  ".join(problems))
    run_tag = random.SystemRandom().randrange(1000)
    return plan(mix, timing(settings), scale=scale, seed=seed, run_tag=run_tag)


def check_load_takers(settings: Settings, mix: Mix) -> None:
    accounts = sandbox.instance_dir(settings) / "etc/pjsip_load_takers.conf"
    have = accounts.read_text().count("type = endpoint") if accounts.exists() else 0
    if have < mix.takers.count:
        raise ReplayError(
            f"the sandbox has {have} load call takers, the mix needs {mix.takers.count}: set "
            "PBX_BRIDGE_SANDBOX_LOAD_TAKERS if needed, then `pbx-bridge sandbox down` and run "
            "again (the sandbox renders them at start)"
        )


async def _progress(
    callers: list[load.CallerProcess], calls: list[PlannedCall], started: float, say: Say
) -> None:
    total = len(calls)
    while any(c.process.poll() is None for c in callers):
        await asyncio.sleep(5)
        elapsed = time.monotonic() - started
        arrived = sum(1 for call in calls if call.arrive_ms <= elapsed * 1000)
        done = [c.counters() for c in callers]
        ended, failed = sum(d[0] for d in done), sum(d[1] for d in done)
        say(
            f"  {elapsed:5.0f} s  arrived {arrived}/{total}  ended {ended + failed}  "
            f"in progress {arrived - ended - failed}  failed (SIPp) {failed}"
        )


async def _settled_records(
    engine: AsyncEngine, calls: list[PlannedCall], since: datetime, say: Say
) -> None:
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < SETTLE_SECONDS:
        count = len(await recorded(engine, calls, since))
        if count == len(calls):
            return
        if count != seen:
            seen, quiet_since = count, time.monotonic()
        await asyncio.sleep(1)
    say(f"  {len(calls) - seen} calls still without a record after {SETTLE_SECONDS:.0f} s")


async def _verdict(
    settings: Settings, calls: list[PlannedCall], since: datetime, say: Say
) -> Reconciliation:
    """Wait for the records, file the planned emergencies, then judge the store."""
    engine = make_engine(settings.effective_database_url())
    try:
        await _settled_records(engine, calls, since, say)
        records = await recorded(engine, calls, since)
        dispatch = DispatchService(
            DispatchRepository(engine),
            agencies(settings),
            handoff_policy(settings),
            lambda _kind, _data: None,
        )
        filed = await file_emergencies(dispatch, calls, records)
        say(f"filed {filed} emergencies as the call takers would (verified, handed off)")
        final = await recorded(engine, calls, since)
        return reconcile(calls, {number: found for number, (_, found) in final.items()})
    finally:
        await engine.dispose()


@asynccontextmanager
async def logged_in_takers(settings: Settings, count: int) -> AsyncIterator[None]:
    """The load call takers in the queue, ready, for the time of the replay."""
    password = settings.ami_password.get_secret_value() if settings.ami_password else ""
    ami = AmiClient(
        host=settings.ami_host,
        port=settings.ami_port,
        username=settings.ami_username,
        secret=password,
    )
    await ami.start()
    takers = [load_taker(n) for n in range(1, count + 1)]
    try:
        for taker in takers:
            await members.log_in(ami, taker, ready=True)
        yield
    finally:
        for taker in takers:
            await members.log_out(ami, taker)
        ami.close()


async def replay(
    settings: Settings,
    mix: Mix,
    *,
    scale: float,
    seed: int,
    out_dir: Path,
    say: Say,
) -> ReplayResult:
    calls = planned(settings, mix, scale, seed)
    write_truth(calls, out_dir / "truth.csv")
    span = max(call.arrive_ms for call in calls) / 1000
    say(
        f"replay {mix.name}: {len(calls)} calls over {span:.0f} s, {mix.takers.count} SIPp "
        f"call takers; ground truth in {out_dir / 'truth.csv'}"
    )
    sandbox.up(settings, progress=say)
    check_load_takers(settings, mix)
    async with AsyncExitStack() as stack:
        sync = stack.enter_context(ExitStack())
        if not await connected(settings):
            log = out_dir / "controller.log"
            say(f"no controller connected to ARI: starting `pbx-bridge serve` (log: {log})")
            process = sync.enter_context(started_controller(log))
            await wait_connected(settings, process, log)
        since = datetime.now(UTC) - timedelta(seconds=2)

        await stack.enter_async_context(logged_in_takers(settings, mix.takers.count))
        phone = load.start_taker_phone(settings, mix.takers)
        sync.callback(load.stop, phone)
        started = time.monotonic()
        callers = [
            load.start_callers(settings, calls, behaviour, round(span + 900))
            for behaviour in Behaviour
            if any(call.behaviour is behaviour for call in calls)
        ]
        for caller in callers:
            sync.callback(load.stop, caller.process)
        await _progress(callers, calls, started, say)
        failed = sum(c.counters()[1] for c in callers)
        for caller in callers:
            if caller.process.returncode != 0 and caller.errors():
                say(f"SIPp {caller.behaviour} ended with errors: {caller.errors()[-600:]}")
        reconciliation = await _verdict(settings, calls, since, say)
    result = ReplayResult(reconciliation, len(calls), time.monotonic() - started, failed, out_dir)
    _write_summary(result, mix, scale, seed)
    return result


def _write_summary(result: ReplayResult, mix: Mix, scale: float, seed: int) -> None:
    verdict = result.reconciliation
    (result.out_dir / "mismatches.txt").write_text(
        "".join(m.describe() + "\n" for m in verdict.mismatches)
    )
    summary = {
        "mix": mix.name,
        "scale": scale,
        "seed": seed,
        "calls": result.calls,
        "seconds": round(result.seconds, 1),
        "sipp_failed_calls": result.sipp_failed,
        "mismatches": len(verdict.mismatches),
        "categories": [
            {"category": r.category, "expected": r.expected, "recorded": r.recorded}
            for r in verdict.rows
        ],
        "emergencies_expected": dict(verdict.emergencies_expected),
        "emergencies_recorded": dict(verdict.emergencies_recorded),
    }
    (result.out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
