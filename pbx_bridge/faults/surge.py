"""The surge: twice the full controller's saturation rate for a while, then how long until a
caller is answered as fast as before it.

A probe caller every second, from before the surge until well after it, measures the answer
time (SIPp's INVITE -> 200 OK); 'back to normal' is how long after the surge's last INVITE the
probes were all answered within the calm baseline again.
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from pbx_bridge.bench.load import numbers_prefix, start_callers
from pbx_bridge.config import Settings
from pbx_bridge.sipp.runner import SippResult, random_caller, run_scenario

# What a probe's answer may take above the calmest baseline probe and still be 'normal': a
# loaded 2-core machine answers within a few tens of ms; a backlog shows as seconds.
NORMAL_MARGIN_SECONDS = 0.1


@dataclass(frozen=True)
class SurgePlan:
    rate: float  # calls/s: twice the SER of S in BENCHMARKS.md
    seconds: float = 10.0
    hold_ms: int = 5000  # each surge caller talks, then hangs up this long after the answer
    baseline_probes: int = 3
    probe_seconds: float = 30.0  # probes after the surge's last INVITE


@dataclass(frozen=True)
class SurgeOutcome:
    placed: int  # the surge's calls
    failed: int  # of them, calls SIPp saw fail (no answer, an error, cut)
    number_prefix: str  # every surge caller's number starts with it
    baseline_seconds: float  # the slowest calm probe's answer time
    back_to_normal_seconds: float | None  # None: not within the probing
    probes_failed: int


def _answer_seconds(result: SippResult) -> float | None:
    timing = result.calls[0] if result.calls else None
    if timing is None or timing.answered is None or not result.ok:
        return None
    return (timing.answered - timing.invite_sent).total_seconds()


def _probe(settings: Settings) -> float | None:
    return _answer_seconds(run_scenario(settings, "hangup", seconds=1.0, caller=random_caller()))


def back_to_normal(
    probes: list[tuple[float, float | None]], surge_end: float, normal: float
) -> float | None:
    """Seconds after `surge_end` until the first probe (started at, answer time or None) after
    the last slow or failed one: 0 when none after the surge was slow, None when the last was."""
    after = sorted((start, took) for start, took in probes if start >= surge_end)
    slow = [start for start, took in after if took is None or took > normal]
    if not after or not slow:
        return 0.0 if after else None
    later = [start for start, _ in after if start > slow[-1]]
    return later[0] - surge_end if later else None


def surge(settings: Settings, plan: SurgePlan) -> SurgeOutcome:
    baseline = [_probe(settings) for _ in range(plan.baseline_probes)]
    answered = [took for took in baseline if took is not None]
    if not answered:
        raise RuntimeError("no calm probe call was answered: the sandbox is not healthy")
    tag = "".join(secrets.choice("0123456789") for _ in range(2))
    count = max(1, round(plan.rate * plan.seconds))
    callers = start_callers(
        settings,
        scenario="talk",
        service="112",
        rate=plan.rate,
        count=count,
        hold_ms=plan.hold_ms,
        tag=tag,
    )
    probes: list[tuple[float, Future[float | None]]] = []
    with ThreadPoolExecutor(8, thread_name_prefix="probe") as pool:
        started = time.monotonic()
        surge_end = started + count / plan.rate
        while time.monotonic() < surge_end + plan.probe_seconds:
            probes.append((time.monotonic(), pool.submit(_probe, settings)))
            time.sleep(1.0)
        measured = [(start, future.result()) for start, future in probes]
    offered = callers.wait(timeout=plan.hold_ms / 1000 + 120)
    normal = max(answered) + NORMAL_MARGIN_SECONDS
    return SurgeOutcome(
        placed=offered.totals.created,
        failed=offered.totals.failed,
        number_prefix=numbers_prefix(tag),
        baseline_seconds=max(answered),
        back_to_normal_seconds=back_to_normal(measured, surge_end, normal),
        probes_failed=sum(1 for _, took in measured if took is None),
    )
