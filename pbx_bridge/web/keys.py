"""The application's typed keys: what the handlers find on `request.app`."""

from __future__ import annotations

from aiohttp import web

from pbx_bridge.dispatch.services import DispatchService
from pbx_bridge.reports.service import Reports
from pbx_bridge.store.privacy import PrivacyRepository
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.web.events import EVENTS

__all__ = ["CALLS", "DISPATCH", "EVENTS", "PRIVACY", "REPORTS"]

CALLS = web.AppKey("calls", CallRepository)
DISPATCH = web.AppKey("dispatch", DispatchService)
PRIVACY = web.AppKey("privacy", PrivacyRepository)
REPORTS = web.AppKey("reports", Reports)
