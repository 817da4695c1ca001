"""Caller numbers never reach a log line in clear."""

from __future__ import annotations

import json

import pytest
import structlog

from pbx_bridge.logging import configure_logging, mask_number


@pytest.mark.parametrize(
    ("number", "masked"),
    [("081234567890", "**********90"), ("112", "*12"), ("12", "**"), ("", "")],
)
def test_mask_number_keeps_only_the_last_two_digits(number: str, masked: str) -> None:
    assert mask_number(number) == masked


def test_json_logs_mask_the_caller_and_carry_the_call_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "info")
    structlog.contextvars.bind_contextvars(call_id="1795615700.0")
    try:
        structlog.get_logger("t").info("call.arrived", caller="081234567890")
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.reset_defaults()
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["caller"] == "**********90"
    assert line["call_id"] == "1795615700.0"
    assert "081234567890" not in json.dumps(line)
