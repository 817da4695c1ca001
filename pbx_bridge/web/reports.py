"""/api/report and /api/stats: the same figures as `pbx-bridge report` and `stats`.

Registered, with their roles, in the API's operations table (web/api.py). `?format=csv` gives
the CLI's CSV.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from pbx_bridge.reports.render import report_csv, stats_csv
from pbx_bridge.web.keys import REPORTS
from pbx_bridge.web.schemas import ReportOut, ReportQuery, StatsOut, StatsQuery
from pbx_bridge.web.validation import parse_query


def _respond(
    query: ReportQuery,
    record: dict[str, Any],
    model: type[BaseModel],
    as_csv: Callable[[dict[str, Any]], str],
) -> web.Response:
    if query.format == "csv":
        return web.Response(text=as_csv(record), content_type="text/csv")
    # Through the documented model, so the record and the OpenAPI document cannot drift apart.
    body = model.model_validate(record).model_dump(mode="json", by_alias=True)
    return web.json_response(body)


async def report(request: web.Request) -> web.Response:
    """The centre's report for local days `from` to `to`."""
    query = parse_query(request, ReportQuery)
    reports = request.app[REPORTS]
    centre = await reports.centre(reports.period(query.first, query.last))
    return _respond(query, centre.as_json(), ReportOut, report_csv)


async def stats(request: web.Request) -> web.Response:
    """Answer-time statistics per local hour or day, and for the whole period."""
    query = parse_query(request, StatsQuery)
    reports = request.app[REPORTS]
    record = await reports.stats(reports.period(query.first, query.last), query.by)
    return _respond(query, record, StatsOut, stats_csv)
