"""A durable spool of call records the database could not take: one JSON line per call.

Appends are fsync'd before they return, so a record the store refused survives a crash or a
restart. Records leave the spool oldest first, only after the database took them: the spool
keeps the byte offset of its oldest record in `<name>.head` (fsync'd) and moves it forward, so
draining costs what it drains, never a rewrite of what is left (appends wait on the same lock).
The file is emptied once everything in it is drained, and compacted when the drained part
outgrows the rest. Lines that cannot be read back (a write torn by a crash, a record the
database refuses) are set aside in `<name>.rejected.jsonl` for an operator, never dropped and
never allowed to block the rest.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import structlog

from pbx_bridge.private_files import private_dir
from pbx_bridge.screening.model import Call
from pbx_bridge.store.call_json import call_from_json, call_to_json
from pbx_bridge.store.number_files import purge_jsonl

log = structlog.get_logger(__name__)

FORMAT_VERSION = 1


def _fsync_dir(folder: Path) -> None:
    # A new or renamed file is durable only once its directory entry is.
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _read_lines(path: Path, offset: int = 0, limit: int | None = None) -> list[str]:
    """Lines from `offset` on (at most `limit`), each with its newline if it has one."""
    if not path.exists():
        return []
    lines: list[str] = []
    with path.open("rb") as file:
        file.seek(offset)
        for raw in file:
            if limit is not None and len(lines) >= limit:
                break
            # surrogateescape: a line encodes back to its very bytes, so offsets stay exact.
            lines.append(raw.decode("utf-8", errors="surrogateescape"))
    return lines


def _append_lines(path: Path, lines: list[str]) -> None:
    created = not path.exists()
    with path.open("a", encoding="utf-8", errors="surrogateescape") as file:
        file.writelines(lines)
        file.flush()
        os.fsync(file.fileno())
    if created:
        _fsync_dir(path.parent)


def _replace(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8", errors="surrogateescape") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    partial.replace(path)
    _fsync_dir(path.parent)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _read_head(path: Path) -> int:
    try:
        return int(path.read_text(encoding="ascii").strip() or "0")
    except (FileNotFoundError, ValueError):
        return 0


def _truncate(path: Path) -> None:
    with path.open("r+b") as file:
        file.truncate(0)
        os.fsync(file.fileno())


def _decode(line: str) -> Call | None:
    if not line.endswith("\n"):
        return None  # torn by a crash mid-write
    try:
        return call_from_json(json.loads(line)["call"])
    except (ValueError, KeyError, TypeError):
        return None


def encode(call: Call) -> str:
    entry = {"v": FORMAT_VERSION, "spooled_at": datetime.now(UTC).isoformat()}
    return json.dumps({**entry, "call": call_to_json(call)}, ensure_ascii=False) + "\n"


class CallSpool:
    """The spool file; one instance per file, its operations serialised by a lock."""

    def __init__(self, path: Path, depth: int) -> None:
        self.path = path
        self.rejected_path = path.with_name(path.stem + ".rejected.jsonl")
        self.head_path = path.with_name(path.name + ".head")
        self._depth = depth
        self._head = 0  # byte offset of the oldest record still waiting
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> CallSpool:
        """Open (or create the folder for) the spool; what an earlier run left is kept."""
        # 0700: the spooled records hold callers' numbers.
        await asyncio.to_thread(private_dir, path.parent)
        spool = cls(path, 0)
        async with spool._lock:
            head = await asyncio.to_thread(_read_head, spool.head_path)
            if head > await asyncio.to_thread(_size, path):
                head = 0  # a crash between emptying the file and resetting its head
            lines = await asyncio.to_thread(_read_lines, path, head)
            kept = [line for line in lines if _decode(line) is not None]
            if len(kept) != len(lines):
                await spool._set_aside([line for line in lines if _decode(line) is None])
                await spool._rewrite("".join(kept))
            else:
                spool._head = head
            spool._depth = len(kept)
        if spool._depth:
            log.warning("spool.found_records", depth=spool._depth, path=str(path))
        return spool

    @property
    def depth(self) -> int:
        """How many records wait for the database."""
        return self._depth

    async def append(self, call: Call) -> None:
        """Add the call at the end; durable (fsync'd) when this returns."""
        line = encode(call)
        async with self._lock:
            await asyncio.to_thread(_append_lines, self.path, [line])
            self._depth += 1

    async def _set_aside(self, lines: list[str]) -> None:
        whole = [line if line.endswith("\n") else line + "\n" for line in lines]
        await asyncio.to_thread(_append_lines, self.rejected_path, whole)
        log.error("spool.set_aside", count=len(lines), path=str(self.rejected_path))

    async def _rewrite(self, text: str) -> None:
        """The file holds only `text` (what still waits); its head is 0. Under the lock.

        The head is reset first: a crash between the two writes then drains some records
        twice (saving is a merge, in order), never skips one.
        """
        await asyncio.to_thread(_replace, self.head_path, "0\n")
        await asyncio.to_thread(_replace, self.path, text)
        self._head = 0

    async def _advance(self, lines: list[str]) -> None:
        """The head moves past `lines` (read at the head). Under the lock."""
        self._head += sum(len(line.encode("utf-8", errors="surrogateescape")) for line in lines)
        self._depth -= len(lines)
        size = await asyncio.to_thread(_size, self.path)
        if self._depth <= 0 or self._head >= size:
            # All drained: empty the file first; a crash before the head is reset leaves a head
            # past the end, which open() reads as 0.
            await asyncio.to_thread(_truncate, self.path)
            await asyncio.to_thread(_replace, self.head_path, "0\n")
            self._head, self._depth = 0, 0
        elif self._head > size - self._head:
            # The drained part outgrew the rest: copying the rest costs no more than was drained.
            rest = await asyncio.to_thread(_read_lines, self.path, self._head)
            await self._rewrite("".join(rest))
        else:
            await asyncio.to_thread(_replace, self.head_path, f"{self._head}\n")

    async def oldest(self, limit: int) -> list[Call]:
        """Up to `limit` records, oldest first, without removing them."""
        async with self._lock:
            lines = await asyncio.to_thread(_read_lines, self.path, self._head, limit)
        calls: list[Call] = []
        for line in lines:
            call = _decode(line)
            if call is None:  # cannot happen: open() set such lines aside, we append good ones
                break
            calls.append(call)
        return calls

    async def remove_oldest(self, count: int) -> None:
        """Drop the `count` oldest records: the database has them."""
        if count <= 0:
            return
        async with self._lock:
            lines = await asyncio.to_thread(_read_lines, self.path, self._head, count)
            await self._advance(lines)

    async def reject_oldest(self) -> None:
        """Set the oldest record aside: the database answers but refuses it."""
        async with self._lock:
            lines = await asyncio.to_thread(_read_lines, self.path, self._head, 1)
            if not lines:
                return
            await self._set_aside(lines)
            await self._advance(lines)

    async def purge_numbers(self, cutoff: datetime) -> int:
        """Blank the numbers of calls older than `cutoff` in the spool and the rejected file
        (the retention applies to these copies too). Returns the lines changed."""
        async with self._lock:
            if self._head:
                # The purge rewrites lines to other lengths: drop the drained part first, so
                # the head (0) stays on a line boundary and no drained copy keeps a number.
                rest = await asyncio.to_thread(_read_lines, self.path, self._head)
                await self._rewrite("".join(rest))
            changed = await asyncio.to_thread(purge_jsonl, self.path, cutoff)
            changed += await asyncio.to_thread(purge_jsonl, self.rejected_path, cutoff)
        if changed:
            await asyncio.to_thread(_fsync_dir, self.path.parent)
        return changed
