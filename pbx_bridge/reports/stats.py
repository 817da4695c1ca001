"""Answer-time statistics (NENA-STA-020.1): pure functions over call rows.

Answer time is from the call's arrival at the centre to a call taker's answer
(`connected_at - arrived_at`). Percentiles are nearest-rank, so "p90 <= 15 s" and
"at least 90 % answered within 15 s" always agree. Shares "within N s" count N itself (<=).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from pbx_bridge.reports.model import CallRow, Granularity, Period
from pbx_bridge.screening.model import Disposition

WITHIN_SECONDS = (10, 15, 20)  # NFPA 1225: 90 % in 10 s; NENA: 90 % in 15 s, 95 % in 20 s
PERCENTILES = (50, 90, 95)


def answer_seconds(row: CallRow) -> float | None:
    """Arrival to a call taker's answer; None when no call taker answered."""
    if row.connected_at is None:
        return None
    return max(0.0, (row.connected_at - row.arrived_at).total_seconds())


def wait_seconds(row: CallRow) -> float | None:
    """How long the caller waited for a call taker: to the answer, or to giving up in the queue."""
    answered = answer_seconds(row)
    if answered is not None:
        return answered
    if row.disposition == Disposition.ABANDONED_IN_QUEUE and row.ended_at is not None:
        return max(0.0, (row.ended_at - row.arrived_at).total_seconds())
    return None


def percentile(values: Sequence[float], p: int) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p % of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(Fraction(p * len(ordered), 100)))
    return ordered[rank - 1]


def share(part: int, whole: int) -> float | None:
    """Percent, or None for an empty whole (no calls: no rate, rather than 0 % or 100 %)."""
    return None if whole == 0 else round(100 * part / whole, 2)


@dataclass(frozen=True)
class AnswerStats:
    offered: int  # every call that arrived
    answered: int  # a call taker answered
    abandoned: int  # gave up in the queue (disposition abandoned_in_queue)
    answer_times: tuple[float, ...]  # seconds, of the answered calls

    @property
    def abandoned_pct(self) -> float | None:
        """Of offered calls."""
        return share(self.abandoned, self.offered)

    def answered_within(self, seconds: int) -> int:
        return sum(1 for answer in self.answer_times if answer <= seconds)

    def within_pct_of_answered(self, seconds: int) -> float | None:
        """Of the calls a call taker answered: what NENA compliance is judged on here."""
        return share(self.answered_within(seconds), self.answered)

    def within_pct_of_offered(self, seconds: int) -> float | None:
        """Of every call that arrived: the stricter view, abandoned and screened-out calls count."""
        return share(self.answered_within(seconds), self.offered)

    def percentile(self, p: int) -> float | None:
        return percentile(self.answer_times, p)

    @property
    def longest_answer(self) -> float | None:
        return max(self.answer_times, default=None)

    def _meets(self, seconds: int, target: int) -> bool | None:
        if self.answered == 0:
            return None
        return 100 * self.answered_within(seconds) >= target * self.answered

    @property
    def nena_90_within_15(self) -> bool | None:
        """NENA-STA-020.1: 90 % answered within 15 s (None without answered calls)."""
        return self._meets(15, 90)

    @property
    def nena_95_within_20(self) -> bool | None:
        """NENA-STA-020.1: 95 % answered within 20 s (None without answered calls)."""
        return self._meets(20, 95)


@dataclass(frozen=True)
class BucketStats:
    start: datetime  # local start of the hour or day
    stats: AnswerStats
    longest_wait: float | None  # seconds: answered, or given up in the queue


def answer_stats(rows: Iterable[CallRow]) -> tuple[AnswerStats, float | None]:
    """The statistics of these calls, and the longest wait among them."""
    rows = list(rows)
    times = tuple(t for t in map(answer_seconds, rows) if t is not None)
    waits = [w for w in map(wait_seconds, rows) if w is not None]
    abandoned = sum(1 for row in rows if row.disposition == Disposition.ABANDONED_IN_QUEUE)
    return AnswerStats(len(rows), len(times), abandoned, times), max(waits, default=None)


def bucketed(rows: Iterable[CallRow], period: Period, by: Granularity) -> list[BucketStats]:
    """Per local hour or day of the period, every one listed (empty ones with zero calls)."""
    groups: dict[datetime, list[CallRow]] = defaultdict(list)
    for row in rows:
        if period.start <= row.arrived_at < period.end:
            groups[period.bucket_of(row.arrived_at, by)].append(row)
    buckets = []
    for start in period.buckets(by):
        stats, longest = answer_stats(groups.get(start, []))
        buckets.append(BucketStats(start, stats, longest))
    return buckets


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def stats_fields(stats: AnswerStats, longest_wait: float | None) -> dict[str, Any]:
    """One flat record (JSON and CSV alike), each name saying what it is a share of."""
    fields: dict[str, Any] = {
        "offered": stats.offered,
        "answered": stats.answered,
        "abandoned_in_queue": stats.abandoned,
        "abandoned_pct_of_offered": stats.abandoned_pct,
    }
    for seconds in WITHIN_SECONDS:
        fields[f"answered_within_{seconds}s"] = stats.answered_within(seconds)
        fields[f"within_{seconds}s_pct_of_answered"] = stats.within_pct_of_answered(seconds)
        fields[f"within_{seconds}s_pct_of_offered"] = stats.within_pct_of_offered(seconds)
    for p in PERCENTILES:
        fields[f"answer_p{p}_seconds"] = _seconds(stats.percentile(p))
    fields["longest_answer_seconds"] = _seconds(stats.longest_answer)
    fields["longest_wait_seconds"] = _seconds(longest_wait)
    fields["nena_90pct_within_15s"] = stats.nena_90_within_15
    fields["nena_95pct_within_20s"] = stats.nena_95_within_20
    return fields
