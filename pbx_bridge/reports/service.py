"""The reports as the CLI and the API ask for them: a period, the rows, the figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.errors import StartupError
from pbx_bridge.reports.model import Granularity, Period
from pbx_bridge.reports.query import calls_in
from pbx_bridge.reports.stats import answer_stats, bucketed, stats_fields
from pbx_bridge.reports.summary import (
    CentreReport,
    DispatchSource,
    NoDispatchRecords,
    centre_report,
)


def report_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise StartupError(
            "report_timezone", f"{name!r} is not a time zone (for example Asia/Makassar)"
        ) from error


@dataclass(frozen=True)
class Reports:
    engine: AsyncEngine
    zone: ZoneInfo
    dispatch: DispatchSource = field(default_factory=NoDispatchRecords)

    def period(self, first_day: date, last_day: date) -> Period:
        """Raises ValueError when the period ends before it starts."""
        return Period(first_day, last_day, self.zone)

    async def centre(self, period: Period) -> CentreReport:
        rows = await calls_in(self.engine, period)
        return centre_report(rows, period, await self.dispatch.figures(period))

    async def stats(self, period: Period, by: Granularity) -> dict[str, Any]:
        """Per hour or day, and the whole period, as one JSON-ready record."""
        rows = await calls_in(self.engine, period)
        total, longest = answer_stats(rows)
        return {
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
            "timezone": period.zone.key,
            "by": by,
            "buckets": [
                {
                    "start": bucket.start.isoformat(),
                    **stats_fields(bucket.stats, bucket.longest_wait),
                }
                for bucket in bucketed(rows, period, by)
            ],
            "total": stats_fields(total, longest),
        }
