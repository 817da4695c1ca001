"""The queue, watched every few seconds from app_queue's own status (AMI QueueStatus).

It exports the queue's depth, the longest wait and how many call takers are in each state;
raises an alert (a gauge and a live event) while callers wait and no call taker is ready; and
remembers who was logged in, paused or not. app_queue keeps its members across an Asterisk
restart itself (queues.conf `persistentmembers = yes`, in astdb); should it come back with none
(astdb lost, a new machine), the watch logs the remembered call takers back in as they were,
so callers never wait in a queue emptied behind everyone's back.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from pbx_bridge import metrics
from pbx_bridge.queue import members
from pbx_bridge.queue.members import Ami
from pbx_bridge.queue.status import MemberView, QueueSnapshot, TakerState, read_queue
from pbx_bridge.queue.takers import Taker

log = structlog.get_logger(__name__)

UNATTENDED = "queue.unattended"  # live event: callers wait and no call taker is ready
ATTENDED = "queue.attended"  # live event: the alert is over
CHECK_TIMEOUT_SECONDS = 10.0
# A call taker seen logged out this long is forgotten (not put back after a restart).
FORGET_AFTER_SECONDS = 30.0
# A ringing call taker is about to answer; one in a call, paused or unreachable is not ready.
_READY_STATES = frozenset({TakerState.READY, TakerState.RINGING})


@dataclass(frozen=True)
class QueueHealth:
    callers: int
    longest_wait: int  # seconds; 0 with nobody waiting
    takers: Counter[TakerState] = field(default_factory=Counter)

    @property
    def ready(self) -> int:
        return sum(self.takers[state] for state in _READY_STATES)

    @property
    def unattended(self) -> bool:
        return self.callers > 0 and self.ready == 0


def health_of(snapshot: QueueSnapshot) -> QueueHealth:
    return QueueHealth(
        callers=len(snapshot.callers),
        longest_wait=snapshot.longest_wait or 0,
        takers=Counter(member.state for member in snapshot.members),
    )


def logged_in(snapshot: QueueSnapshot) -> tuple[MemberView, ...]:
    return tuple(m for m in snapshot.members if m.state is not TakerState.LOGGED_OUT)


async def restore(ami: Ami, remembered: Sequence[MemberView]) -> int:
    """Log the remembered call takers back in, ready or paused (with their reason)."""
    for member in remembered:
        await members.log_in(ami, member.taker, ready=not member.paused)
        if member.paused and member.paused_reason:
            await members.pause(ami, member.taker, member.paused_reason)
    return len(remembered)


class QueueWatch:
    def __init__(
        self,
        ami: Ami,
        takers: Sequence[Taker],
        *,
        publish: Callable[[str, dict[str, Any]], None],
        logins: Callable[[], int],
        forget_after: float = FORGET_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ami = ami
        self._takers = takers
        self._publish = publish
        self._logins = logins  # AMI log-ins so far: a change means we were away
        self._forget_after = forget_after
        self._clock = clock
        self._seen_logins: int | None = None
        self._remembered: dict[str, MemberView] = {}
        self._absent_since: dict[str, float] = {}
        self.unattended = False

    def _remember(self, present: Sequence[MemberView]) -> None:
        """Who is logged in now; one gone is forgotten only once absent `forget_after` seconds.

        A shutting-down Asterisk answers QueueStatus with an empty queue just before AMI
        drops: forgetting everyone then would leave nothing to restore.
        """
        now = self._clock()
        for member in present:
            self._remembered[member.taker.id] = member
            self._absent_since.pop(member.taker.id, None)
        for taker_id in set(self._remembered) - {m.taker.id for m in present}:
            since = self._absent_since.setdefault(taker_id, now)
            if now - since >= self._forget_after:
                del self._remembered[taker_id], self._absent_since[taker_id]

    async def check(self) -> QueueHealth:
        """Read app_queue once: export, alert, and restore members it forgot meanwhile."""
        logins = self._logins()
        snapshot = await read_queue(self._ami, self._takers)
        present = logged_in(snapshot)
        reconnected = self._seen_logins is not None and logins != self._seen_logins
        if reconnected and not present and self._remembered:
            remembered = list(self._remembered.values())
            restored = await restore(self._ami, remembered)
            metrics.QUEUE_MEMBERS_RESTORED.inc(restored)
            log.warning(
                "queue.members_restored",
                ready=[m.taker.id for m in remembered if not m.paused],
                paused={m.taker.id: m.paused_reason for m in remembered if m.paused},
            )
            snapshot = await read_queue(self._ami, self._takers)
            present = logged_in(snapshot)
        self._seen_logins = logins
        self._remember(present)
        health = health_of(snapshot)
        self._export(health)
        self._alert(health)
        return health

    def _export(self, health: QueueHealth) -> None:
        metrics.QUEUE_CALLERS.set(health.callers)
        metrics.QUEUE_LONGEST_WAIT.set(health.longest_wait)
        for state in TakerState:
            metrics.QUEUE_TAKERS.labels(state=state.value).set(health.takers[state])
        metrics.QUEUE_UNATTENDED.set(1 if health.unattended else 0)

    def _alert(self, health: QueueHealth) -> None:
        if health.unattended == self.unattended:
            return
        self.unattended = health.unattended
        data = {"callers": health.callers, "longest_wait_seconds": health.longest_wait}
        if health.unattended:
            log.warning("queue.unattended", **data)
        else:
            log.info("queue.attended", **data)
        self._publish(UNATTENDED if health.unattended else ATTENDED, data)

    async def run_forever(self, interval: float) -> None:
        """Check now and every `interval` seconds (owned by the composition root's TaskGroup)."""
        while True:
            try:
                # An action sent while AMI reconnects may never be answered: never wait on it.
                await asyncio.wait_for(self.check(), CHECK_TIMEOUT_SECONDS)
            except Exception as error:  # AMI away: the next check tells
                log.info("queue.watch_failed", error=f"{type(error).__name__}: {error}"[:200])
            await asyncio.sleep(interval)
