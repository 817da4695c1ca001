"""Call records never get lost to a database outage: what the store refuses waits in the spool.

`save` writes through to the database while nothing is spooled; when the write fails, or while
older records still wait, the call goes to the end of the spool so records reach the database
in the order they ended. `drain` writes the spool back, oldest first, and stops at the first
failure while the database is down. Saving is a merge by call id, so a record written again
(after a crash between the database write and the spool's update) is still stored once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import Enum

import structlog

from pbx_bridge.screening.model import Call
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.spool import CallSpool

log = structlog.get_logger(__name__)

SAVE_TIMEOUT_SECONDS = 10.0
DRAIN_BATCH = 50


class _Outcome(Enum):
    WRITTEN = "written"
    DOWN = "down"  # the database does not answer: stop, keep the order, retry later
    REFUSED = "refused"  # the database answers but refuses this record, twice


def _reason(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:200]


class SpoolingWriter:
    def __init__(
        self,
        calls: CallRepository,
        spool: CallSpool,
        *,
        database_answers: Callable[[], Awaitable[bool]],
        on_depth: Callable[[int], None] = lambda _depth: None,
        on_failure: Callable[[], None] = lambda: None,
    ) -> None:
        self._calls = calls
        self._spool = spool
        self._database_answers = database_answers
        self._on_depth = on_depth
        self._on_failure = on_failure
        self._draining = asyncio.Lock()
        on_depth(spool.depth)

    @property
    def spooled(self) -> int:
        return self._spool.depth

    async def _write(self, call: Call) -> None:
        await asyncio.wait_for(self._calls.save(call), SAVE_TIMEOUT_SECONDS)

    async def save(self, call: Call) -> None:
        """Store the call, now or later; never raises."""
        if self._spool.depth == 0:
            try:
                await self._write(call)
            except Exception as error:
                self._on_failure()
                log.warning(
                    "store.write_failed_spooling", call=call.channel_id, error=_reason(error)
                )
            else:
                return
        try:
            await self._spool.append(call)
        except OSError as error:
            # The database and the disk both failed. Raising would not save the record either;
            # reconciliation will still add what Asterisk's CDR knows of the call.
            log.critical(
                "store.record_lost",
                call=call.channel_id,
                spool=str(self._spool.path),
                error=str(error),
            )
            return
        self._on_depth(self._spool.depth)

    async def drain(self) -> int:
        """Write spooled records, oldest first, until the spool is empty or the database fails.

        Returns how many were written. A record that fails while the database answers is tried
        once more, then set aside (spool.rejected_path) so it cannot hold back the others.
        """
        written = 0
        async with self._draining:
            down = False
            while self._spool.depth and not down:
                batch = await self._spool.oldest(DRAIN_BATCH)
                if not batch:
                    break  # nothing readable at the front: never spin
                done = 0
                for call in batch:
                    outcome = await self._try_write(call)
                    if outcome is _Outcome.WRITTEN:
                        done += 1
                        continue
                    await self._spool.remove_oldest(done)
                    written, done = written + done, 0
                    if outcome is _Outcome.DOWN:
                        down = True
                        break
                    await self._spool.reject_oldest()
                await self._spool.remove_oldest(done)
                written += done
                self._on_depth(self._spool.depth)
        if written:
            log.info("spool.drained", written=written, left=self._spool.depth)
        return written

    async def _try_write(self, call: Call) -> _Outcome:
        for attempt in range(2):
            try:
                await self._write(call)
            except Exception as error:
                if not await self._database_answers():
                    log.info("spool.database_down", left=self._spool.depth, error=_reason(error))
                    return _Outcome.DOWN
                if attempt == 1:
                    # Not log.exception: the traceback carries the SQL parameters (the number).
                    log.error(  # noqa: TRY400
                        "spool.record_refused", call=call.channel_id, error=_reason(error)
                    )
            else:
                return _Outcome.WRITTEN
        return _Outcome.REFUSED

    async def drain_forever(self, interval: float) -> None:
        """Drain now and every `interval` seconds (owned by the composition root's TaskGroup)."""
        while True:
            if self._spool.depth:
                try:
                    await self.drain()
                except Exception:
                    log.exception("spool.drain_failed")
            await asyncio.sleep(interval)
