"""The screening result as it travels to the dialplan, and back from Asterisk's CDR.

One channel variable carries it: PBX_BRIDGE_SCREENING = "<QUEUE_PRIO>/<reason>[,<flag>...]",
e.g. "10/pressed_55,cannot_speak". The dialplan ([queue-112] in dialplans/extensions.conf) cuts it
at "/": field 1 becomes QUEUE_PRIO, field 2 the CDR's userfield, or "fallback" when the call never
reached the controller. The reconciler reads that userfield back. This module is the one
definition of both shapes; tests/unit/test_wire.py checks it against the dialplan's CUTs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VARIABLE = "PBX_BRIDGE_SCREENING"
FALLBACK = "fallback"  # the userfield of a call the dialplan queued by itself
PRIORITY_SEPARATOR = "/"  # CUT(PBX_BRIDGE_SCREENING,/,1) and CUT(...,/,2) in the dialplan
FLAG_SEPARATOR = ","
# A word of the format: no separator, nothing the dialplan or a CSV line would read otherwise.
_WORD = re.compile(r"[a-z0-9_]+")


class WireFormatError(ValueError):
    """A value that does not fit the wire format (a bug in the caller, never a caller's input)."""


@dataclass(frozen=True)
class Screening:
    priority: int
    reason: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Userfield:
    """What the CDR's userfield says about a call: its screening reason, or that it fell back."""

    reason: str = ""
    flags: tuple[str, ...] = ()
    fallback: bool = False


def _word(value: str) -> str:
    if not _WORD.fullmatch(value):
        raise WireFormatError(f"{value!r} is not a word of PBX_BRIDGE_SCREENING ([a-z0-9_]+)")
    return value


def encode(screening: Screening) -> str:
    """The value of PBX_BRIDGE_SCREENING for this screening result."""
    if not 0 <= screening.priority <= 1000:
        raise WireFormatError(f"queue priority {screening.priority} is outside 0..1000")
    words = [_word(str(screening.reason)), *(_word(str(flag)) for flag in screening.flags)]
    return f"{screening.priority}{PRIORITY_SEPARATOR}{FLAG_SEPARATOR.join(words)}"


def decode(value: str) -> Screening:
    """PBX_BRIDGE_SCREENING back into its parts (the inverse of `encode`)."""
    priority, separator, rest = value.partition(PRIORITY_SEPARATOR)
    if not separator or not priority.isdigit():
        raise WireFormatError(f"{value!r} is not <priority>/<reason>[,<flag>...]")
    reason, *flags = rest.split(FLAG_SEPARATOR)
    return Screening(int(priority), _word(reason), tuple(_word(flag) for flag in flags))


def parse_userfield(text: str) -> Userfield:
    """The CDR userfield the dialplan wrote: "fallback", "<reason>[,<flag>...]" or empty.

    It comes from a file Asterisk writes, so anything else reads as "no screening known".
    """
    if text == FALLBACK:
        return Userfield(fallback=True)
    reason, *flags = text.split(FLAG_SEPARATOR)
    if not all(_WORD.fullmatch(word) for word in (reason, *flags)):
        return Userfield()
    return Userfield(reason, tuple(flags))
