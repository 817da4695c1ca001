"""Files and folders that hold secrets or callers' numbers, created with their final mode.

A file written, then chmod'ed, is readable by anyone between the two; a folder made with the
default mode lets anyone list (and, with a lax umask, read) what lands in it before it is fixed.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

SECRET_FILE = 0o600  # secrets the controller alone reads (sandbox.env)
CONFIG_FILE = 0o640  # Asterisk configs with credentials: root and the asterisk group
PRIVATE_DIR = 0o700  # the state folder: the database, the spool


def write_private(path: Path, text: str, mode: int = SECRET_FILE) -> None:
    """Write text to path, created with `mode` from its first byte (the umask can only narrow
    it), and put it in place atomically: an existing file's laxer mode is never kept."""
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        staging.replace(path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise


def private_dir(path: Path) -> Path:
    """The folder, and each missing folder above it, made with mode 0700."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    return path
