"""The replay's mixes: shipped ones load and respect the timing rules; bad ones are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from pbx_bridge.replay.mix import Behaviour, MixError, Timing, check_timing, load_mix, shipped

DEFAULTS = Timing(
    listen_seconds=5.0,
    await_55_seconds=10.0,
    valid_min_seconds=10.0,
    hung_up_immediately_seconds=5.0,
    ring_seconds=15.0,
)
TEST_QUEUE = Timing(5.0, 10.0, 10.0, 5.0, ring_seconds=5.0)  # the integration tests' ring time


def test_kendari_has_kendaris_numbers() -> None:
    mix = load_mix("kendari")
    counts = {group.behaviour: group.count for group in mix.calls}
    assert mix.total == 5982
    assert counts[Behaviour.TALK] == 2522
    assert counts[Behaviour.ABANDON] == 2238
    assert counts[Behaviour.HANGUP] + counts[Behaviour.SILENT] == 1222
    assert sum(sum(group.emergencies.values()) for group in mix.calls) == 166
    assert mix.arrivals.curve is not None
    assert len(mix.arrivals.curve) == 24


@pytest.mark.parametrize("name", shipped())
def test_shipped_mixes_are_certain_with_the_default_timing(name: str) -> None:
    assert check_timing(load_mix(name), DEFAULTS) == []


def test_the_sample_mix_is_certain_with_the_test_queue_timing() -> None:
    assert check_timing(load_mix("sample"), TEST_QUEUE) == []


def test_every_behaviour_is_in_the_sample() -> None:
    assert {group.behaviour for group in load_mix("sample").calls} == set(Behaviour)


def _write(tmp_path: Path, calls: str, takers: str = "count = 2\nanswer_after = 3.0\n") -> Path:
    path = tmp_path / "mix.toml"
    path.write_text(
        'name = "t"\n[arrivals]\ndays = 1\nseconds = 10\n'
        f"[takers]\n{takers}talk_seconds = 9.0\n{calls}"
    )
    return path


def test_an_abandoner_who_could_be_answered_is_refused(tmp_path: Path) -> None:
    mix = load_mix(
        str(
            _write(
                tmp_path,
                '[[calls]]\ncategory = "a"\nbehaviour = "abandon"\ncount = 1\n'
                "hangup_after = [1.6, 2.5]\n",
            )
        )
    )
    problems = check_timing(mix, DEFAULTS)
    assert len(problems) == 1
    assert "before takers.answer_after" in problems[0]


def test_a_silent_caller_who_could_reach_the_silent_verdict_is_refused(tmp_path: Path) -> None:
    text = '[[calls]]\ncategory = "s"\nbehaviour = "silent"\ncount = 1\nhangup_after = [4, 16]\n'
    problems = check_timing(load_mix(str(_write(tmp_path, text))), DEFAULTS)
    assert any("hung-up-at-once" in p for p in problems)
    assert any("screening can end" in p for p in problems)


def test_takers_who_answer_after_the_ring_time_are_refused(tmp_path: Path) -> None:
    text = '[[calls]]\ncategory = "t"\nbehaviour = "talk"\ncount = 1\n'
    mix = load_mix(str(_write(tmp_path, text, "count = 1\nanswer_after = 4.5\n")))
    assert any("ring time" in p for p in check_timing(mix, TEST_QUEUE))


@pytest.mark.parametrize(
    ("calls", "says"),
    [
        ('[[calls]]\ncategory = "a"\nbehaviour = "abandon"\ncount = 1\n', "needs hangup_after"),
        ('[[calls]]\ncategory = "p"\nbehaviour = "press55"\ncount = 1\n', "needs press_55_at"),
        ('[[calls]]\ncategory = "x"\nbehaviour = "dance"\ncount = 1\n', "behaviour"),
        (
            (
                '[[calls]]\ncategory = "h"\nbehaviour = "hangup"\ncount = 2\n'
                "emergencies = { fire = 1 }\n"
            ),
            "only answered calls",
        ),
        (
            (
                '[[calls]]\ncategory = "t"\nbehaviour = "talk"\ncount = 1\n'
                "emergencies = { fire = 2 }\n"
            ),
            "more emergencies than calls",
        ),
    ],
)
def test_a_bad_mix_says_what_is_wrong(tmp_path: Path, calls: str, says: str) -> None:
    with pytest.raises(MixError, match=says):
        load_mix(str(_write(tmp_path, calls)))


def test_an_unknown_mix_names_the_shipped_ones() -> None:
    with pytest.raises(MixError, match="kendari"):
        load_mix("nowhere")
