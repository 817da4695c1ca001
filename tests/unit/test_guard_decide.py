"""The guard's decision: which calls in our Stasis app go to the queue, given the controller's
liveness and how long each call has been held."""

from __future__ import annotations

from pbx_bridge.config import Settings
from pbx_bridge.guard.decide import (
    GuardConfig,
    HeldCall,
    Liveness,
    Move,
    decide,
    held_limit,
    observe,
)
from pbx_bridge.screening.model import QueueReason

CONFIG = GuardConfig(misses_to_fail=3, answers_to_recover=2, held_limit_seconds=45.0)
HEALTHY = Liveness()
ANSWER, MISS = True, False  # one liveness check
NEW = HeldCall("new", 0.5)
MID_SCREENING = HeldCall("silent", 28.0)  # greeting, listening, 55 prompt, waiting for 55
OVERDUE = HeldCall("stuck", 46.0)


def after(*answers: bool, start: Liveness = HEALTHY) -> Liveness:
    liveness = start
    for answered in answers:
        liveness = observe(liveness, answered, CONFIG)
    return liveness


def test_a_healthy_controller_keeps_every_call_it_is_screening() -> None:
    assert decide([NEW, MID_SCREENING], after(ANSWER, ANSWER, ANSWER), CONFIG) == []


def test_a_silent_caller_mid_screening_is_not_cut_short_even_after_a_missed_check() -> None:
    assert decide([MID_SCREENING], after(MISS, MISS), CONFIG) == []


def test_a_failed_controller_gives_up_every_call_it_held_and_every_new_one() -> None:
    failed = after(MISS, MISS, MISS)
    assert failed.failed
    assert decide([MID_SCREENING, NEW], failed, CONFIG) == [
        Move("silent", QueueReason.CONTROLLER_FAILED),
        Move("new", QueueReason.CONTROLLER_FAILED),
    ]


def test_misses_must_come_in_a_row_to_fail_the_controller() -> None:
    assert not after(MISS, MISS, ANSWER, MISS, MISS).failed


def test_a_recovering_controller_is_trusted_only_after_answers_in_a_row() -> None:
    failed = after(MISS, MISS, MISS)
    thawing = after(ANSWER, start=failed)
    assert thawing.failed  # one answer from a thawing process: new calls still go on
    assert decide([NEW], thawing, CONFIG) == [Move("new", QueueReason.CONTROLLER_FAILED)]
    recovered = after(ANSWER, ANSWER, start=failed)
    assert not recovered.failed
    assert decide([NEW, MID_SCREENING], recovered, CONFIG) == []


def test_a_healthy_controller_that_holds_a_call_too_long_loses_that_call_only() -> None:
    assert decide([NEW, OVERDUE, MID_SCREENING], HEALTHY, CONFIG) == [
        Move("stuck", QueueReason.HELD_TOO_LONG)
    ]


def test_the_default_limit_is_above_a_silent_callers_whole_screening() -> None:
    settings = Settings()
    limit = held_limit(
        settings.listen_seconds, settings.await_55_seconds, settings.guard_prompts_seconds
    )
    # The sandbox's prompts (espeak-ng, Indonesian): greeting 7.5 s, 55 prompt 9.9 s, and the
    # closing message 7.8 s before a silent call is hung up (silent policy "hangup").
    silent_screening = 7.5 + settings.listen_seconds + 9.9 + settings.await_55_seconds + 7.8
    assert limit > silent_screening + 10
