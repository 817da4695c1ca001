"""What a bench run measured, the rules that judge it, and its JSON form.

Percentiles are nearest-rank: pN is the smallest measured latency with at least N % of the
measurements at or below it (always a value SIPp really measured; no interpolation).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from pbx_bridge.bench.sipp_stats import SippTotals

MODES = ("D", "S0", "S")
HELD_RATE_SHARE = 0.99  # a step is held only if it achieved >= 99 % of the asked call rate
TARGET_SER_RATIO = 0.95  # SER(S) >= 0.95 SER(D)
TARGET_ADDED_P95_MS = 10.0  # p95(S) - p95(D) at half SER(D)
TARGET_CONCURRENT_CALLS = 1000
# "Flat" memory: the least-squares RSS slope over the soak's second half. One leaked call
# record (a few hundred bytes of Python objects) per call shows clearly above this.
TARGET_GROWTH_BYTES_PER_CALL = 100.0


def percentile(values: tuple[float, ...] | list[float], share: float) -> float | None:
    """Nearest-rank percentile (share in 0..100) of `values`, None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


@dataclass(frozen=True)
class Step:
    """One call rate offered to one mode.

    `seconds` is how long calls were offered (the step's sending time), not SIPp's elapsed time,
    which also holds the last calls' durations; achieved_rate = calls created / seconds.
    """

    mode: str  # "D", "S0" or "S"
    asked_rate: float  # calls per second
    seconds: float
    totals: SippTotals
    latencies_ms: tuple[float, ...]  # answer latency (INVITE -> 200 OK) per answered call
    controller_cpu_seconds: float | None = None  # None for D (no controller)
    asterisk_cpu_seconds: float | None = None
    loop_lag_ms_max: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown bench mode {self.mode!r} (one of {', '.join(MODES)})")

    @property
    def achieved_rate(self) -> float:
        return self.totals.created / self.seconds if self.seconds > 0 else 0.0

    @property
    def achieved_share(self) -> float:
        return self.achieved_rate / self.asked_rate if self.asked_rate > 0 else 0.0

    @property
    def unfinished(self) -> int:
        """Calls created but neither successful nor failed (still up when SIPp stopped)."""
        return max(0, self.totals.created - self.totals.successful - self.totals.failed)

    @property
    def held(self) -> bool:
        """Zero failed calls, zero retransmissions, >= 99 % of the asked rate, every call ended
        successfully."""
        totals = self.totals
        return (
            totals.failed == 0
            and totals.retransmissions == 0
            and self.achieved_share >= HELD_RATE_SHARE
            and totals.successful == totals.created
        )

    @property
    def p50(self) -> float | None:
        return percentile(self.latencies_ms, 50)

    @property
    def p95(self) -> float | None:
        return percentile(self.latencies_ms, 95)

    @property
    def p99(self) -> float | None:
        return percentile(self.latencies_ms, 99)

    @property
    def controller_cpu_ms_per_call(self) -> float | None:
        return _per_call_ms(self.controller_cpu_seconds, self.totals.created)

    @property
    def asterisk_cpu_ms_per_call(self) -> float | None:
        return _per_call_ms(self.asterisk_cpu_seconds, self.totals.created)

    def failure_text(self) -> str:
        """What kept this step from being held, e.g. "3 failed calls (2 timeouts), 150
        retransmissions, achieved 97.0 % of the asked rate"; "" when it was held."""
        totals, parts = self.totals, []
        if totals.failed:
            causes = [
                _plural(totals.timeouts, "timeout") if totals.timeouts else "",
                _plural(totals.unexpected, "unexpected message") if totals.unexpected else "",
                f"{totals.max_udp_retrans} over the UDP retransmission limit"
                if totals.max_udp_retrans
                else "",
            ]
            causes = [cause for cause in causes if cause]
            text = _plural(totals.failed, "failed call")
            parts.append(f"{text} ({', '.join(causes)})" if causes else text)
        if totals.retransmissions:
            parts.append(_plural(totals.retransmissions, "retransmission"))
        if self.achieved_share < HELD_RATE_SHARE:
            parts.append(f"achieved {self.achieved_share * 100:.1f} % of the asked rate")
        if self.unfinished:
            parts.append(f"{_plural(self.unfinished, 'call')} not ended")
        return ", ".join(parts)


def _per_call_ms(seconds: float | None, calls: int) -> float | None:
    return None if seconds is None or calls == 0 else seconds * 1000 / calls


@dataclass(frozen=True)
class ModeResult:
    """One mode's ramp: its steps in any order (they are judged by ascending asked rate)."""

    mode: str
    steps: tuple[Step, ...]

    def ordered(self) -> list[Step]:
        return sorted(self.steps, key=lambda step: step.asked_rate)

    def first_failed(self) -> Step | None:
        return next((step for step in self.ordered() if not step.held), None)

    @property
    def ser(self) -> float:
        """The SER rate: the highest asked rate held before the first step that was not held.

        Steps are taken by ascending asked rate. A step above a failed one that passes again
        does NOT count (the rate before the first failing step is the limit); 0 when the lowest
        step already failed or there are no steps.
        """
        ser = 0.0
        for step in self.ordered():
            if not step.held:
                break
            ser = step.asked_rate
        return ser

    @property
    def limit_reason(self) -> str:
        """What failed in the first failed step, with its rate."""
        failed = self.first_failed()
        if failed is None:
            if not self.steps:
                return "no steps were run"
            top = max(step.asked_rate for step in self.steps)
            return f"nothing failed up to {top:g} calls/s (the ramp stopped below the limit)"
        return f"at {failed.asked_rate:g} calls/s: {failed.failure_text()}"


@dataclass(frozen=True)
class HoldResult:
    """Calls held at once in screening and the queue, with memory idle and at the peak."""

    target_calls: int
    reached_calls: int  # peak concurrent calls
    failed: int
    controller_rss_idle: int  # bytes
    controller_rss_peak: int
    asterisk_rss_idle: int
    asterisk_rss_peak: int

    @property
    def controller_bytes_per_call(self) -> float | None:
        return _per_call(self.controller_rss_peak - self.controller_rss_idle, self.reached_calls)

    @property
    def asterisk_bytes_per_call(self) -> float | None:
        return _per_call(self.asterisk_rss_peak - self.asterisk_rss_idle, self.reached_calls)


def _per_call(total: int, calls: int) -> float | None:
    return None if calls == 0 else total / calls


@dataclass(frozen=True)
class SoakResult:
    """A long run's samples of (calls completed so far, controller RSS in bytes)."""

    samples: tuple[tuple[int, int], ...]

    @property
    def first_rss(self) -> int | None:
        return self.samples[0][1] if self.samples else None

    @property
    def last_rss(self) -> int | None:
        return self.samples[-1][1] if self.samples else None

    @property
    def calls(self) -> int:
        return self.samples[-1][0] if self.samples else 0

    @property
    def growth_bytes_per_call(self) -> float | None:
        """Least-squares slope of RSS against calls over the second half of the samples (the
        first half warms caches and pools up); None with fewer than two distinct call counts."""
        half = self.samples[len(self.samples) // 2 :]
        if len(half) < 2:
            return None
        mean_x = sum(x for x, _ in half) / len(half)
        mean_y = sum(y for _, y in half) / len(half)
        var_x = sum((x - mean_x) ** 2 for x, _ in half)
        if var_x == 0:
            return None
        return sum((x - mean_x) * (y - mean_y) for x, y in half) / var_x


@dataclass(frozen=True)
class Machine:
    cpu_count: int
    cpu_model: str
    memory_bytes: int
    kernel: str
    asterisk_version: str
    python_version: str = ""


class Target(NamedTuple):
    name: str
    target: str
    measured: str
    met: bool


@dataclass(frozen=True)
class BenchResult:
    """One bench run. `half_rate` holds the steps run at exactly half SER(D) in each mode."""

    modes: dict[str, ModeResult]
    machine: Machine
    command: str
    started: datetime
    finished: datetime
    half_rate: tuple[Step, ...] = ()
    hold: HoldResult | None = None
    soak: SoakResult | None = None
    notes: tuple[str, ...] = field(default=())

    def ser(self, mode: str) -> float:
        found = self.modes.get(mode)
        return found.ser if found else 0.0

    def ser_ratio(self, mode: str) -> float | None:
        """SER(mode) / SER(D); None when D held no step."""
        base = self.ser("D")
        return None if base == 0 else self.ser(mode) / base

    @property
    def half_rate_target(self) -> float:
        return self.ser("D") / 2

    def step_at(self, mode: str, rate: float) -> Step | None:
        """The mode's step at `rate`: one with exactly that asked rate (the half-rate steps
        first), else the closest."""
        ramp = self.modes[mode].steps if mode in self.modes else ()
        candidates = [s for s in self.half_rate if s.mode == mode] + list(ramp)
        if not candidates:
            return None
        return min(candidates, key=lambda step: abs(step.asked_rate - rate))

    def added_p95_ms(self, mode: str = "S") -> float | None:
        """p95(mode) - p95(D) at half SER(D); None when either was not measured."""
        rate = self.half_rate_target
        if rate == 0:
            return None
        ours, base = self.step_at(mode, rate), self.step_at("D", rate)
        if ours is None or base is None or ours.p95 is None or base.p95 is None:
            return None
        return ours.p95 - base.p95

    def targets(self) -> list[Target]:
        return [self._ser_target(), self._latency_target(), self._hold_target(), self._soak()]

    def _ser_target(self) -> Target:
        ratio = self.ser_ratio("S")
        measured = (
            "SER(D) is 0: not measured"
            if ratio is None
            else f"{ratio:.2f} (S {self.ser('S'):g}/s, D {self.ser('D'):g}/s)"
        )
        met = ratio is not None and ratio >= TARGET_SER_RATIO
        return Target("SER of S against D", f">= {TARGET_SER_RATIO:.2f}", measured, met)

    def _latency_target(self) -> Target:
        name = "Added p95 answer latency at half SER(D)"
        target = f"<= {TARGET_ADDED_P95_MS:g} ms"
        rate = self.half_rate_target
        ours, base = self.step_at("S", rate), self.step_at("D", rate)
        if rate == 0 or ours is None or base is None or ours.p95 is None or base.p95 is None:
            return Target(name, target, "not measured", met=False)
        added = ours.p95 - base.p95
        measured = (
            f"{added:+.1f} ms at {rate:g} calls/s (S {ours.p95:.1f} ms at {ours.asked_rate:g}/s,"
            f" D {base.p95:.1f} ms at {base.asked_rate:g}/s)"
        )
        return Target(name, target, measured, added <= TARGET_ADDED_P95_MS)

    def _hold_target(self) -> Target:
        name = "Concurrent calls held in screening and queue"
        target = f">= {TARGET_CONCURRENT_CALLS:,}, none failed"
        hold = self.hold
        if hold is None:
            return Target(name, target, "not measured", met=False)
        measured = f"{hold.reached_calls:,} reached, {_plural(hold.failed, 'failed call')}"
        met = hold.reached_calls >= TARGET_CONCURRENT_CALLS and hold.failed == 0
        return Target(name, target, measured, met)

    def _soak(self) -> Target:
        name = "Controller memory flat over a long run"
        target = f"<= {TARGET_GROWTH_BYTES_PER_CALL:g} bytes/call growth"
        soak = self.soak
        growth = soak.growth_bytes_per_call if soak else None
        if soak is None or growth is None:
            return Target(name, target, "not measured", met=False)
        first, last = soak.first_rss or 0, soak.last_rss or 0
        measured = (
            f"{growth:.1f} bytes/call over {soak.calls:,} calls "
            f"(RSS {first / 2**20:.1f} MiB -> {last / 2**20:.1f} MiB)"
        )
        return Target(name, target, measured, growth <= TARGET_GROWTH_BYTES_PER_CALL)

    def to_json(self) -> str:
        data = asdict(self)
        data["started"] = self.started.isoformat()
        data["finished"] = self.finished.isoformat()
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> BenchResult:
        data = json.loads(text)
        hold, soak = data.get("hold"), data.get("soak")
        return cls(
            modes={
                name: ModeResult(mode["mode"], tuple(_step(step) for step in mode["steps"]))
                for name, mode in data["modes"].items()
            },
            machine=Machine(**data["machine"]),
            command=data["command"],
            started=datetime.fromisoformat(data["started"]),
            finished=datetime.fromisoformat(data["finished"]),
            half_rate=tuple(_step(step) for step in data.get("half_rate", [])),
            hold=HoldResult(**hold) if hold else None,
            soak=SoakResult(tuple((int(x), int(y)) for x, y in soak["samples"])) if soak else None,
            notes=tuple(data.get("notes", [])),
        )


def _step(data: dict[str, Any]) -> Step:
    return Step(
        mode=data["mode"],
        asked_rate=data["asked_rate"],
        seconds=data["seconds"],
        totals=SippTotals(**data["totals"]),
        latencies_ms=tuple(data["latencies_ms"]),
        controller_cpu_seconds=data.get("controller_cpu_seconds"),
        asterisk_cpu_seconds=data.get("asterisk_cpu_seconds"),
        loop_lag_ms_max=data.get("loop_lag_ms_max"),
    )
