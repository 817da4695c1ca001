"""Bench results built by hand for the bench tests."""

from __future__ import annotations

from datetime import UTC, datetime

from pbx_bridge.bench.results import (
    BenchResult,
    HoldResult,
    Machine,
    ModeResult,
    SoakResult,
    Step,
)
from pbx_bridge.bench.sipp_stats import SippTotals


def totals(created: int, failed: int = 0, retrans: int = 0, timeouts: int = 0) -> SippTotals:
    return SippTotals(
        created=created,
        successful=created - failed,
        failed=failed,
        retransmissions=retrans,
        timeouts=timeouts,
        unexpected=0,
        max_udp_retrans=0,
        elapsed_seconds=12.5,
        current_calls=0,
    )


def step(
    mode: str,
    rate: float,
    *,
    failed: int = 0,
    retrans: int = 0,
    latency: float = 10.0,
    seconds: float = 10.0,
) -> Step:
    created = round(rate * seconds)
    return Step(
        mode=mode,
        asked_rate=rate,
        seconds=seconds,
        totals=totals(created, failed, retrans),
        latencies_ms=tuple(latency + i / 10 for i in range(20)),
        controller_cpu_seconds=None if mode == "D" else created * 0.002,
        asterisk_cpu_seconds=created * 0.005,
        loop_lag_ms_max=None if mode == "D" else 3.5,
    )


def result(*, s_latency: float = 14.0, soak_growth: int = 0) -> BenchResult:
    """D holds up to 100/s, S0 up to 100/s, S up to 96/s (0.96 of D); S +4 ms at 50/s."""
    ramp = (20.0, 40.0, 60.0, 80.0, 96.0, 100.0, 120.0)

    def ramp_of(mode: str, last_held: float) -> ModeResult:
        return ModeResult(
            mode,
            tuple(
                step(mode, rate, failed=0 if rate <= last_held else 3, retrans=0)
                for rate in ramp
                if rate <= last_held or rate == min(r for r in ramp if r > last_held)
            ),
        )

    return BenchResult(
        modes={"D": ramp_of("D", 100.0), "S0": ramp_of("S0", 100.0), "S": ramp_of("S", 96.0)},
        machine=Machine(
            cpu_count=8,
            cpu_model="AMD EPYC 7B13",
            memory_bytes=16 * 2**30,
            kernel="Linux 6.12.0",
            asterisk_version="Asterisk 22.5.2",
            python_version="3.11.9",
        ),
        command="make bench",
        started=datetime(2026, 11, 25, 16, 0, tzinfo=UTC),
        finished=datetime(2026, 11, 25, 16, 45, tzinfo=UTC),
        half_rate=(step("D", 50.0, latency=10.0), step("S", 50.0, latency=s_latency)),
        hold=HoldResult(
            target_calls=1000,
            reached_calls=1000,
            failed=0,
            controller_rss_idle=80 * 2**20,
            controller_rss_peak=100 * 2**20,
            asterisk_rss_idle=200 * 2**20,
            asterisk_rss_peak=400 * 2**20,
        ),
        soak=SoakResult(
            tuple((calls, 90 * 2**20 + calls * soak_growth) for calls in range(0, 10000, 500))
        ),
    )
