"""Reconciliation of a replay's truth against the store."""

from __future__ import annotations

from dataclasses import replace

from pbx_bridge.replay.mix import load_mix
from pbx_bridge.replay.plan import PlannedCall, plan
from pbx_bridge.replay.verdict import Recorded, reconcile
from tests.unit.test_replay_mix import DEFAULTS


def _as_planned() -> tuple[list[PlannedCall], dict[str, Recorded]]:
    calls = plan(load_mix("sample"), DEFAULTS)
    store = {
        call.caller: Recorded(
            call.disposition, call.validity, (call.emergency,) if call.emergency else ()
        )
        for call in calls
    }
    return calls, store


def test_a_store_as_planned_has_no_mismatch() -> None:
    calls, store = _as_planned()
    verdict = reconcile(calls, store)
    assert verdict.ok
    assert all(row.expected == row.recorded for row in verdict.rows)
    assert sum(row.expected for row in verdict.rows) == len(calls)
    assert verdict.emergencies_expected == verdict.emergencies_recorded == {"fire": 2, "health": 2}
    assert "pressed 55" in verdict.table()


def test_every_kind_of_difference_is_a_mismatch_naming_the_call() -> None:
    calls, store = _as_planned()
    no_incident = next(c for c in calls if c.emergency)
    missing, wrong = [c for c in calls if c is not no_incident][:2]
    del store[missing.caller]
    store[wrong.caller] = replace(store[wrong.caller], disposition="silent")
    store[no_incident.caller] = replace(store[no_incident.caller], incidents=())
    verdict = reconcile(calls, store)
    assert not verdict.ok
    described = {m.call.index: m.describe() for m in verdict.mismatches}
    assert set(described) == {missing.index, wrong.index, no_incident.index}
    assert "no record" in described[missing.index]
    assert "recorded silent/" in described[wrong.index]
    assert missing.caller not in described[missing.index]  # masked
    row = next(r for r in verdict.rows if r.category == wrong.category)
    assert row.recorded < row.expected
