"""`pbx-bridge replay` against the real sandbox: the sample mix (every caller behaviour, SIPp
call takers answering) ends with every call recorded as planned."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

from pbx_bridge.config import Settings
from tests.integration.conftest import (
    PBX_BRIDGE,
    Controller,
    assert_no_channel_left,
)


def test_the_sample_mix_is_recorded_call_by_call(
    settings: Settings, controller: Controller, tmp_path: Path
) -> None:
    done = subprocess.run(
        [PBX_BRIDGE, "replay", "--mix", "sample"],
        env=controller.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    # It used the running controller (same store), not one of its own.
    assert "starting `pbx-bridge serve`" not in done.stderr
    assert "arrived 36/36" in done.stderr  # the progress display
    runs = list((tmp_path / "replays").iterdir())
    assert len(runs) == 1
    summary = json.loads((runs[0] / "summary.json").read_text())
    assert summary["calls"] == 36
    assert summary["mismatches"] == 0
    assert summary["sipp_failed_calls"] == 0
    assert {row["category"]: row["recorded"] for row in summary["categories"]} == {
        "answered": 10,
        "pressed 55": 4,
        "unanswered in queue": 8,
        "hung up at once": 8,
        "silent": 6,
    }
    assert summary["emergencies_recorded"] == {"fire": 2, "health": 2}
    with (runs[0] / "truth.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 36
    # The store agrees, read as an operator would.
    records = json.loads(controller.cli("calls", "--json", "--limit", "100"))
    assert len(records) == 36
    assert_no_channel_left(settings)
