"""One bad CDR row is skipped, logged without its content and counted; the round goes on."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from pbx_bridge.reconcile.service import reconcile_file
from pbx_bridge.screening.model import Call
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.repository import CallRepository

NUMBER = "081299887766"


def cdr_line(uid: str, start: str = "1700000000.0", end: str = "1700000030.0") -> str:
    fields = [uid, uid, NUMBER, f'"Budi" <{NUMBER}>', start, "1700000001.0", end, "ANSWERED",
              "Queue", "queue-112", "PJSIP/trunk-112-0001", "speech"]  # fmt: skip
    return ",".join(f'"{value}"' for value in fields)


def bad_rows(reason: str) -> float:
    value = REGISTRY.get_sample_value("pbx_bridge_reconcile_bad_rows_total", {"reason": reason})
    return value or 0.0


async def test_malformed_rows_are_skipped_counted_and_logged_without_the_number(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    cdr = tmp_path / "cdr.csv"
    lines = [
        cdr_line("good-1"),
        cdr_line("nul-in-it").replace("Budi", "Bu\x00di"),
        cdr_line("end-out-of-range", end="1e400"),
        cdr_line("year-out-of-range", end="99999999999999"),
        '"too","few","fields"',
        cdr_line("good-2"),
    ]
    cdr.write_text("\n".join(lines) + "\n")
    before = bad_rows("malformed")
    with capture_logs() as logs:
        result = await reconcile_file(cdr, CallRepository(engine, judge_by(Thresholds())))
    assert result.added == 2
    assert bad_rows("malformed") - before == 4
    assert [e["line"] for e in logs if e["event"] == "reconcile.bad_row"] == [2, 3, 4, 5]
    assert NUMBER not in str(logs)


class RefusingStore:
    """A store that refuses one record (as PostgreSQL refuses a value too long for its column)."""

    def __init__(self) -> None:
        self.stored: list[str] = []

    async def existing(self, _ids: list[str]) -> set[str]:
        return set()

    async def insert_missing(self, calls: list[Call]) -> int:
        for call in calls:
            if call.channel_id == "refused":
                raise ValueError(f"value too long: {call.caller_number}")
            self.stored.append(call.channel_id)
        return len(calls)


async def test_a_row_the_store_refuses_does_not_stop_the_others(tmp_path: Path) -> None:
    cdr = tmp_path / "cdr.csv"
    cdr.write_text("\n".join(cdr_line(uid) for uid in ("a", "refused", "b")) + "\n")
    store = RefusingStore()
    before = bad_rows("refused")
    with capture_logs() as logs:
        result = await reconcile_file(cdr, cast("CallRepository", store))
    assert result.added == 2
    assert store.stored == ["a", "b"]
    assert bad_rows("refused") - before == 1
    assert NUMBER not in str(logs)
