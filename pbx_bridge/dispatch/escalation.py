"""The loop that escalates unacknowledged handoffs; the composition root owns its task."""

from __future__ import annotations

import asyncio

import structlog

from pbx_bridge.dispatch.services import DispatchService

log = structlog.get_logger(__name__)


async def escalate_once(service: DispatchService) -> int:
    try:
        return await service.escalate_due()
    except Exception:
        # A database hiccup must not end the loop: the next round tries again.
        log.exception("escalation.failed")
        return 0


async def escalate_forever(service: DispatchService, interval_seconds: float) -> None:
    """Every interval, step every due handoff through the pure machine."""
    while True:
        escalated = await escalate_once(service)
        if escalated:
            log.info("escalation.round", escalated=escalated)
        await asyncio.sleep(interval_seconds)
