"""A SIPp call taker's softphone leaves nothing behind: once stopped, its registration is gone,
so no later test finds the taker available by accident (astdb keeps contacts across restarts)."""

from __future__ import annotations

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.sipp.takers import TakerPhone
from tests.integration.conftest import ari_get

pytestmark = pytest.mark.integration


def endpoint_state(settings: Settings, taker: str) -> str:
    return str(ari_get(settings, f"/endpoints/PJSIP/{taker}")["state"])


def test_a_stopped_softphone_is_unregistered(settings: Settings) -> None:
    phone = TakerPhone(settings, "ct-03", calls=1)
    assert endpoint_state(settings, "ct-03") == "online"
    phone.stop(timeout=2)
    assert endpoint_state(settings, "ct-03") == "offline"
