"""A stored call leads to a callback when the caller gave up, and is linked when it repeats."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.repository import CallRepository
from tests.support.calls import T0, ended_call


async def test_a_caller_who_gave_up_in_the_queue_is_on_the_worklist_once(
    engine: AsyncEngine,
) -> None:
    calls = CallRepository(engine, judge_by(Thresholds()))
    await calls.save(ended_call("gave-up"))
    await calls.save(ended_call("gave-up"))  # rewritten: still one item
    items = await calls.callbacks()
    assert [(i["call_id"], i["reason"]) for i in items] == [("gave-up", "abandoned_in_queue")]


async def test_a_call_a_call_taker_answered_needs_no_callback(engine: AsyncEngine) -> None:
    calls = CallRepository(engine, judge_by(Thresholds()))
    answered = ended_call("answered", agent="ct-01")
    await calls.save(answered)
    assert await calls.callbacks() == []
    (view,) = await calls.list()
    assert view.disposition == "answered"


async def test_a_repeat_caller_is_linked_to_the_earlier_call_not_blocked(
    engine: AsyncEngine,
) -> None:
    calls = CallRepository(engine, judge_by(Thresholds()))
    await calls.save(ended_call("first", arrived=T0))
    await calls.save(ended_call("again", arrived=T0 + timedelta(minutes=20)))
    await calls.save(ended_call("next-day", arrived=T0 + timedelta(days=2)))
    views = {view.id: view for view in await calls.list()}
    assert views["first"].repeat_of is None
    assert views["again"].repeat_of == "first"
    assert views["next-day"].repeat_of is None  # outside the 24 h window
