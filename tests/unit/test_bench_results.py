"""The bench's rules: held steps, the SER, what limited a mode, the targets, the JSON form."""

from __future__ import annotations

import dataclasses

import pytest

from pbx_bridge.bench.results import BenchResult, ModeResult, SoakResult, Step, percentile
from tests.unit.bench_support import result, step, totals


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == 4.0
    assert percentile([], 50) is None


def test_step_figures() -> None:
    held = step("S", 50.0, latency=10.0)
    assert held.achieved_rate == 50.0
    assert held.held
    assert held.p50 == pytest.approx(10.9)
    assert held.p95 == pytest.approx(11.8)
    assert held.p99 == pytest.approx(11.9)
    assert held.controller_cpu_ms_per_call == pytest.approx(2.0)
    assert held.asterisk_cpu_ms_per_call == pytest.approx(5.0)
    assert step("D", 50.0).controller_cpu_ms_per_call is None
    empty = dataclasses.replace(held, latencies_ms=())
    assert (empty.p50, empty.p95, empty.p99) == (None, None, None)


@pytest.mark.parametrize(
    "change",
    [
        {"totals": totals(500, failed=1)},
        {"totals": totals(500, retrans=1)},
        {"totals": totals(494)},  # 98.8 % of the asked 500 calls in 10 s
        {"totals": dataclasses.replace(totals(500), successful=499)},  # one call never ended
    ],
)
def test_a_step_is_not_held(change: dict[str, object]) -> None:
    base = step("D", 50.0)
    assert base.held
    assert not dataclasses.replace(base, **change).held  # type: ignore[arg-type]


def test_ninety_nine_percent_is_enough() -> None:
    assert dataclasses.replace(step("D", 50.0), totals=totals(495)).held


def test_unknown_mode() -> None:
    with pytest.raises(ValueError, match="unknown bench mode"):
        step("X", 10.0)


def test_ser_is_the_rate_before_the_first_failing_step() -> None:
    mode = ModeResult(
        "S",
        (
            step("S", 10.0),
            step("S", 30.0, retrans=4),  # the first failing step
            step("S", 20.0),
            step("S", 40.0),  # passes again: does not count
        ),
    )
    assert mode.ser == 20.0
    assert mode.limit_reason == "at 30 calls/s: 4 retransmissions"


def test_ser_is_zero_when_the_first_step_fails() -> None:
    mode = ModeResult("D", (step("D", 10.0, failed=1), step("D", 20.0)))
    assert mode.ser == 0.0
    assert ModeResult("D", ()).ser == 0.0
    assert ModeResult("D", ()).limit_reason == "no steps were run"


def test_limit_reason_names_every_failure() -> None:
    failing = Step(
        mode="S",
        asked_rate=100.0,
        seconds=10.0,
        totals=dataclasses.replace(
            totals(970, failed=3, retrans=150, timeouts=2), unexpected=1, successful=960
        ),
        latencies_ms=(),
    )
    assert failing.failure_text() == (
        "3 failed calls (2 timeouts, 1 unexpected message), 150 retransmissions, "
        "achieved 97.0 % of the asked rate, 7 calls not ended"
    )
    one = dataclasses.replace(step("S", 10.0), totals=totals(100, failed=1, timeouts=1))
    assert one.failure_text() == "1 failed call (1 timeout)"
    assert ModeResult("S", (step("S", 10.0), failing)).limit_reason.startswith(
        "at 100 calls/s: 3 failed calls"
    )
    assert ModeResult("S", (step("S", 10.0), step("S", 20.0))).limit_reason == (
        "nothing failed up to 20 calls/s (the ramp stopped below the limit)"
    )


def test_targets_all_met() -> None:
    bench = result()
    assert bench.ser("D") == 100.0
    assert bench.ser("S") == 96.0
    assert bench.ser_ratio("S") == pytest.approx(0.96)
    assert bench.ser_ratio("S0") == pytest.approx(1.0)
    assert bench.half_rate_target == 50.0
    assert bench.added_p95_ms("S") == pytest.approx(4.0)
    targets = bench.targets()
    assert [t.met for t in targets] == [True, True, True, True]
    assert targets[0].measured == "0.96 (S 96/s, D 100/s)"
    assert targets[1].measured.startswith("+4.0 ms at 50 calls/s")
    assert targets[2].measured == "1,000 reached, 0 failed calls"
    assert targets[3].measured.startswith("0.0 bytes/call over 9,500 calls")


def test_targets_not_met() -> None:
    bench = result(s_latency=25.0, soak_growth=300)
    slow_s = ModeResult("S", (step("S", 20.0), step("S", 40.0), step("S", 60.0, failed=1)))
    bench = dataclasses.replace(
        bench,
        modes={**bench.modes, "S": slow_s},
        hold=dataclasses.replace(bench.hold, reached_calls=800) if bench.hold else None,
    )
    targets = bench.targets()
    assert [t.met for t in targets] == [False, False, False, False]
    assert targets[0].measured == "0.40 (S 40/s, D 100/s)"
    assert targets[1].measured.startswith("+15.0 ms")
    assert targets[3].measured.startswith("300.0 bytes/call")


def test_targets_not_measured() -> None:
    bench = dataclasses.replace(result(), modes={}, half_rate=(), hold=None, soak=None)
    targets = bench.targets()
    assert [t.met for t in targets] == [False] * 4
    assert targets[0].measured == "SER(D) is 0: not measured"
    assert [t.measured for t in targets[1:]] == ["not measured"] * 3


def test_closest_step_when_none_at_half_rate() -> None:
    bench = dataclasses.replace(result(), half_rate=())
    chosen = bench.step_at("S", 50.0)
    assert chosen is not None
    assert chosen.asked_rate in (40.0, 60.0)
    exact = result().step_at("S", 50.0)
    assert exact is not None
    assert exact.asked_rate == 50.0


def test_soak_slope_uses_the_second_half() -> None:
    # RSS jumps while warming up, then grows 40 bytes per call.
    warm = [(calls, 50_000_000 + calls * 1000) for calls in range(0, 5000, 1000)]
    steady = [(calls, 60_000_000 + calls * 40) for calls in range(5000, 10000, 1000)]
    soak = SoakResult(tuple(warm + steady))
    assert soak.growth_bytes_per_call == pytest.approx(40.0)
    assert soak.first_rss == 50_000_000
    assert soak.last_rss == 60_000_000 + 9000 * 40
    assert SoakResult(((0, 1),)).growth_bytes_per_call is None
    assert SoakResult(()).growth_bytes_per_call is None


def test_hold_memory_per_call() -> None:
    hold = result().hold
    assert hold is not None
    assert hold.controller_bytes_per_call == pytest.approx(20 * 2**20 / 1000)
    assert hold.asterisk_bytes_per_call == pytest.approx(200 * 2**20 / 1000)
    assert dataclasses.replace(hold, reached_calls=0).controller_bytes_per_call is None


def test_json_round_trip() -> None:
    bench = dataclasses.replace(result(soak_growth=7), notes=("Asterisk had 4 threads",))
    again = BenchResult.from_json(bench.to_json())
    assert again == bench
    assert again.targets() == bench.targets()
    assert again.to_json() == bench.to_json()
