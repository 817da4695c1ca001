"""The CLI's privacy side: tokens printed once, agencies checked, purges, audited clear views."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path

import pytest
from click.testing import CliRunner

from pbx_bridge.cli import main
from pbx_bridge.screening.outcome import judge_by
from pbx_bridge.screening.policy import Thresholds
from pbx_bridge.store.database import make_engine, migrate
from pbx_bridge.store.privacy import PrivacyRepository
from pbx_bridge.store.repository import CallRepository
from pbx_bridge.store.users import UserRepository
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


def _who(tmp_path: Path, token: str) -> str | None:
    async def identify() -> str | None:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        user = await UserRepository(engine).by_token(token)
        await engine.dispose()
        return None if user is None else user.name

    return asyncio.run(identify())


def test_users_revoke_and_rotate_end_the_old_token_and_rotate_prints_a_new_one(
    runner: CliRunner, tmp_path: Path
) -> None:
    first = runner.invoke(main, ["users", "add", "ct-07", "--role", "call_taker"]).stdout.strip()
    assert _who(tmp_path, first) == "ct-07"
    revoked = runner.invoke(main, ["users", "revoke", "ct-07"])
    assert revoked.exit_code == 0, revoked.output
    assert _who(tmp_path, first) is None
    assert "revoked" in runner.invoke(main, ["users", "list"]).stdout
    rotated = runner.invoke(main, ["users", "rotate", "ct-07"])
    assert rotated.exit_code == 0, rotated.output
    second = rotated.stdout.strip()
    assert second != first
    assert _who(tmp_path, second) == "ct-07"
    assert _who(tmp_path, first) is None
    unknown = runner.invoke(main, ["users", "revoke", "nobody"])
    assert unknown.exit_code == 2
    assert "no user named 'nobody'" in unknown.output


def test_users_add_with_expires_days_lists_the_expiry(runner: CliRunner) -> None:
    added = runner.invoke(
        main, ["users", "add", "temp", "--role", "supervisor", "--expires-days", "3"]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["users", "list"]).stdout
    assert "expires " in listed
    refused = runner.invoke(main, ["users", "add", "t2", "--role", "admin", "--expires-days", "0"])
    assert refused.exit_code == 2


def test_callbacks_show_numbers_is_audited_as_the_os_user(
    runner: CliRunner, tmp_path: Path
) -> None:
    """`pbx-bridge callbacks --show-numbers` leaves a number_views row per number shown."""

    async def seed() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        await migrate(engine)
        await CallRepository(engine, judge_by(Thresholds())).save(
            ended_call("c1")
        )  # gave up: a callback
        await engine.dispose()

    async def audit() -> list[tuple[str, str, str]]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        views = await PrivacyRepository(engine).views()
        await engine.dispose()
        return [(v.who, v.call_id, v.why) for v in views]

    asyncio.run(seed())
    masked = runner.invoke(main, ["callbacks"])
    assert "**********90" in masked.stdout
    assert asyncio.run(audit()) == []
    clear = runner.invoke(main, ["callbacks", "--show-numbers"])
    assert "081234567890" in clear.stdout
    who = f"cli:{getpass.getuser()}"
    assert asyncio.run(audit()) == [(who, "c1", "pbx-bridge callbacks --show-numbers")]
