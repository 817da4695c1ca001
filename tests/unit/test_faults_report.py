"""RELIABILITY.md's table: a row meets its target only with nobody lost, nobody cut off and
nobody left in Stasis past the limit, and a missed target is written with its figure."""

from __future__ import annotations

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.faults.report import MAX_STASIS_AFTER_FAULT_SECONDS, FaultRow, markdown
from pbx_bridge.faults.run import FAULTS, FaultError, fault_named
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
    assert "| controller SIGKILL | 12 | 3 | 0 | 4.2 s | 12 | 0 | met |" in table
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
