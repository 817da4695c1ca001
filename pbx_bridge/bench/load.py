"""The benchmark's SIPp callers: N unique callers at a rate, each holding a while, timed."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from pbx_bridge.bench.sipp_stats import SippTotals, read_rtt_rows, read_stat
from pbx_bridge.config import Settings
from pbx_bridge.paths import sipp_scenarios_dir
from pbx_bridge.replay.scenarios import replay_variant
from pbx_bridge.sipp.runner import SippRun, free_port, prepare


@dataclass(frozen=True)
class Offered:
    """What one SIPp caller process did, by its own files."""

    totals: SippTotals
    latencies_ms: tuple[float, ...]  # INVITE -> 200 OK, per answered call
    sending_seconds: float  # from the first INVITE to the last, scaled to `count` intervals


def numbers_prefix(tag: str) -> str:
    """Every caller number of a run with this tag starts with it."""
    return f"0898{tag}"


def _callers_csv(count: int, hold_ms: int, tag: str) -> str:
    lines = ["SEQUENTIAL"]
    lines += [f"{numbers_prefix(tag)}{index:06d};;{hold_ms};0;0;" for index in range(count)]
    return "\n".join(lines) + "\n"


def _in_run_dir(run: SippRun) -> list[str]:
    # SIPp writes its -trace_rtt file to its working directory: the run's own.
    inside = "/" + str(run.host_run_dir.relative_to(run.root))
    return [
        "chroot",
        str(run.root),
        "sh",
        "-c",
        f'cd {inside} && exec "$@"',
        "sh",
        *run.command[2:],
    ]


@dataclass
class CallerRun:
    run: SippRun
    process: subprocess.Popen[bytes]
    count: int
    rate: float

    def stat_file(self) -> Path:
        return self.run.host_run_dir / "stat.csv"

    def wait(self, timeout: float) -> Offered:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        totals = read_stat(self.stat_file())
        rows: list[tuple[float, float]] = []
        for rtt in self.run.host_run_dir.glob("*_rtt.csv"):
            rows += read_rtt_rows(rtt)
        sent = sorted(date - took for date, took in rows)
        if len(sent) > 1:
            span = (sent[-1] - sent[0]) / 1000
            seconds = span * self.count / (len(sent) - 1)
        else:
            seconds = self.count / self.rate
        return Offered(totals, tuple(took for _, took in rows), seconds)


def start_callers(
    settings: Settings,
    *,
    scenario: str,
    service: str,
    rate: float,
    count: int,
    hold_ms: int,
    tag: str,
    stats_every: str = "",
) -> CallerRun:
    """`count` callers at `rate`/s to `service`, each hanging up `hold_ms` after the answer."""
    base = (sipp_scenarios_dir() / f"{scenario}.xml").read_text()
    timeout = round(count / rate + hold_ms / 1000 + 60)
    options = {
        "-s": service,
        "-p": str(free_port()),
        "-m": str(count),
        "-r": str(rate),
        "-l": str(count),
        "-inf": "@RUN@/calls.csv",
        "-stf": "@RUN@/stat.csv",
        "-timeout": f"{timeout}s",
    }
    if stats_every:
        options["-fd"] = stats_every
    run = prepare(
        settings,
        f"bench-{scenario}",
        {},
        options,
        ("-trace_stat", "-trace_rtt"),
        scenario_xml=replay_variant(base),
        trace_messages=False,
    )
    (run.host_run_dir / "calls.csv").write_text(_callers_csv(count, hold_ms, tag))
    process = subprocess.Popen(
        _in_run_dir(run), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return CallerRun(run, process, count, rate)
