"""After an AMI reconnect: what app_queue did while we were not listening, from its state now.

QueueStatus says who is still waiting (and since when); CoreShowChannels says which caller is
now talking to a call taker (ConnectedLineNum is the call taker's id). The connection time of a
call taker who answered during the gap is the resync's time, noted as such in the timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pbx_bridge.screening.model import AgentConnected, Event, QueueJoined


class Ami(Protocol):
    async def action(self, action: dict[str, str], *, as_list: bool | None = None) -> Any: ...


def _events(response: Any, name: str) -> list[dict[str, str]]:
    items: Iterable[Any] = response if isinstance(response, list) else [response]
    return [dict(item) for item in items if str(dict(item).get("Event", "")) == name]


def waiting(entries: list[dict[str, str]], now: datetime) -> list[tuple[str, Event]]:
    found: list[tuple[str, Event]] = []
    for entry in entries:
        wait = entry.get("Wait", "0")
        since = now - timedelta(seconds=int(wait) if wait.isdigit() else 0)
        position = entry.get("Position", "0")
        found.append((
            entry.get("Uniqueid", ""),
            QueueJoined(since, entry.get("Queue", ""), int(position) if position.isdigit() else 0),
        ))  # fmt: skip
    return found


def connected(channels: list[dict[str, str]], now: datetime) -> list[tuple[str, Event]]:
    """Callers in Queue() whose channel is bridged: a call taker answered them."""
    return [
        (channel.get("Uniqueid", ""), AgentConnected(now, channel.get("ConnectedLineNum", "")))
        for channel in channels
        if channel.get("Application") == "Queue"
        and channel.get("BridgeId")
        and channel.get("ConnectedLineNum")
    ]


async def resync(ami: Ami, deliver: Callable[[str, Event], None]) -> int:
    """Tell held calls what app_queue says now; returns how many facts were delivered."""
    now = datetime.now(UTC)
    status = await ami.action({"Action": "QueueStatus"}, as_list=True)
    channels = await ami.action({"Action": "CoreShowChannels"}, as_list=True)
    facts = waiting(_events(status, "QueueEntry"), now) + connected(
        _events(channels, "CoreShowChannel"), now
    )
    for channel_id, event in facts:
        if channel_id:
            deliver(channel_id, event)
    return len(facts)
