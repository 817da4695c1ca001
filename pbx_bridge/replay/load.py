"""The replay's SIPp processes: one caller process per behaviour, one phone for the takers."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pbx_bridge.config import Settings
from pbx_bridge.paths import sipp_scenarios_dir
from pbx_bridge.replay.mix import Behaviour, Takers
from pbx_bridge.replay.plan import STAYS_MS, PlannedCall
from pbx_bridge.replay.scenarios import SCENARIO, injection_csv, replay_variant
from pbx_bridge.sipp.runner import SippRun, free_port, prepare
from pbx_bridge.sipp.takers import wait_listening

CREATION_RATE = 100.0  # calls/s SIPp creates; each then waits for its planned arrival


def last_stats(path: Path) -> dict[str, str]:
    """The last row of a SIPp -trace_stat file (cumulative counters), {} before the first."""
    if not path.exists():
        return {}
    with path.open(newline="", errors="replace") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    if len(rows) < 2:  # the header and at least one row
        return {}
    return dict(zip(rows[0], rows[-1], strict=False))


@dataclass
class CallerProcess:
    behaviour: Behaviour
    calls: int
    run: SippRun
    process: subprocess.Popen[bytes]

    def counters(self) -> tuple[int, int]:
        """(successful, failed) calls so far."""
        stats = last_stats(self.run.host_run_dir / "stat.csv")
        return int(stats.get("SuccessfulCall(C)", 0) or 0), int(stats.get("FailedCall(C)", 0) or 0)

    def errors(self) -> str:
        path = self.run.host_run_dir / "stderr.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


def start_callers(
    settings: Settings, calls: Sequence[PlannedCall], behaviour: Behaviour, timeout_s: int
) -> CallerProcess:
    mine = [call for call in calls if call.behaviour is behaviour]
    base = (sipp_scenarios_dir() / f"{SCENARIO[behaviour]}.xml").read_text()
    run = prepare(
        settings,
        f"replay-{behaviour}",
        {},
        {
            "-s": "112",
            "-p": str(free_port()),
            "-m": str(len(mine)),
            "-r": str(CREATION_RATE),
            "-l": str(len(mine)),
            "-inf": "@RUN@/calls.csv",
            "-stf": "@RUN@/stat.csv",
            "-fd": "1",
            "-timeout": f"{timeout_s}s",
        },
        ("-trace_stat", "-timeout_error"),
        scenario_xml=replay_variant(base),
        trace_messages=False,
    )
    (run.host_run_dir / "calls.csv").write_text(injection_csv(mine, CREATION_RATE))
    with (run.host_run_dir / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(run.command, stdout=subprocess.DEVNULL, stderr=stderr)
    return CallerProcess(behaviour, len(mine), run, process)


def start_taker_phone(settings: Settings, takers: Takers) -> subprocess.Popen[str]:
    """One SIPp phone answering for every load taker (their AORs point at its port)."""
    port = settings.sandbox_load_taker_port
    run = prepare(
        settings,
        "taker",
        {
            "taker": "load",
            "answer_ms": str(round(takers.answer_after * 1000)),
            "talk_ms": str(round(takers.talk_seconds * 1000)),
        },
        {"-p": str(port), "-l": str(STAYS_MS)},
        trace_messages=False,
    )
    # Its screen output is not read: a pipe nobody reads would fill and stall it.
    process = subprocess.Popen(
        run.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )
    wait_listening(port, process)
    return process


def stop(process: subprocess.Popen[str] | subprocess.Popen[bytes], within: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
