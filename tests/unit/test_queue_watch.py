"""The queue watch: gauges from app_queue's status, an alert while callers wait and no call
taker is ready, and call takers put back as they were if app_queue comes back without them."""

from __future__ import annotations

import configparser
from typing import Any

from prometheus_client import REGISTRY

from pbx_bridge.paths import asterisk_config_dir
from pbx_bridge.queue.members import log_in, pause
from pbx_bridge.queue.takers import MAIN_QUEUE, Group, Taker
from pbx_bridge.queue.watch import ATTENDED, UNATTENDED, QueueWatch
from tests.support.fake_app_queue import FakeAmi

CT1 = Taker("ct-01", "Petugas 1", Group.TAKER)
CT2 = Taker("ct-02", "Petugas 2", Group.TAKER)
SV1 = Taker("sv-01", "Supervisor 1", Group.SUPERVISOR)
TAKERS = (CT1, CT2, SV1)


class Published:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        self.events.append((kind, data))


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_app_queue_keeps_its_members_across_a_restart() -> None:
    """queues.conf: persistentmembers (astdb), so a restart logs nobody out."""
    parser = configparser.ConfigParser(
        strict=False, interpolation=None, inline_comment_prefixes=(";",)
    )
    parser.read_string((asterisk_config_dir() / "queues.conf").read_text().replace("@@", "x"))
    assert parser.getboolean("general", "persistentmembers")
    assert parser.getboolean("xMAIN_QUEUEx", "joinempty")  # why it matters: callers still join


async def test_the_gauges_say_depth_longest_wait_and_each_state() -> None:
    ami = FakeAmi()
    await log_in(ami, CT1, ready=True)
    await log_in(ami, CT2)  # paused
    ami.wait(MAIN_QUEUE, "1.1", 12)
    ami.wait(MAIN_QUEUE, "2.2", 40)
    watch = QueueWatch(ami, TAKERS, publish=Published(), logins=lambda: 1)
    health = await watch.check()
    assert (health.callers, health.longest_wait, health.ready) == (2, 40, 1)
    assert gauge("pbx_bridge_queue_callers") == 2
    assert gauge("pbx_bridge_queue_longest_wait_seconds") == 40
    assert gauge("pbx_bridge_queue_takers", state="ready") == 1
    assert gauge("pbx_bridge_queue_takers", state="paused") == 1
    assert gauge("pbx_bridge_queue_takers", state="logged_out") == 1
    assert gauge("pbx_bridge_queue_unattended") == 0


async def test_callers_waiting_with_no_taker_ready_raise_the_alert_once_until_it_clears() -> None:
    ami = FakeAmi()
    await log_in(ami, CT1)  # logged in, paused: will not be rung
    published = Published()
    watch = QueueWatch(ami, TAKERS, publish=published, logins=lambda: 1)
    await watch.check()
    assert published.events == []  # nobody waits: nothing to say
    ami.wait(MAIN_QUEUE, "1.1", 7)
    await watch.check()
    await watch.check()
    assert published.events == [(UNATTENDED, {"callers": 1, "longest_wait_seconds": 7})]
    assert gauge("pbx_bridge_queue_unattended") == 1
    ami.members[(MAIN_QUEUE, CT1.interface)].paused = False
    await watch.check()
    assert published.events[-1][0] == ATTENDED
    assert gauge("pbx_bridge_queue_unattended") == 0


async def test_takers_are_put_back_as_they_were_when_app_queue_returns_without_members() -> None:
    """astdb lost: after the AMI reconnect the queue is empty; the watch logs them back in."""
    ami = FakeAmi()
    await log_in(ami, CT1, ready=True)
    await log_in(ami, CT2)
    await pause(ami, CT2, "istirahat")
    logins = [1]
    watch = QueueWatch(ami, TAKERS, publish=Published(), logins=lambda: logins[0])
    await watch.check()
    ami.members.clear()  # Asterisk restarted and forgot everyone
    logins[0] = 2  # AMI logged in again
    health = await watch.check()
    assert health.ready == 1
    ct1, ct2 = ami.members[(MAIN_QUEUE, CT1.interface)], ami.members[(MAIN_QUEUE, CT2.interface)]
    assert not ct1.paused
    assert (ct2.paused, ct2.reason) == (True, "istirahat")
    assert (MAIN_QUEUE, SV1.interface) not in ami.members  # never logged in: stays out


async def test_an_empty_queue_just_before_the_disconnect_does_not_erase_the_memory() -> None:
    """A shutting-down Asterisk answers with no members before AMI drops."""
    ami = FakeAmi()
    await log_in(ami, CT1, ready=True)
    logins, now = [1], [0.0]
    watch = QueueWatch(
        ami, TAKERS, publish=Published(), logins=lambda: logins[0], clock=lambda: now[0]
    )
    await watch.check()
    ami.members.clear()
    now[0] = 1.0
    await watch.check()  # still connected: app_queue is unloading
    logins[0] = 2  # Asterisk is back, without astdb
    now[0] = 3.0
    await watch.check()
    assert (MAIN_QUEUE, CT1.interface) in ami.members


async def test_takers_who_logged_out_stay_out_after_a_later_restart() -> None:
    ami = FakeAmi()
    await log_in(ami, CT1, ready=True)
    logins, now = [1], [0.0]
    watch = QueueWatch(
        ami, TAKERS, publish=Published(), logins=lambda: logins[0], clock=lambda: now[0]
    )
    await watch.check()
    ami.members.clear()  # the shift ended: everyone logged out
    for second in (5.0, 40.0):
        now[0] = second
        await watch.check()
    logins[0] = 2  # a restart, hours later
    now[0] = 9000.0
    await watch.check()
    assert ami.members == {}
