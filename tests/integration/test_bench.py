"""`pbx-bridge bench`'s machinery on a small plan against the real sandbox: D, S0 and S each
measured from SIPp's side, the held-calls and memory runs, and the report rendered.
(The real run is `make bench`; its figures go to BENCHMARKS.md, not into assertions here.)"""

from __future__ import annotations

from pathlib import Path

from pbx_bridge.bench.render import chart, markdown
from pbx_bridge.bench.run import Plan, bench
from pbx_bridge.config import Settings
from tests.integration.conftest import assert_no_channel_left

SMALL = Plan(
    ladder=(4, 8),
    step_seconds=3,
    hold_ms=2000,
    held_calls=20,
    held_seconds=8,
    soak_seconds=10,
    soak_rate=4,
    recovery_seconds=3,
)


def test_a_small_bench_measures_every_mode_from_the_sipp_side(
    settings: Settings, tmp_path: Path
) -> None:
    said: list[str] = []
    result = bench(settings, SMALL, "pytest", said.append)

    for mode in ("D", "S0", "S"):
        steps = result.modes[mode].steps
        assert [step.asked_rate for step in steps] == [4, 8], said
        for step in steps:
            assert step.held, f"{mode} {step.asked_rate}: {step.failure_text()}"
            assert step.totals.created == round(step.asked_rate * SMALL.step_seconds)
            assert len(step.latencies_ms) == step.totals.created
            assert step.asterisk_cpu_seconds is not None
            assert step.asterisk_cpu_seconds > 0
        assert result.ser(mode) == 8
    # CPU is measured for the process that does the Stasis work, none for plain dialplan.
    assert all(step.controller_cpu_seconds is None for step in result.modes["D"].steps)
    for mode in ("S0", "S"):
        assert all((step.controller_cpu_seconds or 0) > 0 for step in result.modes[mode].steps)
    assert all(step.loop_lag_ms_max is not None for step in result.modes["S"].steps)
    assert [step.asked_rate for step in result.half_rate] == [4, 4, 4]

    assert result.hold is not None
    assert result.hold.failed == 0
    assert result.hold.reached_calls == SMALL.held_calls
    assert result.hold.controller_rss_peak >= result.hold.controller_rss_idle
    assert result.soak is not None
    assert len(result.soak.samples) >= 3
    assert result.soak.samples[-1][0] > result.soak.samples[0][0]

    report = markdown(result, "latency.png")
    assert "SER" in report
    assert "pytest" in report
    chart(result, tmp_path / "latency.png")
    assert (tmp_path / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert_no_channel_left(settings)
