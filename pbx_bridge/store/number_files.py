"""The caller's number outside the database, blanked after the retention like the rows are:
spooled and rejected call records (JSON lines), and Asterisk's CDR file (cdr_custom.conf).

Blocking file I/O: callers run these in a thread.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

# The Call fields that hold or lead to the caller's number (a SIP Call-ID carries the host).
NUMBER_FIELDS = ("caller_number", "caller_name", "sip_call_id")
_SPOOLED_AT = re.compile(r'"spooled_at": "([^"]+)"')
_DIGIT_RUN = re.compile(r"\d{7,}")  # a phone number; dates and times have shorter runs


def _arrived_before(call: dict[str, object], cutoff: datetime) -> bool:
    arrived = call.get("arrived_at")
    if not isinstance(arrived, str):
        return False
    try:
        return datetime.fromisoformat(arrived) < cutoff
    except ValueError:
        return False


def _purged_line(line: str, cutoff: datetime) -> str:
    """The line without the number when its call is older than `cutoff`; else unchanged."""
    try:
        entry = json.loads(line)
        call = entry["call"]
    except (ValueError, KeyError, TypeError):
        # Torn by a crash: if it was spooled before the cutoff, its call is older still.
        spooled = _SPOOLED_AT.search(line)
        try:
            old = spooled is not None and datetime.fromisoformat(spooled.group(1)) < cutoff
        except ValueError:
            old = False
        return _DIGIT_RUN.sub("", line) if old else line
    if not isinstance(call, dict) or not _arrived_before(call, cutoff):
        return line
    if not any(call.get(name) for name in NUMBER_FIELDS):
        return line
    call.update(dict.fromkeys(NUMBER_FIELDS, ""))
    ending = "\n" if line.endswith("\n") else ""
    return json.dumps(entry, ensure_ascii=False) + ending


def purge_jsonl(path: Path, cutoff: datetime) -> int:
    """Rewrite the JSON-lines file without the numbers of calls older than `cutoff`.

    Returns how many lines changed; the file is replaced atomically, and only if one did.
    The caller holds whatever lock the file's writer uses.
    """
    if not path.exists():
        return 0
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    purged = [_purged_line(line, cutoff) for line in lines]
    changed = sum(old != new for old, new in zip(lines, purged, strict=True))
    if changed:
        partial = path.with_name(path.name + ".purging")
        with partial.open("w", encoding="utf-8") as file:
            file.writelines(purged)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(path)
    return changed


# --- Asterisk's CDR: cdr_custom.conf quotes every field ("..."), a quote inside doubled.
CDR_FIELDS = 12  # at least: later mappings add fields at the end (dstchannel)
CDR_SRC, CDR_CLID, CDR_START = 2, 3, 4


def _field_spans(line: bytes) -> list[tuple[int, int]] | None:
    """Where each quoted field's content starts and ends in the line; None if not a CDR line."""
    spans = []
    end = len(line.rstrip(b"\r\n"))
    at = 0
    while at < end:
        if line[at : at + 1] != b'"':
            return None
        start = at = at + 1
        while True:
            quote = line.find(b'"', at, end)
            if quote < 0:
                return None
            if line[quote + 1 : quote + 2] == b'"':
                at = quote + 2  # a doubled quote inside the field
                continue
            break
        spans.append((start, quote))
        at = quote + 1
        if at < end:
            if line[at : at + 1] != b",":
                return None
            at += 1
    return spans


def purge_cdr(path: Path, cutoff: datetime) -> int:
    """Blank src and clid (the number, the name) of CDR lines for calls started before `cutoff`.

    In place, with spaces of the same length: Asterisk appends to this file at any moment, and
    a rewrite-and-rename could lose a line it wrote meanwhile; writing inside lines it has
    finished cannot. Reconciliation reads a blanked src as no number. Returns lines blanked.
    """
    if not path.exists():
        return 0
    limit = cutoff.timestamp()
    blanked = 0
    with path.open("r+b") as file:
        descriptor = file.fileno()
        offset = 0
        for line in iter(file.readline, b""):
            spans = _field_spans(line)
            if spans is not None and len(spans) >= CDR_FIELDS:
                start = line[slice(*spans[CDR_START])]
                try:
                    old = 0 < float(start) < limit
                except ValueError:
                    old = False
                fields = [spans[CDR_SRC], spans[CDR_CLID]]
                if old and any(line[slice(*span)].strip() for span in fields):
                    for begin, finish in fields:
                        os.pwrite(descriptor, b" " * (finish - begin), offset + begin)
                    blanked += 1
            offset += len(line)
        if blanked:
            os.fsync(descriptor)
    return blanked
