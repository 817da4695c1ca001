"""A durable spool of call records the database could not take: one JSON line per call.

Appends are fsync'd before they return, so a record the store refused survives a crash or a
restart. Records leave the spool oldest first, only after the database took them. Lines that
cannot be read back (a write torn by a crash, a record the database refuses) are set aside in
`<name>.rejected.jsonl` for an operator, never dropped and never allowed to block the rest.
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


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _append_lines(path: Path, lines: list[str]) -> None:
    created = not path.exists()
    with path.open("a", encoding="utf-8") as file:
        file.writelines(lines)
        file.flush()
        os.fsync(file.fileno())
    if created:
        _fsync_dir(path.parent)


def _replace(path: Path, lines: list[str]) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as file:
        file.writelines(lines)
        file.flush()
        os.fsync(file.fileno())
    partial.replace(path)
    _fsync_dir(path.parent)


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
        self._depth = depth
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> CallSpool:
        """Open (or create the folder for) the spool; what an earlier run left is kept."""
        # 0700: the spooled records hold callers' numbers.
        await asyncio.to_thread(private_dir, path.parent)
        spool = cls(path, 0)
        async with spool._lock:
            lines = await asyncio.to_thread(_read_lines, path)
            kept = [line for line in lines if _decode(line) is not None]
            if len(kept) != len(lines):
                await spool._set_aside([line for line in lines if _decode(line) is None])
                await asyncio.to_thread(_replace, path, kept)
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

    async def oldest(self, limit: int) -> list[Call]:
        """Up to `limit` records, oldest first, without removing them."""
        async with self._lock:
            lines = await asyncio.to_thread(_read_lines, self.path)
        calls: list[Call] = []
        for line in lines[:limit]:
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
            lines = await asyncio.to_thread(_read_lines, self.path)
            await asyncio.to_thread(_replace, self.path, lines[count:])
            self._depth = len(lines) - min(count, len(lines))

    async def reject_oldest(self) -> None:
        """Set the oldest record aside: the database answers but refuses it."""
        async with self._lock:
            lines = await asyncio.to_thread(_read_lines, self.path)
            if not lines:
                return
            await self._set_aside(lines[:1])
            await asyncio.to_thread(_replace, self.path, lines[1:])
            self._depth = len(lines) - 1

    async def purge_numbers(self, cutoff: datetime) -> int:
        """Blank the numbers of calls older than `cutoff` in the spool and the rejected file
        (the retention applies to these copies too). Returns the lines changed."""
        async with self._lock:
            changed = await asyncio.to_thread(purge_jsonl, self.path, cutoff)
            changed += await asyncio.to_thread(purge_jsonl, self.rejected_path, cutoff)
        if changed:
            await asyncio.to_thread(_fsync_dir, self.path.parent)
        return changed
