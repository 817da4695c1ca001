"""A fake AMI that keeps app_queue's members and callers the way Asterisk answers about them.

It speaks the `action(dict, as_list=...)` dialect of `pbx_bridge.queue.members.Ami`: QueueAdd,
QueuePause, QueueRemove (one response each) and QueueStatus (an event list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Member:
    paused: bool
    reason: str
    status: str = "1"  # AST_DEVICE_NOT_INUSE
    in_call: bool = False
    calls_taken: int = 0


@dataclass
class FakeAmi:
    members: dict[tuple[str, str], Member] = field(default_factory=dict)  # (queue, interface)
    callers: list[dict[str, str]] = field(default_factory=list)  # QueueEntry events
    actions: list[dict[str, str]] = field(default_factory=list)
    connected: bool = True

    async def action(  # noqa: PLR0911 - one answer per AMI action, as Asterisk gives
        self, action: dict[str, str], *, as_list: bool | None = None
    ) -> Any:
        self.actions.append(action)
        if not self.connected:
            from pbx_bridge.asterisk.ami import AmiUnavailable  # noqa: PLC0415

            raise AmiUnavailable("AMI is not connected")
        name = action["Action"]
        if name == "QueueStatus":
            assert as_list is True
            return self._status()
        assert as_list is False
        key = (action.get("Queue", ""), action.get("Interface", ""))
        if name == "QueueAdd":
            if key in self.members:
                return {"Response": "Error", "Message": "Unable to add interface: Already there"}
            paused = action.get("Paused") == "true"
            self.members[key] = Member(paused, action.get("Reason", "") if paused else "")
            return {"Response": "Success", "Message": "Added interface to queue"}
        if name == "QueuePause":
            member = self.members.get(key)
            if member is None:
                return {"Response": "Error", "Message": "Interface not found"}
            member.paused = action["Paused"] == "true"
            member.reason = action.get("Reason", "") if member.paused else ""
            return {"Response": "Success", "Message": "Interface paused successfully"}
        if name == "QueueRemove":
            if self.members.pop(key, None) is None:
                return {"Response": "Error", "Message": "Unable to remove interface: Not there"}
            return {"Response": "Success", "Message": "Removed interface from queue"}
        return {"Response": "Error", "Message": f"Invalid/unknown command: {name}"}

    def _status(self) -> list[dict[str, str]]:
        events: list[dict[str, str]] = [
            {"Response": "Success", "EventList": "start", "Message": "Queue status will follow"}
        ]
        for (queue, interface), member in self.members.items():
            events.append(
                {
                    "Event": "QueueMember",
                    "Queue": queue,
                    "Name": interface.removeprefix("PJSIP/"),
                    "Location": interface,
                    "StateInterface": interface,
                    "Status": member.status,
                    "Paused": "1" if member.paused else "0",
                    "PausedReason": member.reason,
                    "InCall": "1" if member.in_call else "0",
                    "CallsTaken": str(member.calls_taken),
                    "LastCall": "0",
                }
            )
        events.extend({"Event": "QueueEntry", **caller} for caller in self.callers)
        events.append({"Event": "QueueStatusComplete", "EventList": "Complete"})
        return events

    def wait(self, queue: str, call_id: str, seconds: int, priority: int = 5) -> None:
        """A caller waiting in the queue."""
        position = sum(1 for c in self.callers if c["Queue"] == queue) + 1
        self.callers.append(
            {
                "Queue": queue,
                "Position": str(position),
                "Uniqueid": call_id,
                "CallerIDNum": "081234567890",
                "Wait": str(seconds),
                "Priority": str(priority),
            }
        )
