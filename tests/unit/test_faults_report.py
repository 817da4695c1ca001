"""RELIABILITY.md's table: a row meets its target only with nobody lost, nobody cut off and
nobody left in Stasis past the limit, and a missed target is written with its figure."""

from __future__ import annotations

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.faults.report import (
    MAX_BACK_TO_NORMAL_SECONDS,
    MAX_STASIS_AFTER_FAULT_SECONDS,
    FaultRow,
    markdown,
)
from pbx_bridge.faults.run import FAULTS, FaultError, fault_named
from pbx_bridge.faults.surge import back_to_normal
from pbx_bridge.faults.watch import StasisWatch

GOOD = FaultRow("controller SIGKILL", calls=12, answered=3, cut_off=0, longest_in_stasis=4.2,
                recorded=12, note="killed")  # fmt: skip


def test_a_row_with_nobody_lost_cut_off_or_stranded_meets_its_target() -> None:
    assert GOOD.lost == 0
    assert GOOD.target_met
    assert GOOD.misses() == []


@pytest.mark.parametrize(
    ("changes", "missed"),
    [
        ({"recorded": 11}, "1 lost"),
        ({"cut_off": 2}, "2 cut off"),
        ({"longest_in_stasis": MAX_STASIS_AFTER_FAULT_SECONDS + 0.1}, "10.1 s in Stasis"),
    ],
)
def test_each_miss_is_named_with_its_figure(changes: dict[str, float], missed: str) -> None:
    row = FaultRow(**{**GOOD.__dict__, **changes})
    assert not row.target_met
    assert row.misses() == [missed]
    table = markdown([GOOD, row], "make faults", "2026-12-04 17:00 UTC", "2 cores")
    assert f"NOT met: {missed}" in table
    assert "| controller SIGKILL | 12 | 3 | 0 | 4.2 s | 12 | 0 | - | met |" in table
    assert "`make faults`" in table


def test_every_fault_is_found_by_its_slug_and_a_typo_says_which_exist() -> None:
    assert [fault_named(fault.slug) for fault in FAULTS] == list(FAULTS)
    with pytest.raises(FaultError, match="sigkill"):
        fault_named("sigkil")


def in_app(*numbers: str) -> list[dict[str, object]]:
    return [
        {"caller": {"number": n}, "dialplan": {"app_name": "Stasis", "app_data": "pbx-bridge"}}
        for n in numbers
    ]


def test_a_talker_counts_its_time_after_the_fault_a_silent_caller_only_its_excess() -> None:
    watch = StasisWatch(Settings(), "pbx-bridge")
    watch._note(in_app("talker", "silent", "quick"), 100.0)
    watch._note(in_app("talker", "silent"), 101.0)  # "quick" went on to the queue
    watch._note(in_app("silent"), 112.0)  # the talker waited 12 s: 7 s after the fault at 105
    watch._note([], 140.0)  # the silent caller, screened for 40 s
    stranded = watch.longest_stranded(105.0, {"talker", "quick"}, {"silent"}, 32.0)
    assert stranded == 8.0  # the silent caller's 8 s beyond a 32 s screening beat the talker's 7
    assert watch.longest_stranded(105.0, {"talker", "quick"}, {"silent"}, 40.0) == 7.0


@pytest.mark.parametrize(
    ("back", "met", "shown"),
    [
        (3.0, True, "3 s"),
        (MAX_BACK_TO_NORMAL_SECONDS + 1, False, "11 s"),
        (None, False, "not within the probing"),
    ],
)
def test_a_surge_meets_its_target_only_when_answers_are_calm_again_in_time(
    back: float | None, *, met: bool, shown: str
) -> None:
    row = FaultRow(**{**GOOD.__dict__, "fault": "surge", "back_to_normal": back})
    assert row.target_met is met
    table = markdown([row], "make faults", "now", "2 cores")
    assert f"| {shown} |" in table
    if not met:
        assert f"answer times back to normal {shown} after" in row.misses()


def test_back_to_normal_is_the_first_probe_after_the_last_slow_one() -> None:
    normal = 0.2
    probes = [(0.0, 0.05), (9.0, 2.0), (10.0, 3.5), (11.0, None), (12.0, 0.9), (13.0, 0.1),
              (14.0, 0.08)]  # fmt: skip
    assert back_to_normal(probes, surge_end=10.0, normal=normal) == 3.0
    assert back_to_normal([(10.0, 0.1), (11.0, 0.1)], surge_end=10.0, normal=normal) == 0.0
    assert back_to_normal([(10.0, 0.1), (11.0, 1.0)], surge_end=10.0, normal=normal) is None
    assert back_to_normal([(1.0, 0.1)], surge_end=10.0, normal=normal) is None
