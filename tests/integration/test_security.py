"""The PBX boundary against the real sandbox, tried as an attacker would: a LAN host posing as the
carrier's trunk, a scanner, an oversized INVITE, an AMI injection through the API, a caller id
built to break a Dial string, and script and SQL in a caller's name.

In the sandbox the trunk is 127.0.0.1 and "the LAN" is 127.0.0.0/8, so 127.0.0.2 plays a host
on the call takers' network that is not the carrier (SECURITY.md).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.sipp.runner import random_caller, run_scenario
from tests.integration.conftest import (
    PBX_BRIDGE,
    Controller,
    ari_get,
    assert_no_channel_left,
)

pytestmark = pytest.mark.integration

LAN_HOST = "127.0.0.2"
TRUNK_HOST = "127.0.0.1"
SDP = (
    "v=0\r\no=probe 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n"
)


@dataclass
class Dialog:
    """One request sent from a raw UDP socket, as a scanner or a spoofer writes it."""

    sock: socket.socket
    host: str
    port: int
    target: str
    from_user: str
    call_id: str
    tag: str

    def send(self, text: str) -> None:
        self.sock.sendto(text.encode(), ("127.0.0.1", self.target_port))

    @property
    def target_port(self) -> int:
        return int(self.target.rsplit(":", 1)[1])

    def request(self, method: str, uri: str, cseq: int, to: str, extra: str = "") -> str:
        body = SDP.format(host=self.host) if method == "INVITE" else ""
        branch = "z9hG4bK" + uuid.uuid4().hex[:16]
        return (
            f"{method} {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.host}:{self.port};branch={branch};rport\r\n"
            f"From: <sip:{self.from_user}@{self.host}:{self.port}>;tag={self.tag}\r\n"
            f"To: {to}\r\nCall-ID: {self.call_id}\r\nCSeq: {cseq} {method}\r\n"
            f"Contact: <sip:{self.from_user}@{self.host}:{self.port}>\r\nMax-Forwards: 70\r\n"
            f"{extra}"
            + ("Content-Type: application/sdp\r\n" if body else "")
            + f"Content-Length: {len(body)}\r\n\r\n{body}"
        )

    def final_response(self, method: str, within: float = 5.0) -> str:
        """The first final response to `method`, or "" if none came (a silent drop)."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65535).decode(errors="replace")
            except TimeoutError:
                return ""
            status = data.split(" ", 2)[1] if data.startswith("SIP/2.0 ") else ""
            if status.isdigit() and int(status) >= 200 and f" {method}\r\n" in data:
                return data
        return ""


def header(message: str, name: str) -> str:
    found = re.search(rf"^{name}:\s*(.*?)\r$", message, re.MULTILINE | re.IGNORECASE)
    return found.group(1) if found else ""


def sip_probe(
    settings: Settings,
    method: str,
    user: str,
    *,
    host: str = LAN_HOST,
    from_user: str = "scanner",
    extra: str = "",
) -> str:
    """Send one request from `host`; returns the final response's status line.

    A refused INVITE is ACKed; one answered 200 is ACKed and hung up at once, so that a failing
    test leaves no channel behind either."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        target = f"127.0.0.1:{settings.sandbox_sip_port}"
        dialog = Dialog(
            sock, host, sock.getsockname()[1], target, from_user, uuid.uuid4().hex, "t1"
        )
        uri = f"sip:{user}@{target}"
        to = f"<{uri}>"
        dialog.send(dialog.request(method, uri, 1, to, extra))
        response = dialog.final_response(method)
        if not response:
            return ""
        status_line = response.split("\r\n", 1)[0]
        if method == "INVITE":
            their_to = header(response, "To")
            if status_line.startswith("SIP/2.0 2"):
                contact = header(response, "Contact").strip("<>").split(">")[0]
                dialog.send(dialog.request("ACK", contact, 1, their_to))
                dialog.send(dialog.request("BYE", contact, 2, their_to))
                dialog.final_response("BYE")
            else:
                dialog.send(dialog.request("ACK", uri, 1, their_to))
        return status_line


def metric_total(controller: Controller, name: str) -> float:
    url = f"http://127.0.0.1:{controller.api_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith((name + "{", name + " "))
    )


def wait_for_metric_above(
    controller: Controller, name: str, floor: float, within: float = 10.0
) -> float:
    """AMI delivers the security events a moment after the SIP answer: wait for them."""
    deadline = time.monotonic() + within
    value = metric_total(controller, name)
    while value <= floor and time.monotonic() < deadline:
        time.sleep(0.1)
        value = metric_total(controller, name)
    return value


def api(
    controller: Controller, token: str, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{controller.api_port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def admin_token(settings: Settings) -> str:
    assert settings.api_token is not None
    return settings.api_token.get_secret_value()


def calls_listed(
    controller: Controller, settings: Settings, wanted: Any, within: float = 10.0
) -> tuple[list[dict[str, Any]], str]:
    """GET /api/calls once a call matching `wanted` is in it (recorded as the call ends)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{controller.api_port}/api/calls",
        headers={"Authorization": f"Bearer {admin_token(settings)}"},
    )
    deadline = time.monotonic() + within
    while True:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.headers["Content-Type"].startswith("application/json")
            raw = response.read().decode()
        calls = json.loads(raw)["calls"]
        if any(wanted(c) for c in calls) or time.monotonic() > deadline:
            return calls, raw
        time.sleep(0.1)


SECURITY_METRIC = "pbx_bridge_asterisk_security_events_total"


def test_a_lan_host_posing_as_the_trunk_is_refused_and_counted(
    settings: Settings, controller: Controller
) -> None:
    """From: trunk-112 from 127.0.0.2 was answered 200 (identified by username, no auth)."""
    before = metric_total(controller, SECURITY_METRIC)
    status = sip_probe(settings, "INVITE", "112", from_user="trunk-112")
    assert status, "Asterisk gave no answer at all"
    assert not status.startswith("SIP/2.0 2"), status
    assert wait_for_metric_above(controller, SECURITY_METRIC, before) > before
    # The same INVITE from the carrier's address is a 112 call (the probe hangs it up).
    assert sip_probe(settings, "INVITE", "112", host=TRUNK_HOST).startswith("SIP/2.0 200")
    assert_no_channel_left(settings)


def test_scanner_requests_from_an_unknown_source_are_refused_and_counted(
    settings: Settings, controller: Controller
) -> None:
    before = metric_total(controller, SECURITY_METRIC)
    probes = [("OPTIONS", "100"), ("INVITE", "1000"), ("INVITE", "ct-01"), ("OPTIONS", "admin")]
    statuses = [sip_probe(settings, method, user) for method, user in probes]
    assert not [s for s in statuses if s.startswith("SIP/2.0 2")], statuses
    assert wait_for_metric_above(controller, SECURITY_METRIC, before + len(probes) - 1) >= (
        before + len(probes)
    )
    assert_no_channel_left(settings)


def test_a_30_kb_invite_crashes_neither_asterisk_nor_the_controller(
    settings: Settings, controller: Controller
) -> None:
    padding = "X-Padding: " + "A" * 30_000 + "\r\n"
    for host in (LAN_HOST, TRUNK_HOST):
        sip_probe(settings, "INVITE", "112", host=host, from_user=random_caller(), extra=padding)
    assert ari_get(settings, "/asterisk/info")["system"]["version"]
    with urllib.request.urlopen(
        f"http://127.0.0.1:{controller.api_port}/health", timeout=5
    ) as response:
        assert response.status == 200
    assert controller.process.poll() is None
    # And the line still takes calls.
    assert run_scenario(settings, "hangup").ok
    assert_no_channel_left(settings)


def test_crlf_in_a_pause_reason_is_a_400_and_sets_no_asterisk_variable(
    settings: Settings, controller: Controller
) -> None:
    """The issue's injection: a Setvar smuggled in QueuePause's Reason header."""
    variable = "PBX_BRIDGE_INJECTED_" + uuid.uuid4().hex[:8].upper()
    reason = f"istirahat\r\n\r\nAction: Setvar\r\nVariable: {variable}\r\nValue: yes"
    token = admin_token(settings)
    controller.cli("takers", "login", "ct-01")
    try:
        status, body = api(
            controller, token, "POST", "/api/takers/ct-01/state",
            {"state": "paused", "reason": reason},
        )  # fmt: skip
    finally:
        controller.cli("takers", "logout", "ct-01")
    assert status == 400, body
    assert body["field"] == "reason"
    try:
        value = ari_get(settings, f"/asterisk/variable?variable={variable}")["value"]
    except urllib.error.HTTPError as error:
        value = f"(HTTP {error.code})"
    assert value in {"", "(HTTP 404)"}, value
    assert_no_channel_left(settings)


def test_a_callback_to_an_injected_caller_id_is_refused_before_anything_is_dialled(
    settings: Settings, controller: Controller
) -> None:
    """The caller id reached Dial(PJSIP/<number>@trunk-112): '&' would add a channel."""
    injected = "0812&PJSIP/ct-02"
    assert run_scenario(settings, "talk", seconds=4, caller=injected).ok  # gives up in the queue
    items = json.loads(controller.cli("callbacks", "--json", "--show-numbers"))
    (item,) = [i for i in items if i["caller_number"] == injected]
    attempt = subprocess.run(
        [PBX_BRIDGE, "callbacks", "call", str(item["id"]), "--taker", "ct-02", "--timeout", "10"],
        env=controller.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert attempt.stdout.strip() == "not_diallable", attempt.stderr
    assert attempt.returncode != 0
    assert_no_channel_left(settings)


def test_script_and_sql_in_a_caller_name_are_stored_as_text_and_served_escaped(
    settings: Settings, controller: Controller
) -> None:
    name = "<script>alert(1)</script>'; DROP TABLE calls;--"
    caller = random_caller()
    assert run_scenario(settings, "hangup", caller=caller, caller_name=name).ok
    calls, raw = calls_listed(controller, settings, lambda c: c["caller_name"] == name)
    (call,) = [c for c in calls if c["caller_name"] == name]  # stored as text, table intact
    assert caller not in raw  # the number masked in the list
    assert call["caller_number"] != caller
    # The console shows it as text: its scripts never parse a value as HTML.
    for script in ("app.js", "api.js", "charts.js"):
        url = f"http://127.0.0.1:{controller.api_port}/console/{script}"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert "innerHTML" not in response.read().decode(), script
    assert_no_channel_left(settings)
