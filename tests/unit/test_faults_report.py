"""RELIABILITY.md's table: a row meets its target only with nobody lost, nobody cut off and
nobody left in Stasis past the limit, and a missed target is written with its figure."""

from __future__ import annotations

import pytest

from pbx_bridge.faults.report import MAX_STASIS_AFTER_FAULT_SECONDS, FaultRow, markdown
from pbx_bridge.faults.run import FAULTS, FaultError, fault_named

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
