"""The CLI's privacy side: tokens printed once, agencies checked, purges, audited clear views."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from pbx_bridge.cli import main
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.database import make_engine, migrate
from pbx_bridge.store.privacy import PrivacyRepository
from pbx_bridge.store.repository import CallRepository
from tests.support.calls import ended_call


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PBX_BRIDGE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PBX_BRIDGE_CONFIG", str(tmp_path / "none.env"))
    return CliRunner()


def test_users_add_prints_a_token_once_and_list_never_shows_it(runner: CliRunner) -> None:
    added = runner.invoke(main, ["users", "add", "sari", "--role", "agency", "--agency", "dinkes"])
    assert added.exit_code == 0, added.output
    token = added.stdout.strip()
    assert len(token) >= 40
    listed = runner.invoke(main, ["users", "list"])
    assert "sari" in listed.stdout
    assert "dinkes" in listed.stdout
    assert token not in listed.stdout
    again = runner.invoke(main, ["users", "add", "sari", "--role", "supervisor"])
    assert again.exit_code == 2
    assert "exists" in again.output


def test_users_add_checks_the_agency(runner: CliRunner) -> None:
    unknown = runner.invoke(main, ["users", "add", "x", "--role", "agency", "--agency", "army"])
    assert unknown.exit_code == 2
    assert "damkar" in unknown.output
    missing = runner.invoke(main, ["users", "add", "x", "--role", "agency"])
    assert missing.exit_code == 2


def test_purge_numbers_reports_what_it_blanked(runner: CliRunner) -> None:
    result = runner.invoke(main, ["purge-numbers", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "older than 30 days" in result.output


def test_calls_show_numbers_is_audited(runner: CliRunner, tmp_path: Path) -> None:
    """`pbx-bridge calls --show-numbers` leaves one number_views row per number shown."""

    async def seed() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        await migrate(engine)
        await CallRepository(engine, judge_by(Thresholds())).save(ended_call("c1"))
        await engine.dispose()

    async def audit() -> list[str]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        views = await PrivacyRepository(engine).views()
        await engine.dispose()
        return [f"{v.call_id} {v.why}" for v in views]

    asyncio.run(seed())
    masked = runner.invoke(main, ["calls"])
    assert "**********90" in masked.stdout
    assert asyncio.run(audit()) == []
    clear = runner.invoke(main, ["calls", "--show-numbers"])
    assert "081234567890" in clear.stdout
    assert asyncio.run(audit()) == ["c1 pbx-bridge calls --show-numbers"]
