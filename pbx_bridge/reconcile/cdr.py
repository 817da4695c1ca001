"""Asterisk's CDR lines (cdr_custom.conf) -> calls with a timeline the policy can classify.

Pure: parsing and the mapping to a Call. The file is read by the service.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from pbx_bridge.screening import timeline as kind
from pbx_bridge.screening.model import Call, Phase, QueueReason, TimelineEntry
from pbx_bridge.screening.wire import FALLBACK, parse_userfield

COLUMNS = (
    "uniqueid", "linkedid", "src", "clid", "start", "answer", "end",
    "disposition", "lastapp", "dcontext", "channel", "userfield",
)  # fmt: skip
TRUNK_CONTEXTS = frozenset({"from-trunk", "queue-112"})


@dataclass(frozen=True)
class CdrLeg:
    uniqueid: str
    src: str
    name: str
    start: datetime
    answer: datetime | None
    end: datetime
    lastapp: str
    dcontext: str
    userfield: str


def _epoch(value: str) -> datetime | None:
    try:
        seconds = float(value)
    except ValueError:
        return None
    return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None


def _name(clid: str) -> str:
    """The nickname from a caller id like '"Budi" <0812...>'."""
    if clid.startswith('"') and '"' in clid[1:]:
        return clid[1 : clid.index('"', 1)]
    return ""


class BadRow(ValueError):
    """A CDR line that cannot be a call leg; the message never holds the line's content."""


# What a bad line raises: a NUL (csv.Error), a time out of datetime's range (ValueError,
# OverflowError, OSError), or a missing piece (BadRow).
ROW_ERRORS = (csv.Error, ValueError, OverflowError, OSError)


def _leg(line: str) -> CdrLeg | None:
    """The caller leg of one line, None for a leg that is not a caller's, BadRow if malformed."""
    (row,) = csv.reader([line])
    if len(row) != len(COLUMNS):
        raise BadRow(f"{len(row)} fields, not {len(COLUMNS)}")
    fields = dict(zip(COLUMNS, row, strict=True))
    if fields["dcontext"] not in TRUNK_CONTEXTS:
        return None
    start, end = _epoch(fields["start"]), _epoch(fields["end"])
    if start is None or end is None:
        raise BadRow("no start or end time")
    if not fields["uniqueid"] or any("\x00" in value for value in row):
        raise BadRow("no uniqueid, or a NUL")
    return CdrLeg(
        uniqueid=fields["uniqueid"],
        src=fields["src"].strip(),  # the retention purge blanks it with spaces
        name=_name(fields["clid"]),
        start=start,
        answer=_epoch(fields["answer"]),
        end=end,
        lastapp=fields["lastapp"],
        dcontext=fields["dcontext"],
        userfield=fields["userfield"],
    )


def _ignore(_line_number: int, _reason: str) -> None:
    return None


def parse(lines: Iterable[str], on_bad_row: Callable[[int, str], None] = _ignore) -> list[CdrLeg]:
    """Parse CDR CSV lines into caller legs. Other legs are skipped; a malformed line is
    skipped and reported as (line number, reason) to `on_bad_row`: one bad row never stops
    the others from being read."""
    legs = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            leg = _leg(line)
        except ROW_ERRORS as error:
            on_bad_row(
                number,
                f"{type(error).__name__}: {error}"
                if isinstance(error, BadRow)
                else type(error).__name__,
            )
            continue
        if leg is not None:
            legs.append(leg)
    return legs


def merge_legs(legs: Iterable[CdrLeg]) -> dict[str, CdrLeg]:
    """One leg per channel: the earliest start, the first answer, the latest end."""
    merged: dict[str, CdrLeg] = {}
    for leg in legs:
        seen = merged.get(leg.uniqueid)
        if seen is None:
            merged[leg.uniqueid] = leg
            continue
        answers = [a for a in (seen.answer, leg.answer) if a is not None]
        latest = leg if leg.end >= seen.end else seen
        merged[leg.uniqueid] = CdrLeg(
            uniqueid=leg.uniqueid,
            src=seen.src or leg.src,
            name=seen.name or leg.name,
            start=min(seen.start, leg.start),
            answer=min(answers) if answers else None,
            end=latest.end,
            lastapp=latest.lastapp,
            dcontext=latest.dcontext,
            userfield=seen.userfield or leg.userfield,
        )
    return merged


def _screening_entries(leg: CdrLeg, at: datetime) -> list[TimelineEntry]:
    """What the userfield and the last application say about screening and the queue."""
    userfield = parse_userfield(leg.userfield)
    reason = FALLBACK if userfield.fallback else userfield.reason
    entries = []
    if reason == QueueReason.PRESSED_55:
        entries.append(TimelineEntry(at, kind.PRESSED_55, "cdr"))
    elif reason == QueueReason.SILENT:
        entries.append(TimelineEntry(at, kind.SILENT, "cdr"))
    elif reason == QueueReason.SPEECH:
        entries.append(TimelineEntry(at, kind.SPEECH, "cdr"))
    if reason or leg.lastapp == "Queue":
        entries.append(TimelineEntry(at, kind.QUEUED, reason or "dialplan"))
    return entries


def to_call(leg: CdrLeg) -> Call:
    """A call record made from Asterisk's CDR alone (flagged by a "reconciled" entry)."""
    timeline = [TimelineEntry(leg.start, kind.ARRIVED, "cdr")]
    if leg.answer is not None:
        timeline.append(TimelineEntry(leg.answer, kind.ANSWERED, "cdr"))
        timeline += _screening_entries(leg, leg.answer)
    timeline.append(TimelineEntry(leg.end, kind.HUNG_UP, "cdr"))
    timeline.append(TimelineEntry(leg.end, kind.RECONCILED, "cdr"))
    reason = parse_userfield(leg.userfield).reason
    return Call(
        channel_id=leg.uniqueid,
        caller_number=leg.src,
        caller_name=leg.name,
        arrived_at=leg.start,
        phase=Phase.ENDED,
        answered_at=leg.answer,
        ended_at=leg.end,
        hangup_cause=None,
        in_stasis=False,
        cannot_speak=reason == QueueReason.PRESSED_55,
        silent=reason == QueueReason.SILENT,
        queue_reason=QueueReason(reason) if reason in set(QueueReason) else None,
        timeline=tuple(timeline),
    )
