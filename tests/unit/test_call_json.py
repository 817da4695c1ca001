"""A spooled call reads back exactly as it was written: every field, every timeline entry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbx_bridge.screening.model import Call, Phase, QueueReason, TimelineEntry
from pbx_bridge.store.call_json import call_from_json, call_to_json

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

moments = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2040, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
) | st.just(datetime(2026, 11, 25, 7, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8))))
entries = st.builds(TimelineEntry, at=moments, kind=st.text(max_size=20), detail=st.text())
calls = st.builds(
    Call,
    channel_id=st.text(min_size=1, max_size=40),
    caller_number=st.text(max_size=20),
    caller_name=st.text(max_size=20),
    arrived_at=moments,
    phase=st.sampled_from(Phase),
    answered_at=st.none() | moments,
    ended_at=st.none() | moments,
    hangup_cause=st.none() | st.integers(0, 127),
    hangup_cause_text=st.text(max_size=20),
    in_stasis=st.booleans(),
    adopted=st.booleans(),
    cannot_speak=st.booleans(),
    queue_reason=st.none() | st.sampled_from(QueueReason),
    queue_priority=st.none() | st.integers(-10, 10),
    sip_call_id=st.text(max_size=20),
    digits=st.text("0123456789*#", max_size=4),
    speech_at=st.none() | moments,
    silent=st.booleans(),
    queued_at=st.none() | moments,
    agent=st.text(max_size=20),
    connected_at=st.none() | moments,
    timeline=st.lists(entries, max_size=6).map(tuple),
)


@given(calls)
def test_any_call_survives_a_json_line(call: Call) -> None:
    line = json.dumps(call_to_json(call))
    assert call_from_json(json.loads(line)) == call


def test_enums_are_written_by_value_and_times_in_iso_8601() -> None:
    call = Call(
        "c1",
        "0812",
        "Budi",
        T0,
        phase=Phase.ENDED,
        queue_reason=QueueReason.PRESSED_55,
        timeline=(TimelineEntry(T0, "arrived"),),
    )
    raw = call_to_json(call)
    assert raw["phase"] == "ended"
    assert raw["queue_reason"] == "pressed_55"
    assert raw["arrived_at"] == "2026-11-25T08:00:00+00:00"
    assert raw["timeline"] == [{"at": "2026-11-25T08:00:00+00:00", "kind": "arrived", "detail": ""}]


def test_json_from_an_older_version_takes_the_defaults_and_ignores_unknown_fields() -> None:
    raw = {"channel_id": "c1", "caller_number": "", "caller_name": "", "arrived_at": T0.isoformat()}
    assert call_from_json({**raw, "from_the_future": 1}) == Call("c1", "", "", T0)


def test_json_without_a_required_field_is_refused() -> None:
    with pytest.raises(TypeError):
        call_from_json({"channel_id": "c1"})
