"""The replay's plan (ground truth) and the SIPp files made from it."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pbx_bridge.paths import sipp_scenarios_dir
from pbx_bridge.replay.mix import Behaviour, load_mix
from pbx_bridge.replay.plan import STAYS_MS, plan, write_truth
from pbx_bridge.replay.scenarios import SCENARIO, injection_csv, replay_variant
from pbx_bridge.screening.model import Disposition, Validity
from tests.unit.test_replay_mix import DEFAULTS


def test_the_kendari_plan_has_every_call_once_with_its_expected_outcome() -> None:
    calls = plan(load_mix("kendari"), DEFAULTS)
    assert len(calls) == 5982
    assert len({call.caller for call in calls}) == 5982
    outcomes = Counter((call.disposition, call.validity) for call in calls)
    assert outcomes[Disposition.ANSWERED, Validity.VALID] == 2522
    assert outcomes[Disposition.ABANDONED_IN_QUEUE, Validity.INVALID] == 2238
    invalid = sum(n for (_, validity), n in outcomes.items() if validity is Validity.INVALID)
    assert invalid - 2238 == 1222
    assert Counter(call.emergency for call in calls if call.emergency) == {
        "fire": 70,
        "health": 66,
        "other": 30,
    }
    assert all(call.behaviour is Behaviour.TALK for call in calls if call.emergency)


def test_arrivals_follow_the_daily_curve() -> None:
    mix = load_mix("kendari")
    calls = plan(mix, DEFAULTS)
    day_ms = mix.arrivals.seconds * 1000 / mix.arrivals.days
    hour_of = Counter(int(call.arrive_ms % day_ms / day_ms * 24) for call in calls)
    assert mix.arrivals.curve is not None
    busiest = max(range(24), key=lambda hour: mix.arrivals.curve[hour])  # type: ignore[index]
    quietest = min(range(24), key=lambda hour: mix.arrivals.curve[hour])  # type: ignore[index]
    assert hour_of[busiest] > 3 * hour_of[quietest]
    assert max(call.arrive_ms for call in calls) <= mix.arrivals.seconds * 1000


def test_the_same_seed_gives_the_same_plan_and_scale_shrinks_it() -> None:
    mix = load_mix("kendari")
    assert plan(mix, DEFAULTS, seed=7) == plan(mix, DEFAULTS, seed=7)
    assert plan(mix, DEFAULTS, seed=7) != plan(mix, DEFAULTS, seed=8)
    tenth = plan(mix, DEFAULTS, scale=0.1)
    assert 590 <= len(tenth) <= 610
    assert max(call.arrive_ms for call in tenth) <= 60_000


@settings(max_examples=30, deadline=None)
@given(scale=st.floats(min_value=0.001, max_value=1.0), seed=st.integers(0, 10_000))
def test_planned_durations_stay_inside_the_mix_ranges(scale: float, seed: int) -> None:
    mix = load_mix("sample")
    ranges = {group.category: group for group in mix.calls}
    for call in plan(mix, DEFAULTS, scale=scale, seed=seed):
        group = ranges[call.category]
        if group.hangup_after is not None:
            low, high = group.hangup_after
            assert low * 1000 - 1 <= call.hangup_ms <= high * 1000 + 1
        elif call.behaviour is not Behaviour.HANGUP:
            assert call.hangup_ms == STAYS_MS
        if group.press_55_at is not None:
            assert group.press_55_at[0] * 1000 - 1 <= call.press_55_ms


def test_the_truth_file_has_a_row_per_call(tmp_path: Path) -> None:
    calls = plan(load_mix("sample"), DEFAULTS)
    write_truth(calls, tmp_path / "run" / "truth.csv")
    with (tmp_path / "run" / "truth.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["caller"] for row in rows] == [call.caller for call in calls]
    assert {row["disposition"] for row in rows} >= {"answered", "silent_55", "abandoned_in_queue"}


def test_replay_variants_take_every_key_from_the_csv_and_wait_before_the_invite() -> None:
    for name in set(SCENARIO.values()):
        text = replay_variant((sipp_scenarios_dir() / f"{name}.xml").read_text())
        for key in ("caller", "caller_name", "hangup_ms", "dtmf_at_ms"):
            assert f"[{key}]" not in text
        root = ET.fromstring(text.encode("latin-1"))  # noqa: S314 - our own file
        tags = [child.tag for child in root]
        assert tags.index("pause") < tags.index("send")
        assert root.find("pause").get("variable") == "start_ms"  # type: ignore[union-attr]


def test_each_call_waits_from_its_creation_to_its_arrival() -> None:
    calls = plan(load_mix("sample"), DEFAULTS)
    lines = injection_csv(calls, creation_rate=10).splitlines()
    assert lines[0] == "SEQUENTIAL"
    for position, (line, call) in enumerate(zip(lines[1:], calls, strict=True)):
        caller, _name, hangup, dtmf, wait, _ = line.split(";")
        assert (caller, int(hangup), int(dtmf)) == (call.caller, call.hangup_ms, call.press_55_ms)
        assert int(wait) == max(0, round(call.arrive_ms - position * 100))
