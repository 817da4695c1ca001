"""/api/report and /api/stats: the same figures as `pbx-bridge report` and `stats`.

Behind the API's bearer token like every /api/ route. `?format=csv` gives the CLI's CSV.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from pbx_bridge.reports.model import Granularity, Period
from pbx_bridge.reports.render import report_csv, stats_csv
from pbx_bridge.reports.service import Reports

REPORTS = web.AppKey("reports", Reports)


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=f'{{"error": "{message}"}}', content_type="application/json")


def _period(request: web.Request) -> Period:
    try:
        first = date.fromisoformat(request.query["from"])
        last = date.fromisoformat(request.query["to"])
        return request.app[REPORTS].period(first, last)
    except KeyError as error:
        raise _bad_request("from and to: local days, YYYY-MM-DD, to included") from error
    except ValueError as error:
        raise _bad_request(f"from/to: {error}") from error


def _respond(request: web.Request, record: dict[str, Any], as_csv: str) -> web.Response:
    output = request.query.get("format", "json")
    if output == "csv":
        return web.Response(text=as_csv, content_type="text/csv")
    if output != "json":
        raise _bad_request("format: json or csv")
    return web.json_response(record)


async def report(request: web.Request) -> web.Response:
    period = _period(request)
    record = (await request.app[REPORTS].centre(period)).as_json()
    return _respond(request, record, report_csv(record))


async def stats(request: web.Request) -> web.Response:
    period = _period(request)
    by = request.query.get("by", "day")
    if by not in {"hour", "day"}:
        raise _bad_request("by: hour or day")
    granularity: Granularity = "hour" if by == "hour" else "day"
    record = await request.app[REPORTS].stats(period, granularity)
    return _respond(request, record, stats_csv(record))


def add_report_routes(app: web.Application, reports: Reports) -> None:
    app[REPORTS] = reports
    app.router.add_get("/api/report", report)
    app.router.add_get("/api/stats", stats)
