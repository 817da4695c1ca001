"""One callback attempt: ring the call taker, then the caller, bridge them, keep the outcome.

The bridging is the dialplan's (context `callback`): AMI Originate rings the call taker's phone
into it; once they answer, Dial() rings the caller through the trunk. When the call ends the
dialplan's hang-up handler reports DIALSTATUS as an AMI UserEvent, which ends the attempt.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Protocol

from pbx_bridge.queue.takers import Taker
from pbx_bridge.store.callbacks import CallbackRepository

USER_EVENT = "PbxBridgeCallback"
# The only numbers dialled out: the caller id came from the trunk and is hostile until checked
# (a "," or "&" in a Dial string adds options or channels). The dialplan checks again (FILTER).
DIALLABLE = re.compile(r"\+?[0-9]{3,20}")
NOT_DIALLABLE = "not_diallable"


def diallable(number: str) -> bool:
    return DIALLABLE.fullmatch(number) is not None


class Ami(Protocol):
    async def action(self, action: dict[str, Any], *, as_list: bool | None = None) -> Any: ...

    def on(self, pattern: str, callback: Any) -> None: ...


def outcome_of(dial_status: str) -> tuple[str, bool]:
    """Asterisk's DIALSTATUS -> (outcome stored with the attempt, caller reached?)."""
    status = dial_status.strip().upper()
    if status == "ANSWER":
        return "answered", True
    if not status:
        return "taker_did_not_answer", False
    return status.lower(), False


async def call_back(
    ami: Ami,
    callbacks: CallbackRepository,
    callback_id: int,
    taker: Taker,
    *,
    timeout: float = 180.0,
) -> str:
    """Run one attempt to its end; returns the outcome ("answered", "noanswer", "busy", ...)."""
    item, attempt_id = await callbacks.take(callback_id, taker.id)
    if not diallable(item.caller_number):
        # Kept as the attempt's outcome so the worklist shows why nobody was called.
        await callbacks.finish(attempt_id, NOT_DIALLABLE, reached=False)
        return NOT_DIALLABLE
    finished: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_user_event(event: dict[str, str]) -> None:
        ours = event.get("UserEvent") == USER_EVENT and event.get("Id") == str(callback_id)
        if ours and not finished.done():
            finished.set_result(event.get("DialStatus", ""))

    ami.on("UserEvent", on_user_event)
    response = await ami.action(
        {
            "Action": "Originate",
            "Channel": taker.interface,
            "Context": "callback",
            "Exten": "s",
            "Priority": "1",
            "Timeout": "30000",  # how long the call taker's phone rings, ms
            "CallerID": f'"Callback 112" <{item.caller_number}>',
            "Variable": [
                f"PBX_BRIDGE_CALLBACK_ID={callback_id}",
                f"PBX_BRIDGE_CALLBACK_NUMBER={item.caller_number}",
            ],
            "Async": "false",
        },
        as_list=False,
    )
    if str(response.get("Response", "")).lower() != "success":
        # The call taker's phone did not answer: no hang-up handler runs, nothing was dialled.
        await callbacks.finish(attempt_id, "taker_did_not_answer", reached=False)
        return "taker_did_not_answer"
    try:
        dial_status = await asyncio.wait_for(finished, timeout)
    except TimeoutError:
        dial_status = "TIMEOUT"
    outcome, reached = outcome_of(dial_status)
    await callbacks.finish(attempt_id, outcome, reached=reached)
    return outcome
