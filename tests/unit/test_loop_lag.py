"""The event-loop lag watcher sees a callback that blocks the loop."""

from __future__ import annotations

import asyncio
import contextlib
import time

from prometheus_client import REGISTRY

from pbx_bridge.loop_lag import watch_loop_lag


def _value(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_a_blocked_loop_is_seen() -> None:
    slow_before = _value("pbx_bridge_event_loop_lag_seconds_count") - _value(
        "pbx_bridge_event_loop_lag_seconds_bucket", le="0.025"
    )
    sum_before = _value("pbx_bridge_event_loop_lag_seconds_sum")
    watcher = asyncio.create_task(watch_loop_lag(0.01))
    await asyncio.sleep(0.03)
    asyncio.get_running_loop().call_soon(time.sleep, 0.05)  # blocks the whole loop
    await asyncio.sleep(0.1)
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    slow_after = _value("pbx_bridge_event_loop_lag_seconds_count") - _value(
        "pbx_bridge_event_loop_lag_seconds_bucket", le="0.025"
    )
    assert slow_after - slow_before >= 1  # one wake-up at least 25 ms late
    assert _value("pbx_bridge_event_loop_lag_seconds_sum") - sum_before >= 0.04
    assert _value("pbx_bridge_event_loop_lag_max_seconds") >= 0.04
