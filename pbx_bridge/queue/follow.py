"""app_queue's AMI events to the call they are about, and a resync after every AMI reconnect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import structlog

from pbx_bridge.queue import tracking
from pbx_bridge.queue.resync import resync
from pbx_bridge.screening.model import Event

log = structlog.get_logger(__name__)

Deliver = Callable[[str, Event], None]


class QueueEvents(Protocol):
    """What following app_queue needs of AMI (pbx_bridge.asterisk.ami.AmiClient, or a fake)."""

    def on(self, pattern: str, callback: Callable[[dict[str, str]], None]) -> None: ...
    async def relogged_in(self) -> None: ...
    async def action(self, action: dict[str, str], *, as_list: bool | None = None) -> Any: ...


def route_queue_events(ami: QueueEvents, deliver: Deliver) -> None:
    """Each queue event goes to its call; one that cannot be read is logged and dropped."""

    def on_event(event: dict[str, str]) -> None:
        try:
            translated = tracking.translate(event)
        except Exception as error:  # one odd event must not stop AMI's dispatch
            log.warning(  # no traceback: the event may carry a number
                "ami.event_failed",
                call_id=str(event.get("Uniqueid", "")),
                event_type=str(event.get("Event", "")),
                error=type(error).__name__,
            )
            return
        if translated is not None:
            deliver(*translated)

    for name in tracking.EVENT_NAMES:
        ami.on(name, on_event)


async def follow_queue_events(ami: QueueEvents, deliver: Deliver) -> None:
    """Route queue events, then after every AMI reconnect tell the calls what they missed.

    Runs as a task of the composition root: its resyncs are owned and end with it.
    """
    route_queue_events(ami, deliver)
    while True:
        await ami.relogged_in()
        try:
            told = await resync(ami, deliver)
            log.info("ami.resynced", facts=told)
        except Exception:
            log.exception("ami.resync_failed")
