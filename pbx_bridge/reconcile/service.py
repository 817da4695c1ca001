"""Reads Asterisk's CDR file and writes a record for every call the store does not have."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from prometheus_client import Counter

from pbx_bridge.reconcile.cdr import merge_legs, parse, to_call
from pbx_bridge.store.repository import CallRepository

log = structlog.get_logger(__name__)

BAD_CDR_ROWS = Counter(
    "pbx_bridge_reconcile_bad_rows_total",
    "CDR lines skipped by reconciliation: malformed, or refused by the store",
    ["reason"],
)


def _bad_row(line_number: int, reason: str) -> None:
    # The line number finds the line in the CDR file; its content (a number) is never logged.
    log.warning("reconcile.bad_row", line=line_number, reason=reason)
    BAD_CDR_ROWS.labels("malformed").inc()


@dataclass(frozen=True)
class ReconcileResult:
    seen: int
    added: int


async def reconcile_file(
    path: Path,
    calls: CallRepository,
    *,
    is_active: Callable[[str], bool] = lambda _id: False,
    settle: timedelta = timedelta(seconds=5),
) -> ReconcileResult:
    """Add the calls in the CDR file that the store lacks.

    Calls the controller still holds, and calls that ended less than `settle` ago (their
    record may be on its way), are left for the next round.
    """
    if not await asyncio.to_thread(path.is_file):
        log.debug("reconcile.no_cdr_file", path=str(path))
        return ReconcileResult(0, 0)
    text = await asyncio.to_thread(path.read_text, errors="replace")
    legs = merge_legs(parse(text.splitlines(), _bad_row))
    cutoff = datetime.now(UTC) - settle
    candidates = {uid: leg for uid, leg in legs.items() if leg.end <= cutoff and not is_active(uid)}
    missing = set(candidates) - await calls.existing(list(candidates))
    added = 0
    for uid in sorted(missing):
        try:
            added += await calls.insert_missing([to_call(candidates[uid])])
        except Exception as error:  # one record the store refuses is not fatal
            # Not log.exception: the traceback could carry the caller's number.
            log.warning("reconcile.row_refused", call_id=uid, error=type(error).__name__)
            BAD_CDR_ROWS.labels("refused").inc()
    if added:
        log.info("reconcile.added", added=added, seen=len(legs))
    return ReconcileResult(len(legs), added)
