"""A fake AMI for the runtime: app_queue's events replayed to the registered handlers, a
scripted conversation for actions (panoramisk's testing.py replays recorded AMI the same way),
log-ins after a reconnect on demand, and a connected flag.

It speaks what `pbx_bridge.queue.follow.QueueEvents` asks for. For app_queue's members and
callers as state, see tests/support/fake_app_queue.py.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pbx_bridge.asterisk.ami import AmiUnavailable


@dataclass
class FakeAmiEvents:
    # Action name -> what Asterisk answers (an event list for as_list=True actions).
    conversation: dict[str, Any] = field(default_factory=dict)
    actions: list[dict[str, str]] = field(default_factory=list)
    connected: bool = True
    _handlers: list[tuple[str, Callable[[dict[str, str]], None]]] = field(default_factory=list)
    _logins: asyncio.Queue[None] = field(default_factory=asyncio.Queue)

    # --- the test's side

    def emit(self, event: dict[str, str]) -> None:
        """app_queue sends this event (as panoramisk hands it over: a plain dict)."""
        for pattern, callback in self._handlers:
            if fnmatch.fnmatch(event.get("Event", ""), pattern):
                callback(dict(event))

    def relogin(self) -> None:
        """AMI reconnected and logged in again."""
        self.connected = True
        self._logins.put_nowait(None)

    # --- the follower's side

    def on(self, pattern: str, callback: Callable[[dict[str, str]], None]) -> None:
        self._handlers.append((pattern, callback))

    async def relogged_in(self) -> None:
        await self._logins.get()

    async def action(self, action: dict[str, str], *, as_list: bool | None = None) -> Any:
        self.actions.append(action)
        if not self.connected:
            raise AmiUnavailable("AMI is not connected")
        answer = self.conversation.get(action["Action"])
        if answer is None:
            return [] if as_list else {"Response": "Error", "Message": "Invalid/unknown command"}
        return answer


def queue_event(kind: str, call_id: str, **fields: str) -> dict[str, str]:
    """An app_queue event about the caller `call_id`, as Asterisk 22 words it."""
    return {
        "Event": kind,
        "Privilege": "agent,all",
        "Timestamp": "1795593600.250000",
        "Queue": "emergency-112",
        "Uniqueid": call_id,
        "Linkedid": call_id,
        "CallerIDNum": "081234567890",
        **fields,
    }


def joined(call_id: str) -> dict[str, str]:
    return queue_event("QueueCallerJoin", call_id, Position="1", Count="1")


def connected(call_id: str, taker: str = "ct-01") -> dict[str, str]:
    return queue_event(
        "AgentConnect", call_id, MemberName=taker, Interface=f"PJSIP/{taker}", HoldTime="4"
    )


def completed(call_id: str, taker: str = "ct-01", reason: str = "caller") -> dict[str, str]:
    return queue_event(
        "AgentComplete", call_id, MemberName=taker, Interface=f"PJSIP/{taker}", Reason=reason
    )


def abandoned(call_id: str) -> dict[str, str]:
    return queue_event("QueueCallerAbandon", call_id, Position="1", HoldTime="9")
