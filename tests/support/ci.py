"""The rule for a part a test needs (Asterisk, SIPp, PostgreSQL, Chromium) that is missing: with
CI=true it fails the run loudly; on a developer's machine the test skips and says how to get it."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def missing(reason: str, *, tests: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the {tests} tests must run, not skip)")
    pytest.skip(reason)
