"""AmiClient.action: nothing unsafe is written, and an AMI outage is a quick AmiUnavailable."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pbx_bridge.asterisk.ami import AmiClient, AmiUnavailable, AmiUnsafeAction


class Manager:
    """Stands in for panoramisk's Manager: records what would be written to the socket."""

    def __init__(self, *, answers: bool = True) -> None:
        self._connected = True
        self.authenticated = True
        self.sent: list[dict[str, str]] = []
        self._answers = answers

    def send_action(self, action: dict[str, str], as_list: bool | None = None) -> Any:
        self.sent.append(action)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._answers:
            future.set_result({"Response": "Success", "as_list": as_list})
        return future


def client(manager: Manager, timeout: float = 5.0) -> AmiClient:
    ami = AmiClient(host="127.0.0.1", port=5038, username="u", secret="s", action_timeout=timeout)  # noqa: S106
    ami._manager = manager  # the fake socket side
    return ami


@pytest.mark.parametrize(
    "action",
    [
        {"Action": "QueuePause", "Reason": "istirahat\r\nAction: Originate"},
        {"Action": "QueuePause", "Reason": "lunch\n"},
        {"Action": "QueuePause", "Interface": "PJSIP/ct-01\x00"},
        {"Action": "QueuePause\r\nAction: Originate", "Reason": ""},
        {"Action": "QueuePause", "Reason\r\nChannel": "x"},
        {"Action": "QueuePause", "Reason": "del\x7f"},
    ],
    ids=["crlf", "lf", "nul", "in_action", "in_key", "del"],
)
async def test_an_action_with_a_control_character_is_refused_before_it_is_written(
    action: dict[str, str],
) -> None:
    manager = Manager()
    with pytest.raises(AmiUnsafeAction):
        await client(manager).action(action, as_list=False)
    assert manager.sent == []


async def test_a_clean_action_is_sent() -> None:
    manager = Manager()
    answer = await client(manager).action({"Action": "QueuePause", "Reason": "istirahat 15"})
    assert answer["Response"] == "Success"
    assert manager.sent == [{"Action": "QueuePause", "Reason": "istirahat 15"}]


async def test_while_ami_is_disconnected_an_action_fails_at_once() -> None:
    manager = Manager()
    manager._connected = False  # panoramisk reconnecting
    with pytest.raises(AmiUnavailable, match="not connected"):
        await client(manager).action({"Action": "QueueStatus"}, as_list=True)
    assert manager.sent == []


async def test_an_action_amis_never_answers_fails_after_its_timeout() -> None:
    with pytest.raises(AmiUnavailable, match="did not answer 'QueueStatus'"):
        await client(Manager(answers=False), timeout=0.01).action({"Action": "QueueStatus"})


async def test_without_a_manager_an_action_is_unavailable() -> None:
    ami = AmiClient(host="127.0.0.1", port=5038, username="u", secret="s")  # noqa: S106
    with pytest.raises(AmiUnavailable):
        await ami.action({"Action": "QueueStatus"})
