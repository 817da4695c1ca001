"""The core judges an ended call before the store sees it; the store persists that judgement."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.screening.model import Call, Disposition, Validity
from pbx_bridge.screening.outcome import CALLBACK_DISPOSITIONS, Outcome, judge, owes_callback
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.repository import CallRepository
from tests.support.calls import ended_call


def test_a_caller_who_gave_up_in_the_queue_is_owed_a_callback() -> None:
    outcome = judge(ended_call("gave-up"), Thresholds())
    assert outcome.disposition is Disposition.ABANDONED_IN_QUEUE
    assert outcome.owes_callback


def test_no_callback_without_a_number_or_after_a_call_taker_spoke_with_the_caller() -> None:
    call = ended_call("c")
    for disposition in CALLBACK_DISPOSITIONS:
        assert owes_callback(call, disposition)
        assert not owes_callback(replace(call, caller_number=""), disposition)
        assert not owes_callback(replace(call, agent="ct-01"), disposition)
    assert not owes_callback(call, Disposition.SILENT)


async def test_the_store_persists_the_judgement_it_is_handed(engine: AsyncEngine) -> None:
    def verdict_of_the_core(_call: Call) -> Outcome:
        return Outcome(Validity.VALID, Disposition.SILENT_55, 12.5, owes_callback=True)

    calls = CallRepository(engine, verdict_of_the_core)
    await calls.save(ended_call("judged"))
    (view,) = await calls.list()
    assert (view.validity, view.disposition, view.connected_seconds) == ("valid", "silent_55", 12.5)
    assert [item["reason"] for item in await calls.callbacks()] == ["silent_55"]
