"""PBX_BRIDGE_SCREENING: one format, written by the controller, cut by the dialplan, read back
from the CDR. These tests hold the three places to the one definition in screening/wire.py."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbx_bridge.paths import dialplans_dir
from pbx_bridge.screening.model import QueueReason
from pbx_bridge.screening.wire import (
    FALLBACK,
    VARIABLE,
    Screening,
    Userfield,
    WireFormatError,
    decode,
    encode,
    parse_userfield,
)

words = st.from_regex(r"[a-z0-9_]{1,12}", fullmatch=True)
screenings = st.builds(
    Screening,
    priority=st.integers(0, 1000),
    reason=st.sampled_from([str(reason) for reason in QueueReason]) | words,
    flags=st.tuples() | st.lists(words, max_size=3).map(tuple),
)


def dialplan_cut(value: str, field: int) -> str:
    """Asterisk's CUT(var,/,field): the field-th piece between slashes ("" past the end)."""
    pieces = value.split("/")
    return pieces[field - 1] if field <= len(pieces) else ""


def queue_context_cuts() -> dict[str, int]:
    """Which CUT field of PBX_BRIDGE_SCREENING the dialplan puts into QUEUE_PRIO and userfield."""
    text = (dialplans_dir() / "extensions.conf").read_text()
    found: dict[str, int] = {}
    for target in ("CDR(userfield)", "QUEUE_PRIO"):
        line = next(line for line in text.splitlines() if f"Set({target}=" in line)
        match = re.search(rf"CUT\({VARIABLE},(.),(\d)\)", line)
        assert match, f"the dialplan no longer cuts {VARIABLE} into {target}: {line}"
        assert match.group(1) == "/", f"the dialplan cuts {VARIABLE} at {match.group(1)!r}"
        found[target] = int(match.group(2))
    return found


@given(screenings)
def test_what_the_controller_encodes_decodes_to_the_same_screening(screening: Screening) -> None:
    assert decode(encode(screening)) == screening


@given(screenings)
def test_the_dialplans_cuts_give_queue_prio_and_a_userfield_the_reconciler_reads(
    screening: Screening,
) -> None:
    value = encode(screening)
    cuts = queue_context_cuts()
    assert int(dialplan_cut(value, cuts["QUEUE_PRIO"])) == screening.priority
    userfield = dialplan_cut(value, cuts["CDR(userfield)"])
    assert parse_userfield(userfield) == Userfield(screening.reason, screening.flags)


def test_the_dialplan_writes_the_fallback_word_the_reconciler_knows() -> None:
    text = (dialplans_dir() / "extensions.conf").read_text()
    assert f"?{FALLBACK}:" in text
    assert parse_userfield(FALLBACK) == Userfield(fallback=True)


def test_a_55_caller_travels_as_documented() -> None:
    assert encode(Screening(10, "pressed_55", ("cannot_speak",))) == "10/pressed_55,cannot_speak"


@pytest.mark.parametrize(
    "bad",
    [
        Screening(5, "speech/x"),
        Screening(5, "speech", ("a,b",)),
        Screening(5, "Speech"),
        Screening(5, ""),
        Screening(-1, "speech"),
    ],
)
def test_a_value_that_would_break_the_dialplans_cut_is_refused(bad: Screening) -> None:
    with pytest.raises(WireFormatError):
        encode(bad)


@pytest.mark.parametrize("junk", ["", "x", "5", "/speech", "a/b/c", "5/Speech"])
def test_junk_does_not_decode(junk: str) -> None:
    with pytest.raises(WireFormatError):
        decode(junk)


@pytest.mark.parametrize("junk", ["", "speech;drop", "sp eech", '"x"', "speech,"])
def test_a_userfield_that_is_not_ours_reads_as_no_screening(junk: str) -> None:
    assert parse_userfield(junk) == Userfield()
