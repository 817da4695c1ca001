"""Readings from /proc and from the controller's /metrics."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from pbx_bridge.bench.proc import (
    ProcessGone,
    cpu_seconds,
    histogram_max_bound,
    pids_named,
    prometheus_values,
    rss_bytes,
    this_machine,
)


def test_our_own_cpu_and_memory() -> None:
    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    assert cpu_seconds(os.getpid()) >= before + 0.03
    assert 10 * 2**20 < rss_bytes(os.getpid()) < 10 * 2**30


def test_a_finished_process_is_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    with pytest.raises(ProcessGone, match=f"process {child.pid} is gone"):
        cpu_seconds(child.pid)
    with pytest.raises(ProcessGone, match=f"process {child.pid}"):
        rss_bytes(child.pid)


def test_pids_by_name() -> None:
    comm = Path(f"/proc/{os.getpid()}/comm").read_text().strip()
    assert os.getpid() in pids_named(comm)
    assert pids_named("no-such-program") == []


def test_prometheus_values() -> None:
    registry = CollectorRegistry()
    Counter("calls_ended", "", registry=registry).inc(3)
    gauge = Gauge("connected", "", ["link"], registry=registry)
    gauge.labels("ari").set(1)
    lag = Histogram("lag_seconds", "", buckets=(0.01, 0.1, 1.0), registry=registry)
    lag.observe(0.005)
    before = prometheus_values(generate_latest(registry).decode())
    assert before["calls_ended_total"] == 3.0
    assert before['connected{link="ari"}'] == 1.0
    assert before['lag_seconds_bucket{le="0.01"}'] == 1.0
    assert before["lag_seconds_count"] == 1.0
    lag.observe(0.05)
    lag.observe(0.02)
    after = prometheus_values(generate_latest(registry).decode())
    assert histogram_max_bound(before, after, "lag_seconds") == 0.1
    assert histogram_max_bound(after, after, "lag_seconds") is None
    lag.observe(5.0)
    beyond = prometheus_values(generate_latest(registry).decode())
    assert histogram_max_bound(after, beyond, "lag_seconds") == float("inf")


def test_this_machine() -> None:
    machine = this_machine("Asterisk 22.5.2")
    assert machine.cpu_count >= 1
    assert machine.memory_bytes > 2**20
    assert machine.kernel.startswith("Linux ")
    assert machine.asterisk_version == "Asterisk 22.5.2"
