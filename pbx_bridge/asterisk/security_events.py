"""Asterisk's security events (AMI class `security`): refused SIP and AMI requests, counted.

A scanner on the LAN, a host posing as the carrier's trunk or a guessed softphone password
shows here first (manager.conf lets only these refusals through, not the routine
ChallengeSent and SuccessfulAuth of every registration).
"""

from __future__ import annotations

from typing import Any, Protocol

import structlog
from prometheus_client import Counter

log = structlog.get_logger(__name__)

REFUSALS = (
    "InvalidAccountID",  # no endpoint matches (unknown source, or a name it may not use)
    "FailedACL",  # the source address is outside the ACL
    "InvalidPassword",
    "ChallengeResponseFailed",  # a wrong digest answer: a guessed password
    "RequestBadFormat",
    "RequestNotAllowed",
    "AuthMethodNotAllowed",
    "UnexpectedAddress",
)
# Asterisk's `Service` field, kept to known values so a peer cannot mint label values.
SERVICES = frozenset({"PJSIP", "AMI", "ARI", "SIP"})

SECURITY_EVENTS = Counter(
    "pbx_bridge_asterisk_security_events_total",
    "Requests Asterisk refused, by security event type and service (PJSIP, AMI, ...)",
    ["event", "service"],
)


class Ami(Protocol):
    def on(self, pattern: str, callback: Any) -> None: ...


def count(event: dict[str, str]) -> None:
    name = event.get("Event", "")
    if name not in REFUSALS:
        return
    service = event.get("Service", "")
    service = service if service in SERVICES else "other"
    SECURITY_EVENTS.labels(name, service).inc()
    # The remote address, never the account id: a spoofed From may carry a caller's number.
    log.debug(
        "asterisk.security_event",
        kind=name,
        service=service,
        remote=event.get("RemoteAddress", ""),
    )


def follow(ami: Ami) -> None:
    """Count every refusal Asterisk reports over AMI, from now on (and after reconnects)."""
    for name in REFUSALS:
        ami.on(name, count)
