"""BENCHMARKS.md and the latency chart, from a bench result."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pbx_bridge.bench.render import chart, markdown
from pbx_bridge.bench.results import ModeResult
from tests.unit.bench_support import result, step

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_markdown_has_every_part() -> None:
    text = markdown(result(), chart_path="docs/bench/latency.png")
    assert text.startswith("# Benchmarks\n")
    assert "```sh\nmake bench\n```" in text
    assert "- CPU: 8 x AMD EPYC 7B13" in text
    assert "- Memory: 16.0 GiB" in text
    assert "- Asterisk: Asterisk 22.5.2" in text
    assert "![Answer latency against call rate](docs/bench/latency.png)" in text
    assert "| SER (calls/s) | 100 | 100 | 96 |" in text
    assert "| SER / SER(D) | 1.00 | 1.00 | 0.96 |" in text
    assert "| p95 added over D (ms) | - | 0.0 | 4.0 |" in text
    assert "| SER of S against D | >= 0.95 | 0.96 (S 96/s, D 100/s) | met |" in text
    assert "| Concurrent calls held in screening and queue | >= 1,000, none failed |" in text
    for mode in ("D: plain dialplan", "S0: Stasis", "S: the full controller"):
        assert f"## {mode}" in text
    # One step row: S at 20 calls/s (200 calls, p50 10.9, CPU 2 ms/call controller, 5 Asterisk)
    assert "| 20 | 20.0 | 200 | 0 | 0 | 10.9 | 11.8 | 11.9 | 2.00 | 5.00 | 3.5 | yes |" in text
    assert "| 120 | 12.0 |" not in text  # D's ramp stops at its first failing step (120/s)
    assert "| 120 | 120.0 | 1,200 | 3 | 0 |" in text
    assert "- S: the full controller: at 100 calls/s: 3 failed calls." in text
    assert "## Concurrent calls" in text
    assert "## Long run" in text


def test_markdown_shows_targets_not_met() -> None:
    bench = result(s_latency=30.0)
    text = markdown(bench)
    assert "| Added p95 answer latency at half SER(D) | <= 10 ms | +20.0 ms" in text
    row = next(line for line in text.splitlines() if "Added p95" in line)
    assert row.endswith("| **not met** |")


def test_chart_writes_a_png(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "bench" / "latency.png"
    chart(result(), path)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000


def test_chart_without_latencies(tmp_path: Path) -> None:
    bench = dataclasses.replace(
        result(),
        modes={"D": ModeResult("D", (dataclasses.replace(step("D", 10.0), latencies_ms=()),))},
    )
    path = tmp_path / "empty.png"
    chart(bench, path)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
