"""The guard's pure core: from the controller's liveness and the calls in our Stasis app, which
calls to move to the queue. No I/O, no clock: the runner measures, this decides.

Two faults, two rules:
- the controller stopped answering (killed, frozen, its event loop stuck): every call in the
  app goes on, the ones it held and the ones that arrive while it is failed;
- a healthy controller has held a call longer than any screening takes (a stuck call task):
  that call goes on. A silent caller mid-screening is well within the limit, so a healthy
  controller's screening is never cut short.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pbx_bridge.screening.model import QueueReason


@dataclass(frozen=True)
class GuardConfig:
    misses_to_fail: int = 3  # liveness checks unanswered in a row before the controller is failed
    answers_to_recover: int = 2  # answered in a row before a failed controller is trusted again
    held_limit_seconds: float = 55.0  # longest screening with a margin (see held_limit)


def held_limit(listen_seconds: float, await_55_seconds: float, prompts_seconds: float) -> float:
    """The longest a healthy controller keeps a call: greeting, listening, the 55 prompt, the
    wait for 55 (and the closing message); the prompts' share carries the margin."""
    return listen_seconds + await_55_seconds + prompts_seconds


@dataclass(frozen=True)
class Liveness:
    """The controller's recent health, as the guard's checks saw it."""

    misses: int = 0  # unanswered checks in a row
    answers: int = 0  # answered checks in a row
    failed: bool = False


def observe(liveness: Liveness, answered: bool, config: GuardConfig) -> Liveness:
    """One more liveness check. Failed after `misses_to_fail` misses in a row; trusted again
    only after `answers_to_recover` answers in a row (one answer of a thawing process is not
    yet a controller that screens)."""
    if answered:
        answers = liveness.answers + 1
        failed = liveness.failed and answers < config.answers_to_recover
        return Liveness(misses=0, answers=answers, failed=failed)
    misses = liveness.misses + 1
    return Liveness(
        misses=misses, answers=0, failed=liveness.failed or misses >= config.misses_to_fail
    )


@dataclass(frozen=True)
class HeldCall:
    channel_id: str
    held_seconds: float  # how long it has been in our Stasis app


@dataclass(frozen=True)
class Move:
    channel_id: str
    reason: QueueReason


def decide(calls: Iterable[HeldCall], liveness: Liveness, config: GuardConfig) -> list[Move]:
    """The calls to move to the queue now, and why."""
    if liveness.failed:
        return [Move(call.channel_id, QueueReason.CONTROLLER_FAILED) for call in calls]
    return [
        Move(call.channel_id, QueueReason.HELD_TOO_LONG)
        for call in calls
        if call.held_seconds > config.held_limit_seconds
    ]
