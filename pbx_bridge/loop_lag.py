"""How late the event loop wakes: a blocked loop delays every call's screening."""

from __future__ import annotations

import asyncio

from pbx_bridge import metrics


async def watch_loop_lag(interval: float = 0.1) -> None:
    """Forever: sleep `interval`, record how much later than asked the loop woke us.

    Each lag goes into the histogram pbx_bridge_event_loop_lag_seconds; the gauge
    pbx_bridge_event_loop_lag_max_seconds holds the largest lag since the process started
    (never reset: per-period maxima come from the histogram's buckets between two scrapes).
    """
    loop = asyncio.get_running_loop()
    worst = next(iter(metrics.LOOP_LAG_MAX.collect())).samples[0].value  # kept across restarts
    while True:
        start = loop.time()
        await asyncio.sleep(interval)
        lag = max(0.0, loop.time() - start - interval)
        metrics.LOOP_LAG.observe(lag)
        if lag > worst:
            worst = lag
            metrics.LOOP_LAG_MAX.set(lag)
