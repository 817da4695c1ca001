"""The queue with SIPp callers and SIPp call takers: who is rung, in which order, and the
answer times the store keeps against what SIPp timed."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.sipp.runner import CallTiming, SippResult, random_caller, run_scenario
from pbx_bridge.sipp.takers import AnsweredCall, TakerPhone
from tests.integration.conftest import (
    QUEUE_TIMINGS,
    Controller,
    ari_get,
    assert_no_channel_left,
    start_controller,
    stop_controller,
)
from tests.support.waits import wait_until

pytestmark = pytest.mark.integration

FAST = {"PBX_BRIDGE_LISTEN_SECONDS": "1", "PBX_BRIDGE_AWAIT_55_SECONDS": "3"}
WRAPUP_S = float(QUEUE_TIMINGS["PBX_BRIDGE_WRAPUP_SECONDS"])
OVERFLOW_S = float(QUEUE_TIMINGS["PBX_BRIDGE_OVERFLOW_SECONDS"])


@pytest.fixture
def controller(settings: Settings, tmp_path: Path) -> Iterator[Controller]:
    running = start_controller(tmp_path, **FAST)
    try:
        yield running
    finally:
        for taker in ("ct-01", "ct-02", "ct-03", "sv-01"):
            running.cli("takers", "logout", taker)
        stop_controller(running)
    assert_no_channel_left(settings)


@contextmanager
def phones(settings: Settings, *takers: str, **options: float) -> Iterator[dict[str, TakerPhone]]:
    started = {taker: TakerPhone(settings, taker, **options) for taker in takers}  # type: ignore[arg-type]
    try:
        yield started
    finally:
        for phone in started.values():
            phone.stop(timeout=30)


def call_in_background(
    pool: ThreadPoolExecutor, settings: Settings, scenario: str, seconds: float, **extra: Any
) -> tuple[str, Future[SippResult]]:
    caller = random_caller()
    return caller, pool.submit(
        run_scenario, settings, scenario, seconds=seconds, caller=caller, **extra
    )


def queued_callers(settings: Settings) -> set[str]:
    return {
        c["caller"]["number"]
        for c in ari_get(settings, "/channels")
        if c["dialplan"]["app_name"] == "Queue"
    }


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def assert_answer_time_matches_sipp(
    record: dict[str, Any], caller: CallTiming, taker: AnsweredCall
) -> None:
    """Arrival to answer by a call taker, as stored, against SIPp's own clocks (0.5 s)."""
    assert taker.answered is not None
    stored = (at(record["connected_at"]) - at(record["arrived_at"])).total_seconds()
    timed = (taker.answered - caller.invite_sent).total_seconds()
    assert abs(stored - timed) < 0.5, (stored, timed)


def test_the_longest_idle_ready_taker_answers_with_answer_times_as_sipp_timed(
    settings: Settings, controller: Controller
) -> None:
    controller.cli("takers", "login", "ct-01", "--ready")
    controller.cli("takers", "login", "ct-02", "--ready")
    with (
        phones(settings, "ct-01", "ct-02", answer_after=0.5, talk_seconds=2, calls=1) as taken,
        ThreadPoolExecutor(2) as pool,
    ):
        first, first_call = call_in_background(pool, settings, "talk", 15)
        wait_until(lambda: any(p.answered() for p in taken.values()), 15, "first call answered")
        first_taker = next(name for name, p in taken.items() if p.answered())
        first_result = first_call.result(timeout=30)
        time.sleep(WRAPUP_S + 0.5)
        second, second_call = call_in_background(pool, settings, "talk", 15)
        second_result = second_call.result(timeout=40)
        answered = {name: phone.answered() for name, phone in taken.items()}
    stored = controller.records()
    other = "ct-02" if first_taker == "ct-01" else "ct-01"
    # The one who has not taken a call yet has been idle longest: it takes the second call.
    assert stored[first]["agent"] == first_taker
    assert stored[second]["agent"] == other
    assert stored[first]["disposition"] == stored[second]["disposition"] == "answered"
    assert_answer_time_matches_sipp(stored[first], first_result.calls[0], answered[first_taker][0])
    assert_answer_time_matches_sipp(stored[second], second_result.calls[0], answered[other][0])

    # The answer-time statistics (CLI and API alike) say what SIPp timed, within 0.5 s.
    timed = sorted(
        (taker.answered - caller.invite_sent).total_seconds()
        for caller, taker in (
            (first_result.calls[0], answered[first_taker][0]),
            (second_result.calls[0], answered[other][0]),
        )
        if taker.answered is not None
    )
    day = at(stored[first]["arrived_at"]).astimezone(ZoneInfo(settings.report_timezone)).date()
    stats = json.loads(
        controller.cli("stats", "--from", str(day), "--to", str(day), "--format", "json")
    )
    total = stats["total"]
    assert total["answered"] == 2
    assert abs(total["answer_p50_seconds"] - timed[0]) < 0.5, (total, timed)
    assert abs(total["longest_answer_seconds"] - timed[1]) < 0.5, (total, timed)
    assert total["answered_within_15s"] == sum(t <= 15 for t in timed)


def test_a_paused_taker_is_never_rung_and_wrap_up_is_respected(
    settings: Settings, controller: Controller
) -> None:
    controller.cli("takers", "login", "ct-01", "--ready")
    controller.cli("takers", "login", "ct-02")  # logged in, paused until ready
    controller.cli("takers", "pause", "ct-02", "--reason", "istirahat")
    with (
        phones(settings, "ct-01", "ct-02", answer_after=0.5, talk_seconds=2, calls=2) as taken,
        ThreadPoolExecutor(2) as pool,
    ):
        first, first_call = call_in_background(pool, settings, "talk", 20)
        wait_until(lambda: len(taken["ct-01"].answered()) == 1, 15, "ct-01 answers the first")
        # The second caller arrives while ct-01 is still talking.
        second, second_call = call_in_background(pool, settings, "talk", 25)
        first_call.result(timeout=40)
        second_call.result(timeout=40)
        assert taken["ct-02"].answered() == []  # paused: never rung
    stored = controller.records()
    assert stored[first]["agent"] == stored[second]["agent"] == "ct-01"
    first_done = max(
        at(e["at"]) for e in stored[first]["timeline"] if e["kind"] == "agent_completed"
    )
    waited_after = (at(stored[second]["connected_at"]) - first_done).total_seconds()
    assert waited_after >= WRAPUP_S - 0.3, waited_after


def test_a_caller_who_pressed_55_jumps_the_queue(
    settings: Settings, controller: Controller
) -> None:
    controller.cli("takers", "login", "ct-01")  # paused: callers wait
    with ThreadPoolExecutor(2) as pool:
        speaker, speaker_call = call_in_background(pool, settings, "talk", 40)
        wait_until(lambda: speaker in queued_callers(settings), 15, "the speaker waits")
        silent, silent_call = call_in_background(pool, settings, "press55", 40, dtmf_at=2)
        wait_until(lambda: silent in queued_callers(settings), 15, "the 55 caller waits")
        with phones(settings, "ct-01", answer_after=0.5, talk_seconds=2, calls=2):
            controller.cli("takers", "ready", "ct-01")
            speaker_call.result(timeout=60)
            silent_call.result(timeout=60)
    stored = controller.records()
    assert stored[silent]["queue_priority"] > stored[speaker]["queue_priority"]
    assert stored[silent]["cannot_speak"] is True
    # Arrived second, answered first.
    assert at(stored[silent]["arrived_at"]) > at(stored[speaker]["arrived_at"])
    assert at(stored[silent]["connected_at"]) < at(stored[speaker]["connected_at"])


def test_a_caller_overflows_to_the_supervisors_after_the_configured_wait(
    settings: Settings, controller: Controller
) -> None:
    controller.cli("takers", "login", "sv-01", "--ready")
    with (
        phones(settings, "sv-01", answer_after=0.5, talk_seconds=2, calls=1),
        ThreadPoolExecutor(1) as pool,
    ):
        caller, call = call_in_background(pool, settings, "talk", 30)
        assert call.result(timeout=60).ok
    record = controller.records()[caller]
    assert record["agent"] == "sv-01"
    queued = min(at(e["at"]) for e in record["timeline"] if e["kind"] == "queue_joined")
    waited = (at(record["connected_at"]) - queued).total_seconds()
    assert waited >= OVERFLOW_S - 0.3, waited


def test_a_caller_who_gives_up_in_the_queue_is_on_the_callback_worklist(
    settings: Settings, controller: Controller
) -> None:
    caller = random_caller()
    result = run_scenario(settings, "talk", seconds=6, caller=caller)
    assert result.ok
    record = controller.records()[caller]
    assert record["disposition"] == "abandoned_in_queue"
    items = json.loads(controller.cli("callbacks", "--json", "--show-numbers"))
    assert [i["call_id"] for i in items if i["caller_number"] == caller] == [record["id"]]


def kill_ami_connections() -> None:
    """Cut every AMI session (the controller's) as a network fault would."""
    subprocess.run(
        ["ss", "-K", "-tn", "state", "established", "( dport = :5038 )"],
        check=True, capture_output=True,
    )  # fmt: skip


def test_ami_lost_while_a_caller_waits_loses_no_queue_event_that_matters(
    settings: Settings, controller: Controller
) -> None:
    """AMI drops; a call taker answers meanwhile; on reconnect QueueStatus and CoreShowChannels
    fill the record in: who answered, and that the caller had been queued."""
    controller.cli("takers", "login", "ct-01")  # paused: the caller waits
    with ThreadPoolExecutor(1) as pool:
        caller, call = call_in_background(pool, settings, "talk", 25)
        wait_until(lambda: caller in queued_callers(settings), 15, "the caller waits")
        with phones(settings, "ct-01", answer_after=0.5, talk_seconds=3, calls=1) as taken:
            kill_ami_connections()
            controller.cli("takers", "ready", "ct-01")
            wait_until(lambda: bool(taken["ct-01"].answered()), 10, "ct-01 answers")
            assert call.result(timeout=60).ok
    wait_until(lambda: '"ami.resynced"' in controller.log(), 10, "the controller resynced")
    record = controller.records()[caller]
    assert record["agent"] == "ct-01"
    assert record["disposition"] == "answered"
    kinds = [entry["kind"] for entry in record["timeline"]]
    assert "queue_joined" in kinds
    assert "agent_connected" in kinds
