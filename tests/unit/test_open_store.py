"""A database that cannot be opened stops start-up with one line that names database_url."""

from __future__ import annotations

import socket

import pytest

from pbx_bridge.config import Settings
from pbx_bridge.errors import StartupError
from pbx_bridge.sipp.runner import free_port
from pbx_bridge.wiring import open_store


async def test_an_unreachable_postgresql_is_one_line_naming_database_url() -> None:
    url = f"postgresql+asyncpg://pbx:secret@127.0.0.1:{free_port(socket.SOCK_STREAM)}/pbx"
    with pytest.raises(StartupError) as raised:
        await open_store(Settings(database_url=url))
    message = str(raised.value)
    assert raised.value.setting == "database_url"
    assert message.startswith("setting database_url (PBX_BRIDGE_DATABASE_URL): cannot open ")
    assert "\n" not in message
    assert "secret" not in message  # the password is hidden


async def test_an_unknown_driver_is_one_line_naming_database_url() -> None:
    with pytest.raises(StartupError) as raised:
        await open_store(Settings(database_url="postgresql+nosuchdriver://h/db"))
    assert raised.value.setting == "database_url"
    assert "\n" not in str(raised.value)
