"""Bad configuration stops start-up with one clear line naming the setting, no traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from pbx_bridge.config import Settings
from tests.integration.conftest import PBX_BRIDGE, assert_no_channel_left, controller_env

pytestmark = pytest.mark.integration


def start_fails(env: dict[str, str]) -> str:
    result = subprocess.run(
        [PBX_BRIDGE, "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_a_wrong_ari_password_is_named(settings: Settings, tmp_path: Path) -> None:
    err = start_fails(controller_env(tmp_path, PBX_BRIDGE_ARI_PASSWORD="wrong"))  # noqa: S106
    assert "ari_password (PBX_BRIDGE_ARI_PASSWORD)" in err
    assert "refused" in err
    assert_no_channel_left(settings)


def test_an_api_port_in_use_is_named(settings: Settings, tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        err = start_fails(controller_env(tmp_path, PBX_BRIDGE_API_PORT=str(port)))
    assert "api_port (PBX_BRIDGE_API_PORT)" in err
    assert f"127.0.0.1:{port}" in err
    assert_no_channel_left(settings)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:////proc/no-such-dir/calls.db",
        "nosuchdriver://127.0.0.1:1/x",
    ],
)
def test_an_unusable_database_url_is_named(settings: Settings, tmp_path: Path, url: str) -> None:
    err = start_fails(controller_env(tmp_path, PBX_BRIDGE_DATABASE_URL=url))
    assert "database_url (PBX_BRIDGE_DATABASE_URL)" in err
    assert_no_channel_left(settings)


def test_nothing_answering_at_the_ari_url_is_named(settings: Settings, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    err = start_fails(controller_env(tmp_path, PBX_BRIDGE_ARI_URL=f"http://127.0.0.1:{free}"))
    assert "ari_url (PBX_BRIDGE_ARI_URL)" in err
    assert "sandbox up" in err
    assert_no_channel_left(settings)
