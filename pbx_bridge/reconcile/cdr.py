"""Asterisk's CDR lines (cdr_custom.conf) -> calls with a timeline the policy can classify.

Pure: parsing and the mapping to a Call. The file is read by the service.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from pbx_bridge.screening import timeline as kind
from pbx_bridge.screening.model import Call, Phase, QueueReason, TimelineEntry
from pbx_bridge.screening.wire import FALLBACK, parse_userfield

COLUMNS = (
    "uniqueid", "linkedid", "src", "clid", "start", "answer", "end",
    "disposition", "lastapp", "dcontext", "channel", "userfield", "dstchannel",
)  # fmt: skip
# Lines written before dstchannel was mapped have the first twelve columns only.
OLD_COLUMNS = COLUMNS[:12]
TRUNK_CONTEXTS = frozenset({"from-trunk", "queue-112"})
# A leg to a call taker: "ANSWERED" with the taker's channel (with unanswered = yes, a ring
# nobody answered is its own leg, "NO ANSWER"). A leg without a dstchannel is "ANSWERED"
# when only we answered the caller.
TAKER_ANSWERED = "ANSWERED"
# chan_pjsip names a channel <endpoint>-<8 hex digits>; the endpoint is the taker's id.
_TAKER_CHANNEL = re.compile(r"PJSIP/([A-Za-z0-9][A-Za-z0-9-]{0,39})-[0-9a-f]{8}")


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
    agent: str = ""  # the call taker who answered, from a leg's dstchannel
    agent_leg_start: datetime | None = None  # when that leg began (the ring, at the latest)


def taker_from_channel(channel: str) -> str:
    """The call taker's id from their channel's name ("PJSIP/ct-01-0000000a"), or ""."""
    match = _TAKER_CHANNEL.fullmatch(channel)
    return match.group(1) if match else ""


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
    """The caller leg of one line, None for a leg that is not a caller's, BadRow if malformed.
    Lines written before dstchannel was mapped have its first twelve columns only."""
    (row,) = csv.reader([line])
    if len(row) not in (len(COLUMNS), len(OLD_COLUMNS)):
        raise BadRow(f"{len(row)} fields, not {len(COLUMNS)}")
    fields = dict(zip(COLUMNS, row, strict=False))
    if fields["dcontext"] not in TRUNK_CONTEXTS:
        return None
    start, end = _epoch(fields["start"]), _epoch(fields["end"])
    if start is None or end is None:
        raise BadRow("no start or end time")
    if not fields["uniqueid"] or any("\x00" in value for value in row):
        raise BadRow("no uniqueid, or a NUL")
    answered = fields["disposition"] == TAKER_ANSWERED
    agent = taker_from_channel(fields.get("dstchannel", "")) if answered else ""
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
        agent=agent,
        agent_leg_start=start if agent else None,
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
        taken = [x for x in (seen, leg) if x.agent and x.agent_leg_start is not None]
        first_taken = min(taken, key=lambda x: x.agent_leg_start or x.start, default=None)
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
            agent=first_taken.agent if first_taken else "",
            agent_leg_start=first_taken.agent_leg_start if first_taken else None,
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
    if leg.agent and leg.agent_leg_start is not None:
        # The CDR says who answered, not when (its times are the caller's): the entry stands
        # at the start of the taker's leg and the record's connected_at stays unknown, so the
        # answer-time statistics never count a guess.
        entries.append(TimelineEntry(max(at, leg.agent_leg_start), kind.AGENT_CONNECTED, leg.agent))
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
        agent=leg.agent if leg.answer is not None else "",
        timeline=tuple(timeline),
    )
