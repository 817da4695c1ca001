"""`sandbox up` twice changes nothing; `sandbox down` leaves no process behind.

Named to run last: it takes the sandbox down and brings it back for nothing after it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pbx_bridge import sandbox
from pbx_bridge.config import Settings
from tests.integration.conftest import assert_no_channel_left

pytestmark = pytest.mark.integration


def test_up_twice_is_a_no_op_and_down_leaves_nothing(settings: Settings) -> None:
    first = sandbox.asterisk_pid(settings)
    assert first is not None
    assert sandbox.up(settings) == first
    assert sandbox.asterisk_pid(settings) == first
    assert_no_channel_left(settings)

    sandbox.down(settings)
    root = sandbox.root_dir(settings)
    assert sandbox.processes_in_root(root) == []
    assert sandbox.status(settings).running is False
    mounts = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
    assert str(root.resolve()) not in mounts

    again = sandbox.up(settings)
    assert again != first
    assert sandbox.status(settings).ari_answers
