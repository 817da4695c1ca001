"""Call-taker state in app_queue, driven over AMI: log in, ready, pause with a reason, log out.

app_queue owns the state (so the dialplan fallback and Asterisk restarts see the same members);
this module only asks for changes and reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pbx_bridge.queue.takers import MAIN_QUEUE, Taker


class Ami(Protocol):
    async def action(self, action: dict[str, str], *, as_list: bool | None = None) -> Any: ...


async def _send(ami: Ami, action: dict[str, str]) -> Any:
    # One response each. panoramisk would otherwise wait for an event list after "Added
    # interface to queue" (older Asterisk sent one) and never return.
    return await ami.action(action, as_list=False)


class MemberError(RuntimeError):
    """app_queue refused a change; the message is Asterisk's."""


@dataclass(frozen=True)
class MemberState:
    taker_id: str
    queue: str
    paused: bool
    reason: str
    status: int  # AST_DEVICE_*: 1 not in use, 2 in use, 5 unavailable, 6 ringing, ...
    calls_taken: int
    last_call: int  # epoch seconds of the end of the last call


def queues_for(_taker: Taker) -> list[str]:
    # One queue for all: the member's penalty makes a supervisor the overflow.
    return [MAIN_QUEUE]


def _check(response: Any, what: str, *, tolerate: tuple[str, ...] = ()) -> None:
    items = response if isinstance(response, list) else [response]
    for item in items:
        if str(item.get("Response", "")).lower() == "error":
            message = str(item.get("Message", ""))
            if any(text in message for text in tolerate):
                continue
            raise MemberError(f"{what}: {message}")


async def log_in(ami: Ami, taker: Taker, *, ready: bool = False) -> None:
    """Add the taker to its queues, paused ("logged in, not ready") unless ready."""
    for queue in queues_for(taker):
        response = await _send(
            ami,
            {
                "Action": "QueueAdd",
                "Queue": queue,
                "Interface": taker.interface,
                "StateInterface": taker.interface,
                "MemberName": taker.id,
                "Penalty": str(taker.penalty),
                "Paused": "false" if ready else "true",
                "Reason": "" if ready else "logged in",
            },
        )
        _check(response, f"log in {taker.id} to {queue}", tolerate=("Already there",))


async def set_ready(ami: Ami, taker: Taker) -> None:
    for queue in queues_for(taker):
        response = await _send(ami, {
            "Action": "QueuePause", "Queue": queue, "Interface": taker.interface,
            "Paused": "false",
        })  # fmt: skip
        _check(response, f"ready {taker.id} in {queue}")


async def pause(ami: Ami, taker: Taker, reason: str) -> None:
    for queue in queues_for(taker):
        response = await _send(ami, {
            "Action": "QueuePause", "Queue": queue, "Interface": taker.interface,
            "Paused": "true", "Reason": reason,
        })  # fmt: skip
        _check(response, f"pause {taker.id} in {queue}")


async def log_out(ami: Ami, taker: Taker) -> None:
    for queue in queues_for(taker):
        response = await _send(ami, {
            "Action": "QueueRemove", "Queue": queue, "Interface": taker.interface,
        })  # fmt: skip
        _check(response, f"log out {taker.id} from {queue}", tolerate=("Not there",))
