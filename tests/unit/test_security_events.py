"""Asterisk's refusals reach a Prometheus counter by type; routine events and odd labels do not."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from pbx_bridge.asterisk import security_events


class RecordingAmi:
    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[dict[str, str]], None]] = {}

    def on(self, pattern: str, callback: Callable[[dict[str, str]], None]) -> None:
        self.handlers[pattern] = callback

    def emit(self, event: dict[str, str]) -> None:
        handler = self.handlers.get(event["Event"])
        if handler is not None:
            handler(event)


def counted(event: str, service: str) -> float:
    labels = {"event": event, "service": service}
    value = REGISTRY.get_sample_value("pbx_bridge_asterisk_security_events_total", labels)
    return value or 0.0


def test_each_refusal_is_counted_by_type_and_service() -> None:
    ami = RecordingAmi()
    security_events.follow(ami)
    assert {"InvalidAccountID", "FailedACL", "InvalidPassword", "ChallengeResponseFailed"} <= set(
        ami.handlers
    )
    before = counted("InvalidAccountID", "PJSIP"), counted("ChallengeResponseFailed", "PJSIP")
    spoofed = {
        "Event": "InvalidAccountID",
        "Service": "PJSIP",
        "AccountID": "081234567890",
        "RemoteAddress": "IPV4/UDP/127.0.0.2/5060",
    }
    with capture_logs() as logs:
        ami.emit(spoofed)
        ami.emit(spoofed)
        ami.emit({"Event": "ChallengeResponseFailed", "Service": "PJSIP"})
    assert counted("InvalidAccountID", "PJSIP") - before[0] == 2
    assert counted("ChallengeResponseFailed", "PJSIP") - before[1] == 1
    assert "081234567890" not in str(logs)  # the account id may be a caller's number


def test_routine_events_are_not_followed_and_services_are_a_closed_set() -> None:
    ami = RecordingAmi()
    security_events.follow(ami)
    assert "SuccessfulAuth" not in ami.handlers
    assert "ChallengeSent" not in ami.handlers
    before = counted("FailedACL", "other")
    ami.emit({"Event": "FailedACL", "Service": "made-up-by-a-peer"})
    assert counted("FailedACL", "other") - before == 1
    assert counted("FailedACL", "made-up-by-a-peer") == 0
