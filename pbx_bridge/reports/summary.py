"""The centre's report, as Kendari published it, for any period: pure, over call rows.

Kendari's first 20 days: 5,982 calls; 2,238 never answered in the queue; of the 3,744 others,
2,522 valid and 1,222 invalid (silent, or hung up at once); 166 verified emergencies.

Verified emergencies per category and agency, and handoff acknowledgement times, come from the
incident records, which this module does not know: they arrive through `DispatchSource`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pbx_bridge.reports.model import CallRow, Period
from pbx_bridge.reports.stats import AnswerStats, answer_stats, percentile, stats_fields
from pbx_bridge.screening.model import Disposition, Validity

UNANSWERED_IN_QUEUE = frozenset(
    {Disposition.ABANDONED_IN_QUEUE, Disposition.ABANDONED_BEFORE_ANSWER}
)


@dataclass(frozen=True)
class DispatchFigures:
    """What the incident records say about the period (filled by the dispatch capability)."""

    emergencies_by_category: Mapping[str, int] = field(default_factory=dict)
    emergencies_by_agency: Mapping[str, int] = field(default_factory=dict)
    handoff_ack_seconds: Sequence[float] = ()  # each acknowledged handoff: sent to acknowledged
    handoffs_sent: int = 0  # acknowledged or not, so the unacknowledged ones show

    def as_json(self) -> dict[str, Any]:
        acks = list(self.handoff_ack_seconds)
        return {
            "verified_emergencies": sum(self.emergencies_by_category.values()),
            "emergencies_by_category": dict(self.emergencies_by_category),
            "emergencies_by_agency": dict(self.emergencies_by_agency),
            "handoffs_sent": self.handoffs_sent,
            "handoffs_acknowledged": len(acks),
            "handoff_ack_p50_seconds": _seconds(percentile(acks, 50)),
            "handoff_ack_p90_seconds": _seconds(percentile(acks, 90)),
            "handoff_ack_longest_seconds": _seconds(max(acks, default=None)),
        }


def _seconds(value: float | None) -> float | None:
    # Tenths of a second, as the answer times are given.
    return None if value is None else round(value, 1)


class DispatchSource(Protocol):
    """The extension point for the incident records: figures for a period, or None.

    The store's implementation is `pbx_bridge.dispatch.figures.IncidentFigures`.
    """

    async def figures(self, period: Period) -> DispatchFigures | None: ...


class NoDispatchRecords:
    """No incident records to read: the report says the figures are not available."""

    async def figures(self, period: Period) -> DispatchFigures | None:  # noqa: ARG002
        return None


@dataclass(frozen=True)
class CentreReport:
    period: Period
    total_calls: int
    unanswered_in_queue: int  # abandoned in the queue or before our answer
    answered_valid: int  # of the others: the caller stayed more than the valid threshold
    answered_invalid: int
    silent: int
    hung_up_at_once: int
    pressed_55: int  # could not speak and pressed 5 twice: put through as an emergency
    answer_times: AnswerStats
    longest_wait: float | None
    dispatch: DispatchFigures | None

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.period.first_day.isoformat(),
            "to": self.period.last_day.isoformat(),
            "timezone": self.period.zone.key,
            "total_calls": self.total_calls,
            "unanswered_in_queue": self.unanswered_in_queue,
            "answered_valid": self.answered_valid,
            "answered_invalid": self.answered_invalid,
            "silent": self.silent,
            "hung_up_at_once": self.hung_up_at_once,
            "pressed_55": self.pressed_55,
            "answer_times": stats_fields(self.answer_times, self.longest_wait),
            "dispatch": None if self.dispatch is None else self.dispatch.as_json(),
        }


def centre_report(
    rows: Iterable[CallRow], period: Period, dispatch: DispatchFigures | None = None
) -> CentreReport:
    rows = [row for row in rows if period.start <= row.arrived_at < period.end]
    unanswered = [row for row in rows if row.disposition in UNANSWERED_IN_QUEUE]
    others = [row for row in rows if row.disposition not in UNANSWERED_IN_QUEUE]
    valid = sum(1 for row in others if row.validity == Validity.VALID)
    answer_times, longest_wait = answer_stats(rows)
    return CentreReport(
        period=period,
        total_calls=len(rows),
        unanswered_in_queue=len(unanswered),
        answered_valid=valid,
        answered_invalid=len(others) - valid,
        silent=sum(1 for row in rows if row.disposition == Disposition.SILENT),
        hung_up_at_once=sum(
            1 for row in rows if row.disposition == Disposition.HUNG_UP_IMMEDIATELY
        ),
        pressed_55=sum(
            1 for row in rows if row.cannot_speak or row.disposition == Disposition.SILENT_55
        ),
        answer_times=answer_times,
        longest_wait=longest_wait,
        dispatch=dispatch,
    )
