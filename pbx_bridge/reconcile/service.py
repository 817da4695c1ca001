"""Reads Asterisk's CDR file and writes a record for every call the store does not have.

A `Reconciler` reads only what Asterisk appended since its last round (`CdrTail`), parses it
off the event loop, and asks the store only about the calls it has not decided yet: a round
costs what is new, not the whole year in the file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import structlog
from prometheus_client import Counter

from pbx_bridge.reconcile.cdr import CdrLeg, merge_legs, parse, to_call
from pbx_bridge.reconcile.tail import CdrTail
from pbx_bridge.screening.model import Call

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


class CallStore(Protocol):
    """What reconciliation needs of the store (CallRepository)."""

    async def existing(self, ids: list[str]) -> set[str]: ...
    async def insert_missing(self, calls: list[Call]) -> int: ...


@dataclass(frozen=True)
class ReconcileResult:
    seen: int  # calls read (new in the file, or still pending from an earlier round)
    added: int


class Reconciler:
    """Rounds over one CDR file. Calls the controller still holds, and calls that ended less
    than `settle` ago (their record may be on its way), wait for a later round."""

    def __init__(
        self,
        path: Path,
        calls: CallStore,
        *,
        is_active: Callable[[str], bool] = lambda _id: False,
        settle: timedelta = timedelta(seconds=5),
    ) -> None:
        self._tail = CdrTail(path)
        self._calls = calls
        self._is_active = is_active
        self._settle = settle
        self._pending: dict[str, CdrLeg] = {}  # read, not decided yet

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _read(self) -> dict[str, CdrLeg]:
        # In a thread: the file's new lines, parsed and merged per channel.
        return merge_legs(parse(self._tail.read_new(), _bad_row))

    async def round(self) -> ReconcileResult:
        """Add the calls read so far that the store lacks."""
        for uid, leg in (await asyncio.to_thread(self._read)).items():
            earlier = self._pending.get(uid)
            self._pending[uid] = leg if earlier is None else merge_legs([earlier, leg])[uid]
        seen = len(self._pending)
        cutoff = datetime.now(UTC) - self._settle
        ready = {
            uid: leg
            for uid, leg in self._pending.items()
            if leg.end <= cutoff and not self._is_active(uid)
        }
        if not ready:
            return ReconcileResult(seen, 0)
        missing = set(ready) - await self._calls.existing(list(ready))
        added = 0
        for uid in sorted(missing):
            try:
                added += await self._calls.insert_missing([to_call(ready[uid])])
            except Exception as error:  # one record the store refuses is not fatal
                # Not log.exception: the traceback could carry the caller's number.
                log.warning("reconcile.row_refused", call_id=uid, error=type(error).__name__)
                BAD_CDR_ROWS.labels("refused").inc()
        for uid in ready:
            del self._pending[uid]
        if added:
            log.info("reconcile.added", added=added, seen=seen)
        return ReconcileResult(seen, added)

    def close(self) -> None:
        self._tail.close()


async def reconcile_file(
    path: Path,
    calls: CallStore,
    *,
    is_active: Callable[[str], bool] = lambda _id: False,
    settle: timedelta = timedelta(seconds=5),
) -> ReconcileResult:
    """One round over the whole file (`pbx-bridge reconcile`)."""
    reconciler = Reconciler(path, calls, is_active=is_active, settle=settle)
    try:
        return await reconciler.round()
    finally:
        await asyncio.to_thread(reconciler.close)
