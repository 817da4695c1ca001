"""The guard's runner against a fake ARI: what it asks Asterisk, in what order, and what it
leaves alone."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from pbx_bridge.asterisk.ari import AriError, AriUnavailable
from pbx_bridge.guard.decide import GuardConfig
from pbx_bridge.guard.metrics import REGISTRY, serve_metrics
from pbx_bridge.guard.runner import Guard
from pbx_bridge.screening.model import QueueReason
from pbx_bridge.screening.wire import VARIABLE
from pbx_bridge.sipp.runner import free_port

APP = "pbx-bridge"


def channel(
    channel_id: str, app_name: str = "Stasis", app_data: str = APP, state: str = "Up"
) -> dict[str, Any]:
    return {
        "id": channel_id,
        "state": state,
        "caller": {"number": "081234567890"},
        "dialplan": {"app_name": app_name, "app_data": app_data},
    }


@dataclass
class FakeAri:
    """Channels and their variables; every write is recorded; `gone` channels answer 409."""

    listed: list[dict[str, Any]] = field(default_factory=list)
    variables: dict[tuple[str, str], str] = field(default_factory=dict)
    playing: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)
    unavailable: bool = False
    writes: list[tuple[str, ...]] = field(default_factory=list)

    def _check(self, channel_id: str) -> None:
        if channel_id in self.gone:
            raise AriError(409, "POST", f"/channels/{channel_id}", "Channel not in Stasis")

    async def channels(self) -> list[dict[str, Any]]:
        if self.unavailable:
            raise AriUnavailable("down")
        return self.listed

    async def answer(self, channel_id: str) -> None:
        self._check(channel_id)
        self.writes.append(("answer", channel_id))

    async def get_variable(self, channel_id: str, name: str) -> str:
        self._check(channel_id)
        if (channel_id, name) not in self.variables:
            raise AriError(404, "GET", "/variable", "Provided variable was not found")
        return self.variables[channel_id, name]

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        self._check(channel_id)
        self.writes.append(("set", channel_id, name, value))
        self.variables[channel_id, name] = value

    async def stop_playback(self, playback_id: str) -> None:
        if playback_id not in self.playing:
            raise AriError(404, "DELETE", f"/playbacks/{playback_id}", "Playback not found")
        self.writes.append(("stop", playback_id))
        self.playing.discard(playback_id)

    async def continue_in_dialplan(self, channel_id: str, context: str) -> None:
        self._check(channel_id)
        self.writes.append(("continue", channel_id, context))


@dataclass
class Probe:
    answers: list[bool]

    async def __call__(self) -> bool:
        return self.answers.pop(0) if self.answers else True


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def make_guard(ari: FakeAri, answers: list[bool], clock: Clock | None = None) -> Guard:
    return Guard(
        ari,
        Probe(answers),
        app=APP,
        config=GuardConfig(misses_to_fail=3, held_limit_seconds=45.0),
        queue_context="queue-112",
        priority=5,
        clock=clock or Clock(),
    )


async def checks(guard: Guard, count: int) -> list[list[str]]:
    return [[move.channel_id for move in await guard.check()] for _ in range(count)]


async def test_a_healthy_controllers_calls_are_not_touched() -> None:
    ari = FakeAri([channel("c1"), channel("c2")])
    guard = make_guard(ari, [True] * 5)
    assert await checks(guard, 5) == [[]] * 5
    assert ari.writes == []


async def test_a_failed_controllers_calls_go_to_the_queue_with_the_reason_in_the_variable() -> None:
    ari = FakeAri([channel("c1")], playing={"c1-greeting"})
    guard = make_guard(ari, [False, False, False])
    assert await checks(guard, 3) == [[], [], ["c1"]]
    # Our prompt first: Asterisk would run the variable and the continue only after it.
    assert ari.writes == [
        ("stop", "c1-greeting"),
        ("set", "c1", VARIABLE, "5/controller_failed"),
        ("continue", "c1", "queue-112"),
    ]
    assert guard.moved == {QueueReason.CONTROLLER_FAILED: 1}


async def test_the_screening_the_controller_managed_is_kept() -> None:
    ari = FakeAri([channel("c1")], variables={("c1", VARIABLE): "10/pressed_55,cannot_speak"})
    guard = make_guard(ari, [False, False, False])
    await checks(guard, 3)
    assert ari.writes == [("continue", "c1", "queue-112")]


async def test_a_garbled_variable_is_replaced_not_trusted() -> None:
    ari = FakeAri([channel("c1")], variables={("c1", VARIABLE): "high/;Hangup()"})
    guard = make_guard(ari, [False, False, False])
    await checks(guard, 3)
    assert ("set", "c1", VARIABLE, "5/controller_failed") in ari.writes


async def test_only_channels_in_our_stasis_app_are_moved() -> None:
    ari = FakeAri(
        [
            channel("ours"),
            channel("other-app", app_data="someone-else"),
            channel("queued", app_name="Queue", app_data="emergency-112,r"),
            channel("with-args", app_data=f"{APP},x"),
        ]
    )
    guard = make_guard(ari, [False, False, False])
    assert (await checks(guard, 3))[-1] == ["ours", "with-args"]


async def test_calls_arriving_while_the_controller_is_failed_are_moved_at_the_next_check() -> None:
    ari = FakeAri([channel("c1")])
    guard = make_guard(ari, [False] * 5)
    await checks(guard, 3)
    ari.listed = [channel("c2")]  # c1 went on; c2 arrives
    assert await checks(guard, 1) == [["c2"]]


async def test_a_call_that_left_on_its_own_is_not_counted() -> None:
    ari = FakeAri([channel("c1")], gone={"c1"})
    guard = make_guard(ari, [False, False, False])
    assert await checks(guard, 3) == [[], [], []]
    assert guard.moved == {}


async def test_a_call_held_too_long_by_a_healthy_controller_is_moved() -> None:
    clock = Clock()
    ari = FakeAri([channel("stuck")])
    guard = make_guard(ari, [], clock)
    assert await checks(guard, 1) == [[]]  # first seen now
    clock.now += 45.5
    ari.listed = [channel("stuck"), channel("fresh")]
    assert await checks(guard, 1) == [["stuck"]]
    assert ("set", "stuck", VARIABLE, "5/held_too_long") in ari.writes


@pytest.mark.parametrize("failure", ["unavailable", "raises"])
async def test_the_guard_keeps_counting_when_ari_or_the_probe_fails(failure: str) -> None:
    ari = FakeAri([channel("c1")], unavailable=failure == "unavailable")

    async def broken() -> bool:
        raise OSError("refused")

    guard = make_guard(ari, [False] * 3)
    if failure == "raises":
        guard._probe = broken
    await checks(guard, 3)
    assert guard.liveness.failed


async def test_a_ringing_call_is_answered_in_stasis_before_it_moves() -> None:
    """So the controller, thawing, is told of the answer and its record counts the call as
    answered and queued, not as abandoned before our answer."""
    ari = FakeAri([channel("ringing", state="Ring")])
    guard = make_guard(ari, [False, False, False])
    await checks(guard, 3)
    assert ari.writes == [
        ("answer", "ringing"),
        ("set", "ringing", VARIABLE, "5/controller_failed"),
        ("continue", "ringing", "queue-112"),
    ]


async def test_the_guards_own_metrics_count_its_moves_and_say_the_controller_failed() -> None:
    """Served by the guard process: the controller's /metrics is silent when it has failed."""
    reason = str(QueueReason.CONTROLLER_FAILED)
    moved_before = guard_metric("pbx_bridge_guard_moved_calls_total", reason=reason)
    guard = make_guard(FakeAri([channel("c1"), channel("c2")]), [False, False, False])
    await checks(guard, 3)
    assert guard_metric("pbx_bridge_guard_moved_calls_total", reason=reason) == moved_before + 2
    assert guard_metric("pbx_bridge_guard_controller_failed") == 1
    assert guard_metric("pbx_bridge_guard_calls_in_stasis") == 2
    await make_guard(FakeAri([]), [True]).check()
    assert guard_metric("pbx_bridge_guard_controller_failed") == 0

    port = free_port(socket.SOCK_STREAM)
    site = await serve_metrics("127.0.0.1", port)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/metrics") as response,
        ):
            text = await response.text()
    finally:
        await site.cleanup()
    assert f'pbx_bridge_guard_moved_calls_total{{reason="{reason}"}}' in text


def guard_metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0
