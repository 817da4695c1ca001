"""Waiting for what a real Asterisk, SIPp or controller will do: a condition polled until it
holds, failing with what was awaited."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def wait_until(predicate: Callable[[], object], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"not within {within} s: {what}")
