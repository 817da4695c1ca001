"""`pbx-bridge users` and `purge-numbers`: tokens printed once, stored hashed; agency checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pbx_bridge.cli import main


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
