"""Call records never get lost to a database outage: what the store refuses waits in the spool.

`save` writes through to the database while nothing is spooled; when the write fails, or while
older records still wait, the call goes to the end of the spool so records reach the database
in the order they ended. Saves of one call run one after the other, so a newer version never
overtakes an older one that is on its way to the spool. `drain` writes the spool back, oldest
first, and stops at the first failure while the database is down; `drain_forever` then waits
longer each time (capped, jittered). Saving is a merge by call id, so a record written again
(after a crash between the database write and the spool's update) is still stored once.

When the spool's disk fails too (full, read-only), records wait in memory, in order, until the
spool or the database takes them again; only a controller that dies meanwhile loses them
(and the reconciler rebuilds those from Asterisk's CDR).

Only an error about the record itself (an integrity or data error) is a refusal. Anything else
("database is locked", a lock timeout, a refused connection, no answer in time) means the
database is down for now: the record waits, however long that takes.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, deque
from collections.abc import Callable
from enum import Enum
from typing import Protocol

import structlog
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from pbx_bridge.screening.model import Call
from pbx_bridge.store.spool import CallSpool

log = structlog.get_logger(__name__)

SAVE_TIMEOUT_SECONDS = 10.0
DRAIN_BATCH = 50
MAX_RETRY_SECONDS = 60.0
# Records held in memory while neither the database nor the spool's disk takes them: weeks of
# a regency's calls (a record is about 1 KB), a bound so that a broken disk cannot exhaust RAM.
MAX_HELD_IN_MEMORY = 20_000
_REFUSED_SQLSTATE_CLASSES = frozenset({"22", "23"})


class CallStore(Protocol):
    async def save(self, call: Call) -> None: ...


class _Outcome(Enum):
    WRITTEN = "written"
    DOWN = "down"  # the database cannot take anything now: stop, keep the order, retry later
    REFUSED = "refused"  # the database refuses this record, twice


def is_refusal(error: BaseException) -> bool:
    """True when the error is about the record (retrying it later cannot help); False when the
    database is down, busy or unreachable (retrying later will)."""
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        # PostgreSQL (asyncpg hands SQLAlchemy a generic error): class 22 is a data exception,
        # 23 an integrity constraint; 08 connection, 40 rollback, 55P03 lock timeout, 57
        # shutdown, 42 a schema not migrated yet are all for later.
        return sqlstate[:2] in _REFUSED_SQLSTATE_CLASSES
    if isinstance(error, IntegrityError | DataError):
        return True
    if isinstance(error, StatementError) and not isinstance(error, DBAPIError):
        return True  # a value could not even be sent: the driver refused it
    # A value the record cannot be made from (OSError, TimeoutError included, is the I/O).
    return isinstance(error, ValueError | TypeError)


def retry_delay(previous: float | None, base: float, *, cap: float = MAX_RETRY_SECONDS) -> float:
    """The wait before the next try while the database is down: doubled each time from `base`,
    at most `cap`, jittered so that restarted controllers do not retry in step."""
    doubled = base if previous is None else min(previous * 2, cap)
    return max(base, doubled * random.uniform(0.8, 1.0))  # noqa: S311 - jitter, not secrecy


def _reason(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:200]


class SpoolingWriter:
    def __init__(
        self,
        calls: CallStore,
        spool: CallSpool,
        *,
        on_depth: Callable[[int], None] = lambda _depth: None,
        on_failure: Callable[[], None] = lambda: None,
    ) -> None:
        self._calls = calls
        self._spool = spool
        self._on_depth = on_depth
        self._on_failure = on_failure
        self._draining = asyncio.Lock()
        self._saving: dict[str, asyncio.Lock] = {}
        self._savers: Counter[str] = Counter()
        self._held: deque[Call] = deque()  # after everything spooled, oldest first
        self.database_down = False  # the last drain stopped because the database was down
        on_depth(spool.depth)

    @property
    def spooled(self) -> int:
        """Records waiting for the database: in the spool and, when its disk failed, in memory."""
        return self._spool.depth + len(self._held)

    @property
    def held_in_memory(self) -> int:
        return len(self._held)

    async def _write(self, call: Call) -> None:
        await asyncio.wait_for(self._calls.save(call), SAVE_TIMEOUT_SECONDS)

    async def save(self, call: Call) -> None:
        """Store the call, now or later; never raises."""
        key = call.channel_id
        lock = self._saving.setdefault(key, asyncio.Lock())
        self._savers[key] += 1
        try:
            async with lock:
                await self._save(call)
        finally:
            self._savers[key] -= 1
            if not self._savers[key]:
                del self._savers[key], self._saving[key]

    async def _save(self, call: Call) -> None:
        if self._held:
            self._hold(call)  # behind the older ones, whatever the disk does now
            return
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
            # The database and the spool's disk both failed: the record waits in memory.
            log.error(  # noqa: TRY400 - the error is the disk's, said in one line
                "store.spool_unwritable",
                call=call.channel_id,
                spool=str(self._spool.path),
                error=str(error),
            )
            self._hold(call)
            return
        self._on_depth(self.spooled)

    def _hold(self, call: Call) -> None:
        if len(self._held) >= MAX_HELD_IN_MEMORY:
            # Reconciliation still adds what Asterisk's CDR knows of the call.
            log.critical("store.record_lost", call=call.channel_id, held=len(self._held))
            return
        self._held.append(call)
        self._on_depth(self.spooled)

    async def _release_held(self) -> int:
        """Records held in memory, oldest first, to the database (when nothing older waits in
        the spool) or else to the spool, until neither takes one. Returns how many reached
        the database."""
        written = 0
        while self._held:
            call = self._held[0]
            if self._spool.depth == 0:
                outcome = await self._try_write(call)
                if outcome is _Outcome.REFUSED:
                    log.error("store.held_record_refused", call=call.channel_id)
                if outcome is not _Outcome.DOWN:
                    self._held.popleft()
                    written += outcome is _Outcome.WRITTEN
                    continue
            try:
                await self._spool.append(call)
            except OSError:
                break
            self._held.popleft()
        else:
            log.info("store.held_records_released", spooled=self._spool.depth)
        return written

    async def drain(self) -> int:
        """Write spooled records, oldest first, until the spool is empty or the database fails.

        Returns how many were written. A record the database refuses is tried once more (a
        refusal can be a race, e.g. with reconciliation inserting the same call), then set
        aside (spool.rejected_path) so it cannot hold back the others.
        """
        written = 0
        async with self._draining:
            written = await self._release_held() if self._held else 0
            if self._held:  # neither the database nor the disk takes them yet
                self.database_down = True
                self._on_depth(self.spooled)
                return written
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
                self._on_depth(self.spooled)
            self.database_down = down
        if written:
            log.info("spool.drained", written=written, left=self._spool.depth)
        return written

    async def _try_write(self, call: Call) -> _Outcome:
        for attempt in range(2):
            try:
                await self._write(call)
            except Exception as error:
                if not is_refusal(error):
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
        """Drain now and every `interval` seconds, backing off while the database is down
        (owned by the composition root's TaskGroup)."""
        delay: float | None = None
        while True:
            if self.spooled:
                try:
                    await self.drain()
                except Exception:
                    log.exception("spool.drain_failed")
                    self.database_down = True
            waiting = self.spooled and self.database_down
            delay = retry_delay(delay, interval) if waiting else None
            await asyncio.sleep(interval if delay is None else delay)
