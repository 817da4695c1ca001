"""The lines Asterisk appended to its CDR file since the last read (like `tail -F`).

Remembers the file (device and inode) and the byte offset after the last complete line. A
partial last line is left for the next read; a truncated file is read again from its start; a
rotated one (renamed, a new file in its place) is read to its end through the open handle,
then the new file from its start.

Blocking file I/O: callers run `read_new` in a thread, one read at a time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO


class CdrTail:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._identity: tuple[int, int] | None = None
        self._offset = 0

    @property
    def offset(self) -> int:
        """Bytes of the current file read so far (complete lines only)."""
        return self._offset

    def read_new(self) -> list[str]:
        """Complete lines appended since the last call, oldest first."""
        lines = self._read_open() if self._file is not None else []
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return lines
        if (status.st_dev, status.st_ino) != self._identity:
            self.close()
            try:
                self._file = self.path.open("rb")
            except FileNotFoundError:  # rotated again between stat and open
                return lines
            opened = os.fstat(self._file.fileno())
            self._identity = (opened.st_dev, opened.st_ino)
            lines += self._read_open()
        return lines

    def _read_open(self) -> list[str]:
        file = self._file
        assert file is not None  # noqa: S101 - callers check
        if os.fstat(file.fileno()).st_size < self._offset:
            self._offset = 0  # truncated: what is there now is new
        file.seek(self._offset)
        data = file.read()
        complete = data[: data.rfind(b"\n") + 1]  # a partial last line waits for its end
        self._offset += len(complete)
        return complete.decode("utf-8", errors="replace").splitlines()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self._identity, self._offset = None, None, 0
