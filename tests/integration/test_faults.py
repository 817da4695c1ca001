"""The fault suite's short form against the real sandbox: the controller killed, frozen, fed
malformed ARI events, its PostgreSQL stopped, its spool's disk full, while callers are on the
line. Every row must meet the target RELIABILITY.md states
(0 lost, 0 cut off, nobody in Stasis more than 10 s after the fault); `make faults` runs all."""

from __future__ import annotations

from pathlib import Path

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.faults.report import markdown
from pbx_bridge.faults.run import FaultPlan, fault_named, measure
from tests.integration.conftest import assert_no_channel_left

pytestmark = pytest.mark.integration
SHORT = FaultPlan(callers=6, spread_seconds=6, talk_seconds=30, outage_seconds=20)


@pytest.mark.parametrize(
    "slug", ["sigkill", "freeze", "malformed-event", "postgres-stopped", "spool-disk-full"]
)
def test_no_caller_is_lost_cut_off_or_left_in_silence(
    settings: Settings, tmp_path: Path, slug: str
) -> None:
    said: list[str] = []
    row = measure(settings, fault_named(slug), SHORT, tmp_path / slug, said.append)
    table = markdown([row], "pytest", "now", "this machine")
    assert row.calls == SHORT.callers, table
    assert row.target_met, table + "\n".join(said)
    assert "LOST" not in row.note, table
    if slug == "malformed-event":  # the relay's frames reached the controller and were refused
        assert "events its handlers could not take" in row.note, table
    if slug == "spool-disk-full":  # the records waited in memory, not rebuilt from the CDR
        assert "records held in memory" in row.note, table
    assert_no_channel_left(settings)
