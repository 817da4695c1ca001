"""SIGSTOP the controller for 30 s while callers are in screening and more arrive: the guard
that `serve` started beside it sends every one of them on to the queue within 10 s (of the stop,
or of the caller's arrival); after SIGCONT the controller writes every record and no call was
cut off."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.guard.launch import lock_path, running_guard
from pbx_bridge.sipp.runner import SippResult, random_caller, run_scenario
from tests.integration.conftest import (
    ari_get,
    assert_no_channel_left,
    start_controller,
    stop_controller,
)
from tests.support.waits import wait_until

pytestmark = pytest.mark.integration

FROZEN_SECONDS = 30.0
TARGET_SECONDS = 10.0  # the bound: in the queue within 10 s of the stop or the arrival


@dataclass
class Seen:
    """When the watcher first saw a caller's channel, in Stasis, and in Queue (monotonic)."""

    arrived: float
    stasis: float | None = None
    queue: float | None = None


@dataclass
class Watcher:
    """Samples ARI's channels every 0.1 s: where each caller is, and since when."""

    settings: Settings
    seen: dict[str, Seen] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.done.wait(0.1):
            now = time.monotonic()
            for channel in ari_get(self.settings, "/channels"):
                number = channel["caller"]["number"]
                seen = self.seen.setdefault(number, Seen(now))
                app = channel["dialplan"]["app_name"]
                if app == "Stasis" and seen.stasis is None:
                    seen.stasis = now
                if app == "Queue" and seen.queue is None:
                    seen.queue = now

    def app_of(self, number: str) -> str:
        seen = self.seen.get(number)
        if seen is None:
            return ""
        return "Queue" if seen.queue is not None else "Stasis" if seen.stasis else "?"


def test_a_frozen_controllers_callers_reach_the_queue_through_the_guard(
    settings: Settings, tmp_path: Path
) -> None:
    controller = start_controller(tmp_path)
    watcher = Watcher(settings)
    watching = threading.Thread(target=watcher.run, daemon=True)
    watching.start()
    pool = ThreadPoolExecutor(8)
    calls: dict[str, Future[SippResult]] = {}

    def call(scenario: str, seconds: float) -> str:
        number = random_caller()
        calls[number] = pool.submit(
            run_scenario, settings, scenario, seconds=seconds, caller=number
        )
        return number

    stopped_at = 0.0
    try:
        wait_until(lambda: running_guard(lock_path(tmp_path)), 10, "serve started its guard")
        talked_before = call("talk", 40)
        held = [call("silent", 60) for _ in range(2)]  # in screening when the controller stops
        wait_until(
            lambda: (
                watcher.app_of(talked_before) == "Queue"
                and all(watcher.app_of(n) == "Stasis" for n in held)
            ),
            15,
            "a talking caller queued by the controller, two silent ones in screening",
        )
        time.sleep(2)  # well into their screening (greeting playing)
        controller.process.send_signal(signal.SIGSTOP)
        stopped_at = time.monotonic()
        arrivals = []
        for pause in (1, 6, 12):  # talking callers keep arriving while it is frozen
            time.sleep(pause - (time.monotonic() - stopped_at))
            arrivals.append(call("talk", 30))
        for number in [*held, *arrivals]:

            def queued(number: str = number) -> bool:
                return watcher.app_of(number) == "Queue"

            wait_until(
                queued,
                TARGET_SECONDS + 5,
                f"caller {number[-2:]} reaches the queue while the controller is frozen",
            )
        time.sleep(max(0.0, FROZEN_SECONDS - (time.monotonic() - stopped_at)))
        controller.process.send_signal(signal.SIGCONT)
        stopped_at_end = time.monotonic()

        results = {number: future.result(timeout=120) for number, future in calls.items()}
        assert all(result.ok for result in results.values()), [
            result.errors[-300:] for result in results.values() if not result.ok
        ]
        # Every caller hung up themselves, when their scenario said: none was cut off.
        assert all(c.bye_sent for r in results.values() for c in r.calls), results
        wait_until(lambda: set(calls) <= set(controller.records()), 30, "every record written")
        records = controller.records()
    finally:
        watcher.done.set()
        if controller.process.poll() is None:
            controller.process.send_signal(signal.SIGCONT)
            stop_controller(controller)
        pool.shutdown(wait=True)
    assert running_guard(lock_path(tmp_path)) is None  # serve's clean exit stopped its guard

    waits = {}
    for number in [*held, *arrivals]:
        seen = watcher.seen[number]
        assert seen.queue is not None
        waits[number] = seen.queue - max(stopped_at, seen.arrived)
    longest_in_stasis = max(
        (watcher.seen[n].queue or 0) - (watcher.seen[n].stasis or watcher.seen[n].arrived)
        for n in arrivals
    )
    print(  # noqa: T201 - the measurement the issue asks for (pytest -s shows it)
        f"guard: frozen {stopped_at_end - stopped_at:.1f} s; to the queue after the stop or "
        f"arrival: {sorted(round(w, 1) for w in waits.values())} s; longest in Stasis of a "
        f"caller arriving while frozen: {longest_in_stasis:.1f} s"
    )
    assert max(waits.values()) <= TARGET_SECONDS, waits
    for number in [*held, *arrivals]:
        assert records[number]["disposition"] == "abandoned_in_queue", records[number]
    assert "guard.moved" in controller.log()  # serve and its guard share the log
    assert_no_channel_left(settings)


def test_a_killed_controllers_callers_reach_the_queue_through_its_guard(
    settings: Settings, tmp_path: Path
) -> None:
    """SIGKILL leaves the calls in Stasis (their prompt playing): the guard, which the kill
    does not reach, sends them on; a later `serve` would reuse it."""
    controller = start_controller(tmp_path)
    watcher = Watcher(settings)
    threading.Thread(target=watcher.run, daemon=True).start()
    pool = ThreadPoolExecutor(4)
    guard_pid = 0
    try:
        wait_until(lambda: running_guard(lock_path(tmp_path)), 10, "serve started its guard")
        guard_pid = running_guard(lock_path(tmp_path)) or 0
        numbers = [random_caller() for _ in range(2)]
        calls = [
            pool.submit(run_scenario, settings, "silent", seconds=25, caller=number)
            for number in numbers
        ]
        wait_until(lambda: all(watcher.app_of(n) == "Stasis" for n in numbers), 15, "in screening")
        time.sleep(1)  # the greeting is playing
        controller.process.send_signal(signal.SIGKILL)
        controller.process.wait(5)
        killed_at = time.monotonic()
        wait_until(
            lambda: all(watcher.app_of(n) == "Queue" for n in numbers),
            TARGET_SECONDS,
            "the killed controller's callers reach the queue",
        )
        moved_after = max((watcher.seen[n].queue or 0) - killed_at for n in numbers)
        print(f"guard: killed controller's callers queued {moved_after:.1f} s after")  # noqa: T201
        assert running_guard(lock_path(tmp_path)) == guard_pid  # the kill did not reach it
        results = [call.result(timeout=90) for call in calls]
        assert all(result.ok for result in results)
        assert all(c.bye_sent for r in results for c in r.calls)  # none cut off
    finally:
        watcher.done.set()
        if controller.process.poll() is None:
            stop_controller(controller)
        if guard_pid:
            os.kill(guard_pid, signal.SIGTERM)  # no serve is left to stop it
            wait_until(lambda: running_guard(lock_path(tmp_path)) is None, 10, "guard stopped")
        pool.shutdown(wait=True)
    assert_no_channel_left(settings)
