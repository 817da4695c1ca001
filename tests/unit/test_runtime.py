"""The call runtime against a fake ARI and AMI: no caller stranded, every record written.

The controller runs unchanged; the fakes (tests/support) script what Asterisk sends and
answers. No sleeps: each step awaits the request or the record it expects.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from pbx_bridge.queue.follow import follow_queue_events
from pbx_bridge.screening import machine, policy
from pbx_bridge.screening.machine import ScreeningConfig
from pbx_bridge.screening.model import Call, Event, Phase, QueueReason
from pbx_bridge.screening.runtime import ScreeningController, arrival
from tests.support import fake_ami, fake_ari
from tests.support.fake_ami import FakeAmiEvents
from tests.support.fake_ari import FakeAri

CONFIG = ScreeningConfig(queue_retry_seconds=0.001, queue_retry_max_seconds=0.002)
SAFETY_NET = 10  # seconds: only so a broken controller fails the test instead of hanging it


@dataclass
class Line:
    """The controller running against the fakes, and the records it writes."""

    ari: FakeAri
    ami: FakeAmiEvents
    controller: ScreeningController
    records: asyncio.Queue[Call]

    async def record(self) -> Call:
        async with asyncio.timeout(SAFETY_NET):
            return await self.records.get()

    async def requested(self, method: str, target: str, count: int = 1) -> None:
        async with asyncio.timeout(SAFETY_NET):
            await self.ari.requested(method, target, count)

    async def screening(self, channel_id: str) -> None:
        """A new call, answered, its greeting playing."""
        self.ari.send(fake_ari.stasis_start(channel_id), fake_ari.answered(channel_id))
        await self.requested("play", channel_id)

    async def queued(self, channel_id: str) -> None:
        """A call whose caller spoke: sent on to the queue, out of Stasis, joined."""
        await self.screening(channel_id)
        self.ari.send(fake_ari.talking(channel_id))
        await self.requested("continue_in_dialplan", channel_id)
        self.ari.send(fake_ari.stasis_end(channel_id))
        self.ami.emit(fake_ami.joined(channel_id))
        await settle()  # the call's task has taken them in

    def screened_as(self, channel_id: str) -> list[str]:
        """The PBX_BRIDGE_SCREENING values set on the channel, in order."""
        return [
            r.detail[1]
            for r in self.ari.requests
            if r.method == "set_variable" and r.target == channel_id
        ]


@asynccontextmanager
async def line(*, queue_end_wait: float = 3600.0, ami_up: bool = True) -> AsyncIterator[Line]:
    ari, ami = FakeAri(), FakeAmiEvents(connected=ami_up)
    records: asyncio.Queue[Call] = asyncio.Queue()

    async def store(call: Call) -> None:
        records.put_nowait(call)

    controller = ScreeningController(
        ari,
        store,
        config=CONFIG,
        queue_context="queue-112",
        queue_events_flow=lambda: ami.connected,
        queue_end_wait=queue_end_wait,
    )
    running = [
        asyncio.create_task(controller.run()),
        asyncio.create_task(follow_queue_events(ami, controller.deliver)),
    ]
    ari.connect()
    await ari.requested("channels", ari.app)
    try:
        yield Line(ari, ami, controller, records)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


async def settle() -> None:
    """Let every ready task run its course (event-loop turns, not time)."""
    for _ in range(20):
        await asyncio.sleep(0)


def kinds(call: Call) -> list[str]:
    return [entry.kind for entry in call.timeline]


# --- ARI and AMI: one record, with app_queue's word, whichever connection is first


async def test_the_record_waits_for_app_queues_word_when_the_hangup_comes_first() -> None:
    async with line() as phone:
        await phone.queued("c1")
        phone.ami.emit(fake_ami.connected("c1"))
        phone.ari.send(fake_ari.destroyed("c1"))
        await phone.screening("barrier")  # ARI's events before it are delivered
        await settle()
        assert phone.records.empty()  # AgentComplete is still to come over AMI
        phone.ami.emit(fake_ami.completed("c1", reason="agent"))
        record = await phone.record()
    assert kinds(record)[-2:] == ["agent_completed", "hung_up"]
    assert record.agent == "ct-01"
    assert policy.classify_call(record, policy.Thresholds())[1].value == "answered"


async def test_a_caller_who_gave_up_in_the_queue_is_recorded_as_such_after_the_abandon() -> None:
    async with line() as phone:
        await phone.queued("c1")
        phone.ari.send(fake_ari.destroyed("c1"))
        phone.ami.emit(fake_ami.abandoned("c1"))
        record = await phone.record()
    assert "queue_abandoned" in kinds(record)
    assert kinds(record)[-1] == "hung_up"


async def test_with_ami_down_the_record_is_written_at_once() -> None:
    """Nothing will come over AMI: the record must not wait for it (the wait here is an hour)."""
    async with line(ami_up=False) as phone:
        await phone.queued("c1")
        phone.ari.send(fake_ari.destroyed("c1"))
        record = await phone.record()
    assert kinds(record)[-1] == "hung_up"


async def test_the_wait_for_app_queues_word_is_bounded() -> None:
    async with line(queue_end_wait=0.01) as phone:
        await phone.queued("c1")
        phone.ari.send(fake_ari.destroyed("c1"))
        record = await phone.record()
    assert "agent_completed" not in kinds(record)
    assert record.phase is Phase.ENDED


async def test_a_call_hung_up_in_screening_does_not_wait_for_the_queue() -> None:
    async with line() as phone:
        await phone.screening("c1")
        phone.ari.send(fake_ari.destroyed("c1"))
        record = await phone.record()
    assert record.queued_at is None


# --- one bad event, one failing handler: that call to the queue, the others on


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "ChannelDtmfReceived", "channel": {"id": "c1"}, "timestamp": "not a time"},
        {"type": "ChannelTalkingFinished", "channel": {"id": "c1"}, "duration": "long"},
        {"type": "ChannelHangupRequest", "channel": {"id": "c1"}, "cause": "x"},
    ],
    ids=["timestamp", "duration", "cause"],
)
async def test_a_malformed_event_sends_its_call_to_the_queue_and_the_others_go_on(
    bad: dict[str, Any],
) -> None:
    async with line() as phone:
        await phone.screening("c1")
        await phone.screening("c2")
        phone.ari.send(bad, "not even a JSON object", {"type": "StasisStart"})
        await phone.requested("continue_in_dialplan", "c1")
        assert phone.screened_as("c1") == ["5/command_failed"]
        phone.ari.send(fake_ari.talking("c2"))
        await phone.requested("continue_in_dialplan", "c2")
        assert phone.screened_as("c2") == ["5/speech"]


async def test_an_unreadable_arrival_is_sent_straight_to_the_queue() -> None:
    broken = fake_ari.stasis_start("c1")
    broken["channel"]["creationtime"] = "yesterday"
    async with line() as phone:
        phone.ari.send(broken)
        await phone.requested("continue_in_dialplan", "c1")
        assert phone.screened_as("c1") == ["5/command_failed"]
        assert not phone.controller.holds("c1")


@pytest.fixture
def step_fails_for_c1(monkeypatch: pytest.MonkeyPatch) -> None:
    real_step = machine.step

    def step(call: Call, event: Event, config: ScreeningConfig = CONFIG) -> machine.Outcome:
        if call.channel_id == "c1" and call.answered_at is not None:
            raise KeyError("a bug of ours")
        return real_step(call, event, config)

    monkeypatch.setattr(machine, "step", step)


@pytest.mark.usefixtures("step_fails_for_c1")
async def test_a_handler_that_raises_sends_that_call_to_the_queue_and_the_others_go_on() -> None:
    async with line() as phone:
        phone.ari.send(fake_ari.stasis_start("c1"), fake_ari.answered("c1"))
        await phone.requested("answer", "c1")
        phone.ari.send(fake_ari.talking("c1"))
        await phone.requested("continue_in_dialplan", "c1")
        assert phone.screened_as("c1") == ["5/command_failed"]
        await phone.queued("c2")
        assert phone.screened_as("c2") == ["5/speech"]


# --- commands that fail


async def test_a_failed_play_sends_the_call_to_the_queue() -> None:
    async with line() as phone:
        phone.ari.fail("play", fake_ari.server_error("/play"))
        phone.ari.send(fake_ari.stasis_start("c1"), fake_ari.answered("c1"))
        await phone.requested("continue_in_dialplan", "c1")
        assert phone.screened_as("c1") == ["5/command_failed"]


async def test_a_failed_continue_to_queue_is_retried_until_it_succeeds() -> None:
    async with line() as phone:
        phone.ari.fail("continue_in_dialplan", fake_ari.server_error("/continue"), times=3)
        await phone.screening("c1")
        phone.ari.send(fake_ari.talking("c1"))
        await phone.requested("continue_in_dialplan", "c1", count=4)
        assert phone.screened_as("c1") == ["5/speech"] * 4


# --- reconnects and shutdown


async def test_after_a_reconnect_gone_calls_get_a_record_and_stuck_ones_go_on() -> None:
    async with line() as phone:
        await phone.screening("stuck")  # its PlaybackFinished will be lost
        await phone.screening("gone")  # its ChannelDestroyed will be lost
        await phone.queued("queued")
        phone.ari.channel_list = [
            fake_ari.channel("stuck", state="Up"),
            fake_ari.channel("queued", state="Up", in_app=""),
            fake_ari.channel("new", state="Up"),  # arrived while we were away: adopted
        ]
        phone.ari.connect()
        record = await phone.record()
        assert record.channel_id == "gone"
        assert kinds(record)[-1] == "hung_up"
        await phone.requested("continue_in_dialplan", "stuck")
        await phone.requested("continue_in_dialplan", "new")
        assert phone.screened_as("stuck") == ["5/adopted"]
        assert phone.screened_as("new") == ["5/adopted"]
        assert phone.screened_as("queued") == ["5/speech"]  # left alone in the queue
        assert phone.controller.holds("queued")


async def test_on_shutdown_every_held_call_goes_to_the_queue_with_its_screening() -> None:
    async with line() as phone:
        await phone.screening("c1")
        await phone.queued("c2")
        let_go = await phone.controller.hand_back_all(QueueReason.SHUTDOWN, SAFETY_NET)
        assert let_go == 1
        assert phone.screened_as("c1") == ["5/shutdown"]
        assert phone.screened_as("c2") == ["5/speech"]


async def test_the_hand_back_on_shutdown_is_bounded_in_time() -> None:
    async with line() as phone:
        phone.ari.fail("continue_in_dialplan", fake_ari.server_error("/continue"), times=10**6)
        await phone.screening("c1")
        assert await phone.controller.hand_back_all(QueueReason.SHUTDOWN, 0.01) == 0


async def test_ending_run_cancels_every_call_task() -> None:
    async with line() as phone:
        await phone.screening("c1")
        phone.ari.end()
        await phone.controller.cancel_calls()
        assert not phone.controller.holds("c1")


# --- the caller's identity, hostile until cleaned


def test_the_callers_number_and_name_are_cleaned_and_capped_on_arrival() -> None:
    message = fake_ari.stasis_start(
        "c1", number="0812\r\nAction: Originate" + "9" * 100, name="Budi\x1b[2J\u202e" + "x" * 99
    )
    arrived = arrival(message)
    assert arrived.caller_number == "0812Action: Originate" + "9" * 11
    assert len(arrived.caller_number) == 32
    assert arrived.caller_name == "Budi[2J" + "x" * 57
    assert all(ch.isprintable() for ch in arrived.caller_number + arrived.caller_name)


# --- app_queue's events over AMI


async def test_an_ami_event_that_cannot_be_read_is_dropped_and_the_next_still_arrive() -> None:
    async with line() as phone:
        await phone.queued("c1")
        phone.ami.emit(fake_ami.queue_event("QueueCallerJoin", "c1", Position="²"))
        phone.ami.emit(fake_ami.queue_event("AgentConnect", "c1", MemberName="ct-02"))
        phone.ari.send(fake_ari.destroyed("c1"))
        phone.ami.emit(fake_ami.completed("c1", taker="ct-02"))
        record = await phone.record()
    assert record.agent == "ct-02"


async def test_after_an_ami_reconnect_the_calls_are_told_what_they_missed() -> None:
    async with line() as phone:
        await phone.queued("c1")
        phone.ami.conversation = {
            "QueueStatus": [{"Event": "QueueStatusComplete"}],
            "CoreShowChannels": [
                {"Event": "CoreShowChannel", "Uniqueid": "c1", "Application": "Queue",
                 "BridgeId": "b-1", "ConnectedLineNum": "ct-03"},
            ],
        }  # fmt: skip
        phone.ami.relogin()
        await settle()  # the resync's two actions answered and its facts delivered
        assert [a["Action"] for a in phone.ami.actions] == ["QueueStatus", "CoreShowChannels"]
        phone.ami.emit(fake_ami.completed("c1", taker="ct-03"))
        phone.ari.send(fake_ari.destroyed("c1"))
        record = await phone.record()
    assert record.agent == "ct-03"
