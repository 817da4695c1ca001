"""A callback dials out only a plain number: the caller id came from the trunk and is hostile."""

from __future__ import annotations

from typing import Any, cast

import pytest

from pbx_bridge.callbacks.service import NOT_DIALLABLE, call_back, diallable
from pbx_bridge.queue.takers import Group, Taker
from pbx_bridge.store.callbacks import CallbackItem, CallbackRepository


class FakeCallbacks:
    def __init__(self, number: str) -> None:
        self.number = number
        self.finished: list[tuple[int, str, bool]] = []

    async def take(self, callback_id: int, _taker: str) -> tuple[CallbackItem, int]:
        return CallbackItem(callback_id, "call-1", self.number, "taken"), 7

    async def finish(self, attempt_id: int, outcome: str, *, reached: bool) -> None:
        self.finished.append((attempt_id, outcome, reached))


class FakeAmi:
    def __init__(self) -> None:
        self.actions: list[dict[str, Any]] = []

    async def action(self, action: dict[str, Any], *, as_list: bool | None = None) -> Any:
        del as_list
        self.actions.append(action)
        return {"Response": "Error"}

    def on(self, pattern: str, callback: Any) -> None:
        del pattern, callback


@pytest.mark.parametrize("number", ["112", "081234567890", "+6281234567890"])
def test_plain_numbers_are_diallable(number: str) -> None:
    assert diallable(number)


@pytest.mark.parametrize(
    "number",
    [
        "",
        "12",
        "081234567890,30,G(x)",
        "0812&PJSIP/ct-01",
        "0812\n",
        "++0812",
        "anonymous",
        "0812 3456",
        "1" * 21,
        "\uff10\uff18\uff11\uff12",  # fullwidth digits are not [0-9]
    ],
)
async def test_an_injected_number_is_never_originated(number: str) -> None:
    """No Originate is sent; the attempt keeps why, and the item stays on the worklist."""
    ami, callbacks = FakeAmi(), FakeCallbacks(number)
    taker = Taker("ct-01", "Petugas 1", Group.TAKER)
    outcome = await call_back(ami, cast("CallbackRepository", callbacks), 3, taker)
    assert outcome == NOT_DIALLABLE
    assert ami.actions == []
    assert callbacks.finished == [(7, NOT_DIALLABLE, False)]


async def test_a_plain_number_is_originated() -> None:
    ami, callbacks = FakeAmi(), FakeCallbacks("081234567890")
    taker = Taker("ct-01", "Petugas 1", Group.TAKER)
    await call_back(ami, cast("CallbackRepository", callbacks), 3, taker)
    (originate,) = ami.actions
    assert "PBX_BRIDGE_CALLBACK_NUMBER=081234567890" in originate["Variable"]
