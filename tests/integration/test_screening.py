"""Each screening case placed by SIPp with real audio against the sandbox: the store holds the
disposition and validity the case must have, and no channel is left."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.sipp.runner import SippResult, random_caller, run_scenario
from tests.integration.conftest import (
    Controller,
    assert_no_channel_left,
    start_controller,
    stop_controller,
)

pytestmark = pytest.mark.integration

# Short screening times keep the suite fast; the greeting itself is 7.5 s of speech.
FAST = {"PBX_BRIDGE_LISTEN_SECONDS": "1", "PBX_BRIDGE_AWAIT_55_SECONDS": "3"}
GREETING_S = 7.5
PRESS_55_PROMPT_STARTS_S = GREETING_S + 1  # greeting, then listen_seconds


@dataclass(frozen=True)
class Case:
    name: str
    scenario: str
    seconds: float
    disposition: str
    validity: str
    dtmf_at: float = 0.0
    queue_reason: str = ""
    queue_priority: int | None = None
    cannot_speak: bool = False


CASES_QUEUE_POLICY = [
    Case("speech", "talk", 12, "abandoned_in_queue", "valid", queue_reason="speech",
         queue_priority=5),
    Case("speech then silence", "speech_then_silence", 14, "abandoned_in_queue", "valid",
         queue_reason="speech", queue_priority=5),
    Case("hang up at once", "hangup", 0, "hung_up_immediately", "invalid"),
    Case("silent, gone during the greeting", "silent", 3, "hung_up_immediately", "invalid"),
    Case("silent, gone late in the greeting", "silent", 7, "hung_up_in_screening", "invalid"),
    Case("silent, gone during the 55 prompt", "silent", PRESS_55_PROMPT_STARTS_S + 3,
         "hung_up_in_screening", "invalid"),
    Case("pressed 55 during the prompt", "press55", 20, "silent_55", "valid",
         dtmf_at=PRESS_55_PROMPT_STARTS_S + 2, queue_reason="pressed_55", queue_priority=10,
         cannot_speak=True),
    Case("pressed 55 during the greeting", "press55", 8, "silent_55", "valid", dtmf_at=2,
         queue_reason="pressed_55", queue_priority=10, cannot_speak=True),
    Case("silent all along, queued flagged silent", "silent", 30, "silent", "invalid",
         queue_reason="silent", queue_priority=1),
]  # fmt: skip


def place(settings: Settings, case: Case) -> tuple[Case, str, SippResult]:
    caller = random_caller()
    result = run_scenario(
        settings, case.scenario, seconds=case.seconds, dtmf_at=case.dtmf_at, caller=caller
    )
    return case, caller, result


def check(case: Case, record: dict[str, Any] | None, result: SippResult) -> list[str]:
    assert result.ok, f"{case.name}: SIPp failed: {result.errors[-600:]}"
    if record is None:
        return [f"{case.name}: no record"]
    wanted = {
        "disposition": case.disposition,
        "validity": case.validity,
        "queue_reason": case.queue_reason,
        "queue_priority": case.queue_priority,
        "cannot_speak": case.cannot_speak,
    }
    kinds = [entry["kind"] for entry in record["timeline"]]
    return [
        f"{case.name}: {key} is {record[key]!r}, want {value!r} (timeline {kinds})"
        for key, value in wanted.items()
        if record[key] != value
    ]


def run_cases(settings: Settings, controller: Controller, cases: list[Case]) -> None:
    with ThreadPoolExecutor(len(cases)) as pool:
        outcomes = list(pool.map(lambda case: place(settings, case), cases))
    records = controller.records()
    problems = [
        problem
        for case, caller, result in outcomes
        for problem in check(case, records.get(caller), result)
    ]
    assert not problems, "\n".join(problems)


def test_every_screening_case_gets_its_disposition_under_the_queue_policy(
    settings: Settings, tmp_path: Path
) -> None:
    """Speech, silence, 55 and hang-ups at each stage, all at once, silent calls queued."""
    controller = start_controller(tmp_path, **FAST)
    try:
        run_cases(settings, controller, CASES_QUEUE_POLICY)
    finally:
        stop_controller(controller)
    assert_no_channel_left(settings)


def test_a_silent_call_hears_the_closing_message_and_is_ended_under_the_hangup_policy(
    settings: Settings, tmp_path: Path
) -> None:
    """Policy hangup: no speech, no 55 -> closing message, then Asterisk sends the BYE."""
    controller = start_controller(tmp_path, PBX_BRIDGE_SILENT_POLICY="hangup", **FAST)
    try:
        case = Case("silent, closed", "silent", 60, "silent", "invalid")
        ((_case, caller, result),) = [place(settings, case)]
        record = controller.records().get(caller)
        assert not check(case, record, result)
        assert record is not None
        kinds = [entry["kind"] for entry in record["timeline"]]
        assert "hangup_sent" in kinds
        # The caller did not hang up: the call ended well before the caller's 60 s.
        assert record["connected_seconds"] < 40
        sipp_call = result.calls[0]
        assert sipp_call.bye_sent is None  # the BYE came from Asterisk
    finally:
        stop_controller(controller)
    assert_no_channel_left(settings)
