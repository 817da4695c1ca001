"""Validity from durations: thresholds are configuration, the rule is here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from pbx_bridge.screening.model import Call, Validity


@dataclass(frozen=True)
class Thresholds:
    # Kendari's centre: a call is valid when the caller stayed more than 10 s.
    valid_min_seconds: float = 10.0


def connected_seconds(call: Call) -> float | None:
    if call.answered_at is None or call.ended_at is None:
        return None
    return max(0.0, (call.ended_at - call.answered_at).total_seconds())


def validity(call: Call, thresholds: Thresholds) -> Validity:
    seconds = connected_seconds(call)
    if seconds is None:
        return Validity.UNANSWERED
    return Validity.VALID if seconds > thresholds.valid_min_seconds else Validity.INVALID
