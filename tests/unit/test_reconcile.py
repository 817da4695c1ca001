"""Reconciliation reads only what Asterisk appended (surviving rotation, truncation and a line
still being written), asks the store only about those calls, and rebuilds a call a taker
answered as answered, with no callback owed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pbx_bridge.reconcile.cdr import merge_legs, parse, taker_from_channel, to_call
from pbx_bridge.reconcile.service import Reconciler
from pbx_bridge.reconcile.tail import CdrTail
from pbx_bridge.screening.model import Call, Disposition
from pbx_bridge.screening.outcome import judge
from pbx_bridge.screening.policy import Thresholds

START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
NUMBER = "081234567890"


def cdr_line(
    uniqueid: str,
    *,
    offset: float = 0,
    seconds: float = 30,
    disposition: str = "ANSWERED",
    dstchannel: str | None = "",
    userfield: str = "speech",
) -> str:
    """A line as cdr_custom.conf writes it; dstchannel None: a line from before it was mapped."""
    epoch = START.timestamp() + offset
    fields = [
        uniqueid, uniqueid, NUMBER, f'"Budi" <{NUMBER}>', f"{epoch:.6f}", f"{epoch + 0.01:.6f}",
        f"{epoch + seconds:.6f}", disposition, "Queue", "queue-112", "PJSIP/trunk-112-00000000",
        userfield,
    ]  # fmt: skip
    if dstchannel is not None:
        fields.append(dstchannel)
    return ",".join('"' + field.replace('"', '""') + '"' for field in fields) + "\n"


def rebuilt(*lines: str) -> Call:
    [leg] = merge_legs(parse(lines)).values()
    return to_call(leg)


# --- what the CDR says about a call taker


def test_a_call_a_taker_answered_is_rebuilt_as_answered_by_that_taker() -> None:
    """Seen in the sandbox: one ANSWERED leg with the taker's channel as dstchannel."""
    call = rebuilt(cdr_line("1.1", dstchannel="PJSIP/ct-02-00000001"))
    outcome = judge(call, Thresholds())
    assert call.agent == "ct-02"
    assert call.connected_at is None  # the CDR does not say when: no guess in the statistics
    assert outcome.disposition is Disposition.ANSWERED
    assert not outcome.owes_callback


def test_a_ring_nobody_answered_then_another_takers_answer() -> None:
    call = rebuilt(
        cdr_line("1.1", seconds=6, disposition="NO ANSWER", dstchannel="PJSIP/ct-01-00000003"),
        cdr_line("1.1", offset=6, seconds=40, dstchannel="PJSIP/ct-02-00000004"),
    )
    assert call.agent == "ct-02"
    assert judge(call, Thresholds()).disposition is Disposition.ANSWERED


def test_a_caller_rung_to_a_taker_who_never_answered_is_owed_a_callback() -> None:
    """Seen in the sandbox: the leg of an unanswered ring is "NO ANSWER"."""
    call = rebuilt(cdr_line("1.1", disposition="NO ANSWER", dstchannel="PJSIP/ct-01-00000003"))
    outcome = judge(call, Thresholds())
    assert call.agent == ""
    assert outcome.disposition is Disposition.ABANDONED_IN_QUEUE
    assert outcome.owes_callback


def test_lines_from_before_dstchannel_was_mapped_are_still_read() -> None:
    call = rebuilt(cdr_line("1.1", dstchannel=None))
    assert call.caller_number == NUMBER
    assert judge(call, Thresholds()).disposition is Disposition.ABANDONED_IN_QUEUE


@pytest.mark.parametrize(
    ("channel", "taker"),
    [
        ("PJSIP/ct-01-0000000a", "ct-01"),
        ("PJSIP/load-001-000001f3", "load-001"),
        ("", ""),
        ("Local/ct-01@queue-112-00000001;1", ""),
        ("PJSIP/ct-01", ""),
        ('PJSIP/ct"; DROP-0000000a', ""),
    ],
)
def test_the_taker_is_read_only_from_a_pjsip_channel_name(channel: str, taker: str) -> None:
    assert taker_from_channel(channel) == taker


# --- reading only what is new


def test_the_tail_reads_appended_lines_once_and_waits_for_a_partial_line(tmp_path: Path) -> None:
    path = tmp_path / "cdr.csv"
    tail = CdrTail(path)
    assert tail.read_new() == []  # no file yet
    path.write_text("a\nb\n")
    assert tail.read_new() == ["a", "b"]
    assert tail.read_new() == []
    with path.open("a") as file:
        file.write("c\nd-still-being-wr")
    assert tail.read_new() == ["c"]
    with path.open("a") as file:
        file.write("itten\n")
    assert tail.read_new() == ["d-still-being-written"]
    tail.close()


def test_a_rotated_file_is_read_to_its_end_then_the_new_one_from_its_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cdr.csv"
    path.write_text("a\n")
    tail = CdrTail(path)
    assert tail.read_new() == ["a"]
    with path.open("a") as file:
        file.write("b\n")  # written just before the rotation
    path.replace(tmp_path / "cdr.csv.1")
    path.write_text("c\n")
    assert tail.read_new() == ["b", "c"]
    assert tail.read_new() == []
    tail.close()


def test_a_truncated_file_is_read_again_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "cdr.csv"
    path.write_text("a-long-line\nb-long-line\n")
    tail = CdrTail(path)
    assert len(tail.read_new()) == 2
    with path.open("r+") as file:
        file.truncate(0)
    with path.open("a") as file:
        file.write("c\n")
    assert tail.read_new() == ["c"]
    tail.close()


class CountingStore:
    """Remembers which ids it was asked about and what it was given."""

    def __init__(self, stored: set[str] | None = None) -> None:
        self.stored = set(stored or ())
        self.asked: list[set[str]] = []

    async def existing(self, ids: list[str]) -> set[str]:
        self.asked.append(set(ids))
        return self.stored & set(ids)

    async def insert_missing(self, calls: list[Call]) -> int:
        new = {call.channel_id for call in calls} - self.stored
        self.stored |= new
        return len(new)


async def test_each_round_asks_the_store_only_about_new_calls(tmp_path: Path) -> None:
    path = tmp_path / "cdr.csv"
    path.write_text(cdr_line("1.1") + cdr_line("2.2"))
    store = CountingStore(stored={"1.1"})
    reconciler = Reconciler(path, store, settle=timedelta(0))
    assert (await reconciler.round()).added == 1
    assert (await reconciler.round()).added == 0
    with path.open("a") as file:
        file.write(cdr_line("3.3", offset=60))
    assert (await reconciler.round()).added == 1
    assert store.asked == [{"1.1", "2.2"}, {"3.3"}]  # the second round asked nothing
    assert store.stored == {"1.1", "2.2", "3.3"}
    reconciler.close()


async def test_a_call_still_held_waits_for_a_later_round(tmp_path: Path) -> None:
    path = tmp_path / "cdr.csv"
    path.write_text(cdr_line("1.1"))
    store = CountingStore()
    held = {"1.1"}
    reconciler = Reconciler(path, store, is_active=held.__contains__, settle=timedelta(0))
    assert (await reconciler.round()).added == 0
    assert reconciler.pending == 1
    held.clear()
    assert (await reconciler.round()).added == 1
    assert reconciler.pending == 0
    reconciler.close()
