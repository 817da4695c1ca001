"""What an ended call comes to, decided before the store sees it: its validity and disposition,
and whether the caller is owed a callback. The store only persists the outcome.

NENA: abandoned calls get at least one callback attempt. Repeat callers are flagged and linked,
never blocked (NENA-INF-023).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from pbx_bridge.screening.model import Call, Disposition, TimelineEntry, Validity
from pbx_bridge.screening.policy import Thresholds, classify, connected_seconds

# Callers who hung up before a call taker answered. Silent lines and instant hang-ups are not
# called back by default: they are most of the traffic and almost never an emergency.
CALLBACK_DISPOSITIONS = frozenset(
    {Disposition.ABANDONED_BEFORE_ANSWER, Disposition.ABANDONED_IN_QUEUE, Disposition.SILENT_55}
)
# A caller who calls again within this window is linked to the earlier call.
REPEAT_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Outcome:
    validity: Validity
    disposition: Disposition
    connected_seconds: float | None
    owes_callback: bool


Judge = Callable[[Call], Outcome]
Reclassify = Callable[[Sequence[TimelineEntry]], tuple[Validity, Disposition]]


def owes_callback(call: Call, disposition: Disposition) -> bool:
    if not call.caller_number or call.agent:
        return False  # no number to call, or a call taker spoke with the caller
    return disposition in CALLBACK_DISPOSITIONS


def judge(call: Call, thresholds: Thresholds) -> Outcome:
    validity, disposition = classify(call.timeline, thresholds)
    seconds = connected_seconds(call)
    return Outcome(
        validity=validity,
        disposition=disposition,
        connected_seconds=None if seconds is None else round(seconds, 3),
        owes_callback=owes_callback(call, disposition),
    )


def judge_by(thresholds: Thresholds) -> Judge:
    """The judge the store is handed: these thresholds, every call."""
    return partial(judge, thresholds=thresholds)


def reclassify_by(thresholds: Thresholds) -> Reclassify:
    """For `retag`: a stored timeline's validity and disposition under these thresholds."""
    return partial(classify, thresholds=thresholds)
