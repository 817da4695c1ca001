"""After an AMI reconnect, app_queue's state now fills in what the calls missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pbx_bridge.queue.resync import resync
from pbx_bridge.queue.tracking import translate
from pbx_bridge.screening import machine
from pbx_bridge.screening.model import AgentConnected, Arrived, Event, Phase, QueueJoined

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


class FakeAmi:
    """Answers QueueStatus and CoreShowChannels as Asterisk 22 does (event lists)."""

    async def action(self, action: dict[str, str], *, as_list: bool | None = None) -> Any:
        assert as_list is True
        if action["Action"] == "QueueStatus":
            return [
                {"Response": "Success", "EventList": "start"},
                {"Event": "QueueParams", "Queue": "emergency-112"},
                {"Event": "QueueEntry", "Queue": "emergency-112", "Position": "1",
                 "Uniqueid": "waiting.1", "Wait": "12"},
                {"Event": "QueueStatusComplete"},
            ]  # fmt: skip
        return [
            {"Response": "Success", "EventList": "start"},
            {"Event": "CoreShowChannel", "Uniqueid": "talking.2", "Application": "Queue",
             "BridgeId": "b-1", "ConnectedLineNum": "ct-02"},
            {"Event": "CoreShowChannel", "Uniqueid": "waiting.1", "Application": "Queue",
             "BridgeId": "", "ConnectedLineNum": ""},
            {"Event": "CoreShowChannel", "Uniqueid": "agent.3", "Application": "AppQueue",
             "BridgeId": "b-1", "ConnectedLineNum": "0812"},
            {"Event": "CoreShowChannelsComplete"},
        ]  # fmt: skip


async def test_resync_tells_who_waits_since_when_and_who_is_talking() -> None:
    told: list[tuple[str, Event]] = []
    count = await resync(FakeAmi(), lambda channel, event: told.append((channel, event)))
    assert count == 2
    facts = dict(told)
    joined = facts["waiting.1"]
    assert isinstance(joined, QueueJoined)
    assert joined.queue == "emergency-112"
    assert abs((datetime.now(UTC) - joined.at) - timedelta(seconds=12)) < timedelta(seconds=2)
    assert facts["talking.2"] == AgentConnected(facts["talking.2"].at, "ct-02")
    assert "agent.3" not in facts  # the call taker's own leg is not a caller


def test_a_join_or_connect_told_twice_is_noted_once() -> None:
    call, _ = machine.start(Arrived(NOW, "c", "0812"))
    for event in (
        QueueJoined(NOW, "emergency-112", 1),
        QueueJoined(NOW + timedelta(seconds=5), "emergency-112", 1),
        AgentConnected(NOW + timedelta(seconds=9), "ct-01"),
        AgentConnected(NOW + timedelta(seconds=11), "ct-01"),
    ):
        call, _ = machine.step(call, event)
    kinds = [entry.kind for entry in call.timeline]
    assert kinds.count("queue_joined") == 1
    assert kinds.count("agent_connected") == 1
    assert call.phase is Phase.CONNECTED
    assert call.connected_at == NOW + timedelta(seconds=9)


def test_ami_queue_events_are_matched_to_the_caller_with_asterisks_time() -> None:
    stamp = NOW.timestamp()
    channel, event = translate({
        "Event": "AgentConnect", "Uniqueid": "c.1", "MemberName": "ct-03",
        "Timestamp": f"{stamp:.6f}", "HoldTime": "4",
    }) or ("", None)  # fmt: skip
    assert channel == "c.1"
    assert event == AgentConnected(NOW, "ct-03")
    assert translate({"Event": "QueueMemberStatus", "Uniqueid": "c.1"}) is None
