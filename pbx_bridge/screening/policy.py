"""What a call was: its validity and disposition, from its timeline and the thresholds alone.

The timeline is stored with the record, so `pbx-bridge retag` can recompute every tag when the
thresholds change; its vocabulary is `timeline.py`. Nothing else decides what a call was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pbx_bridge.screening.model import Call, Disposition, TimelineEntry, Validity
from pbx_bridge.screening.timeline import (
    AGENT_CONNECTED,
    ANSWERED,
    HANGUP_REQUESTED,
    HANGUP_SENT,
    HUNG_UP,
    LEFT_STASIS,
    PRESSED_55,
    QUEUED,
    SILENT,
    SPEECH,
)

# Once one of these is in the timeline the call is ending: what follows did not reach the queue.
_ENDING = frozenset({HANGUP_REQUESTED, HANGUP_SENT, HUNG_UP})

Verdict = tuple[Validity, Disposition]


@dataclass(frozen=True)
class Thresholds:
    valid_min_seconds: float = 10.0  # Kendari: valid means the caller stayed more than 10 s
    hung_up_immediately_seconds: float = 5.0


def _utc(moment: datetime) -> datetime:
    # The store hands back naive UTC datetimes; never let a mix of the two raise.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _seconds_between(start: datetime, end: datetime) -> float:
    return max(0.0, (_utc(end) - _utc(start)).total_seconds())


def connected_seconds(call: Call) -> float | None:
    """Time on the line: from our answer to the end; None while either is unknown."""
    if call.answered_at is None or call.ended_at is None:
        return None
    return _seconds_between(call.answered_at, call.ended_at)


# --- classification: facts read once from the timeline, then rules, first match wins


@dataclass(frozen=True)
class _Facts:
    kinds: frozenset[str]
    stayed: float | None  # first hung_up - first answered; None while either is missing
    reached_queue: bool


def _first(timeline: Sequence[TimelineEntry], kind: str) -> datetime | None:
    return next((entry.at for entry in timeline if entry.kind == kind), None)


def _stayed(timeline: Sequence[TimelineEntry]) -> float | None:
    answered, hung_up = _first(timeline, ANSWERED), _first(timeline, HUNG_UP)
    if answered is None or hung_up is None:
        return None
    return _seconds_between(answered, hung_up)


def _reached_queue(timeline: Sequence[TimelineEntry]) -> bool:
    """Sent to the queue, or out of Stasis into the dialplan's Queue(), before the call ended.

    A caller who hangs up during screening also leaves Stasis, but after the hang-up request.
    Judged in time order, not in the order we learnt things: a command that failed because the
    caller had just hung up can come back before the hang-up's own event (seen in a replay).
    """
    for entry in sorted(timeline, key=lambda item: _utc(item.at)):
        if entry.kind in _ENDING:
            return False
        if entry.kind in (QUEUED, LEFT_STASIS):
            return True
    return False


def _facts(timeline: Sequence[TimelineEntry]) -> _Facts:
    return _Facts(
        kinds=frozenset(entry.kind for entry in timeline),
        stayed=_stayed(timeline),
        reached_queue=_reached_queue(timeline),
    )


def _by_duration(facts: _Facts, thresholds: Thresholds) -> Validity:
    if facts.stayed is not None and facts.stayed > thresholds.valid_min_seconds:
        return Validity.VALID
    return Validity.INVALID


def _spoke_and_stayed(facts: _Facts, thresholds: Thresholds) -> Validity:
    # A caller who never said a word during screening is counted with the silent calls,
    # however long the line stayed open (Kendari's invalid: "silent, or hung up at once").
    if SPEECH not in facts.kinds:
        return Validity.INVALID
    return _by_duration(facts, thresholds)


def _valid(_facts: _Facts, _thresholds: Thresholds) -> Validity:
    return Validity.VALID


def _invalid(_facts: _Facts, _thresholds: Thresholds) -> Validity:
    return Validity.INVALID


def _unanswered(_facts: _Facts, _thresholds: Thresholds) -> Validity:
    return Validity.UNANSWERED


def _never_answered(facts: _Facts, _thresholds: Thresholds) -> bool:
    return ANSWERED not in facts.kinds


def _pressed_55(facts: _Facts, _thresholds: Thresholds) -> bool:
    return PRESSED_55 in facts.kinds


def _agent_answered(facts: _Facts, _thresholds: Thresholds) -> bool:
    return AGENT_CONNECTED in facts.kinds


def _silent(facts: _Facts, _thresholds: Thresholds) -> bool:
    return SILENT in facts.kinds


def _abandoned_in_queue(facts: _Facts, _thresholds: Thresholds) -> bool:
    return facts.reached_queue


def _hung_up_immediately(facts: _Facts, thresholds: Thresholds) -> bool:
    return (
        SPEECH not in facts.kinds
        and facts.stayed is not None
        and facts.stayed <= thresholds.hung_up_immediately_seconds
    )


_Test = Callable[[_Facts, Thresholds], bool]
_Judge = Callable[[_Facts, Thresholds], Validity]

_RULES: tuple[tuple[_Test, _Judge, Disposition], ...] = (
    (_never_answered, _unanswered, Disposition.ABANDONED_BEFORE_ANSWER),
    # A caller who cannot speak and pressed 55 is an emergency, however short the call.
    (_pressed_55, _valid, Disposition.SILENT_55),
    (_agent_answered, _by_duration, Disposition.ANSWERED),
    (_silent, _invalid, Disposition.SILENT),
    (_abandoned_in_queue, _by_duration, Disposition.ABANDONED_IN_QUEUE),
    (_hung_up_immediately, _invalid, Disposition.HUNG_UP_IMMEDIATELY),
)


def classify(timeline: Sequence[TimelineEntry], thresholds: Thresholds) -> Verdict:
    """The call's validity and disposition from its timeline alone; never raises."""
    facts = _facts(timeline)
    for applies, judge, disposition in _RULES:
        if applies(facts, thresholds):
            return judge(facts, thresholds), disposition
    # Ended while we were still screening it (or still running: duration unknown).
    return _spoke_and_stayed(facts, thresholds), Disposition.HUNG_UP_IN_SCREENING


def classify_call(call: Call, thresholds: Thresholds) -> Verdict:
    return classify(call.timeline, thresholds)
