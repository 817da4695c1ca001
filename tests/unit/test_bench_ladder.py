"""The bench's rate ladder: up until a rate fails, then halving the gap to the SER."""

from __future__ import annotations

import pytest

from pbx_bridge.bench import run
from pbx_bridge.bench.results import ModeResult, Step
from tests.unit.bench_support import step


@pytest.mark.parametrize(("limit", "ser"), [(47.0, 45.0), (52.0, 52.0), (5.0, 5.0), (500, 60)])
def test_the_ladder_stops_at_the_first_failure_and_bisects_towards_the_limit(
    monkeypatch: pytest.MonkeyPatch, limit: float, ser: float
) -> None:
    offered: list[float] = []

    def offer(_parts: object, mode: str, rate: float, _plan: object, _say: object) -> Step:
        offered.append(rate)
        return step(mode, rate) if rate <= limit else step(mode, rate, failed=1)

    monkeypatch.setattr(run, "_offer", offer)
    plan = run.Plan(ladder=(10, 20, 30, 40, 50, 60), refine=2)
    result = run.ladder(None, "S", plan, lambda _text: None)  # type: ignore[arg-type]
    assert result.ser == ser
    # Never a rate twice, never past the first failure of the ladder itself.
    assert len(offered) == len(set(offered))
    failures = [rate for rate in offered if rate > limit]
    assert len(failures) <= 1 + plan.refine
    if limit < 60:
        assert offered[: offered.index(min(r for r in plan.ladder if r > limit)) + 1] == [
            r for r in plan.ladder if r <= min(r for r in plan.ladder if r > limit)
        ]


def test_the_cpu_budget_says_who_used_the_cores_at_the_first_failure() -> None:
    held, failed = step("S", 40), step("S", 50, failed=2)
    notes = run.cpu_budget({"S": ModeResult("S", (held, failed))}, cores=2)
    # bench_support: 2 ms (controller) and 5 ms (Asterisk) a call, at 50 calls/s: 0.35 core.
    assert notes == (
        (
            "S at 50 calls/s: Asterisk used 5.0 ms of CPU per call and the controller 2.0 ms: "
            "0.35 of the 2 cores, SIPp's callers besides."
        ),
    )
    assert run.cpu_budget({"D": ModeResult("D", (step("D", 10),))}, cores=2) == ()
