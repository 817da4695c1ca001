"""What the reports read (one row per call, no caller number) and the period they cover."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Granularity = Literal["hour", "day"]


@dataclass(frozen=True)
class CallRow:
    """A stored call as the reports see it: its times and tags, never the caller."""

    arrived_at: datetime
    connected_at: datetime | None  # a call taker answered (AMI AgentConnect)
    ended_at: datetime | None
    validity: str
    disposition: str
    cannot_speak: bool = False
    queue_reason: str = ""


@dataclass(frozen=True)
class Period:
    """Whole local days, `first_day` to `last_day` inclusive, in the centre's time zone."""

    first_day: date
    last_day: date
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError(
                f"the period ends ({self.last_day}) before it starts ({self.first_day})"
            )

    @property
    def start(self) -> datetime:
        """The first instant, in UTC (the store's time)."""
        return datetime.combine(self.first_day, time(0), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The instant after the last day, in UTC: the period is [start, end)."""
        next_day = self.last_day + timedelta(days=1)
        return datetime.combine(next_day, time(0), self.zone).astimezone(UTC)

    def bucket_of(self, moment: datetime, by: Granularity) -> datetime:
        """The local start of the hour or day `moment` falls in."""
        local = moment.astimezone(self.zone)
        if by == "day":
            return datetime.combine(local.date(), time(0), self.zone)
        return local.replace(minute=0, second=0, microsecond=0)

    def buckets(self, by: Granularity) -> Iterator[datetime]:
        """Every local hour or day of the period, empty ones included, in order."""
        if by == "day":
            day = self.first_day
            while day <= self.last_day:
                yield datetime.combine(day, time(0), self.zone)
                day += timedelta(days=1)
            return
        moment, seen = self.start, set[datetime]()
        while moment < self.end:
            # Stepping in UTC gives each real hour once, whatever the zone's offset does.
            start = self.bucket_of(moment, "hour")
            if start not in seen:
                seen.add(start)
                yield start
            moment += timedelta(hours=1)
