"""SIPp's message trace is read back into per-call times (the truth records are checked against)."""

from __future__ import annotations

from datetime import UTC, datetime

from pbx_bridge.sipp.runner import parse_messages, timings

TRACE = """\
----------------------------------------------- 2026-11-25T14:08:36.402276Z
UDP message sent [581] bytes:

INVITE sip:112@127.0.0.1:5060 SIP/2.0\r
Via: SIP/2.0/UDP 127.0.0.1:47982;branch=z9hG4bK-7255-1-0\r
Call-ID: 1-7255@127.0.0.1\r
\r

----------------------------------------------- 2026-11-25T14:08:36.403926Z
UDP message received [308] bytes:

SIP/2.0 100 Trying\r
Call-ID: 1-7255@127.0.0.1\r

----------------------------------------------- 2026-11-25T14:08:36.410000Z
UDP message received [700] bytes:

SIP/2.0 200 OK\r
call-id: 1-7255@127.0.0.1\r

----------------------------------------------- 2026-11-25T14:08:51.420000Z
UDP message sent [400] bytes:

BYE sip:112@127.0.0.1:5060 SIP/2.0\r
Call-ID: 1-7255@127.0.0.1\r
"""

OLD_STYLE = """\
----------------------------------------------- 2026-11-25\t14:20:38.385719\t1764080438.385719
UDP message sent (581 bytes):

INVITE sip:112@127.0.0.1:5060 SIP/2.0
Call-ID: 9-1@127.0.0.1
"""


def test_a_trace_gives_invite_answer_and_bye_times_per_call() -> None:
    (call,) = timings(parse_messages(TRACE))
    assert call.call_id == "1-7255@127.0.0.1"
    assert call.invite_sent == datetime(2026, 11, 25, 14, 8, 36, 402276, tzinfo=UTC)
    assert call.answered == datetime(2026, 11, 25, 14, 8, 36, 410000, tzinfo=UTC)
    assert call.bye_sent == datetime(2026, 11, 25, 14, 8, 51, 420000, tzinfo=UTC)


def test_older_sipp_epoch_stamps_are_read_too() -> None:
    (call,) = timings(parse_messages(OLD_STYLE))
    assert call.invite_sent.timestamp() == 1764080438.385719
    assert call.answered is None
