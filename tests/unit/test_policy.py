"""Validity from durations, with Kendari's threshold of 10 s."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pbx_bridge.screening.model import Call, Validity
from pbx_bridge.screening.policy import Thresholds, connected_seconds, validity

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
CALL = Call("c", "0812", "", T0)


@pytest.mark.parametrize(
    ("on_line", "expected"),
    [
        (15.0, Validity.VALID),
        (10.001, Validity.VALID),
        (10.0, Validity.INVALID),
        (0.0, Validity.INVALID),
    ],
)
def test_validity_is_time_on_the_line_over_the_threshold(
    on_line: float, expected: Validity
) -> None:
    answered = T0 + timedelta(seconds=0.5)
    call = replace(CALL, answered_at=answered, ended_at=answered + timedelta(seconds=on_line))
    assert validity(call, Thresholds()) is expected


def test_a_call_never_answered_is_unanswered() -> None:
    call = replace(CALL, ended_at=T0 + timedelta(seconds=30))
    assert validity(call, Thresholds()) is Validity.UNANSWERED
    assert connected_seconds(call) is None


def test_the_threshold_is_configuration() -> None:
    call = replace(CALL, answered_at=T0, ended_at=T0 + timedelta(seconds=8))
    assert validity(call, Thresholds(valid_min_seconds=5)) is Validity.VALID
