"""AMI through panoramisk: connected and logged in at start-up, reconnecting on its own.

Every action is checked before it is written (no control characters: a CR or LF in a value
would end the action early and start another, an AMI injection), refused at once while AMI is
not connected, and bounded in time, so an AMI outage is a quick AmiUnavailable, never a hang.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from panoramisk import Manager

ACTION_TIMEOUT_SECONDS = 5.0
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AmiUnavailable(Exception):
    """Nothing answers at the AMI address, or it did not answer in time."""


class AmiUnsafeAction(ValueError):
    """An action's key or value holds a control character; it was not sent."""


def check_action(action: Mapping[str, str]) -> None:
    """Refuse an action that could smuggle a second one into the AMI stream."""
    for key, value in action.items():
        if _CONTROL.search(str(key)) or _CONTROL.search(str(value)):
            name = _CONTROL.sub("?", str(action.get("Action", "")))
            shown = _CONTROL.sub("?", str(key))
            raise AmiUnsafeAction(f"AMI action {name!r}: {shown} holds a control character")


class AmiAuthError(Exception):
    """AMI refused the username or secret."""


class AmiClient:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        secret: str,
        action_timeout: float = ACTION_TIMEOUT_SECONDS,
    ) -> None:
        self._config = {"host": host, "port": port, "username": username, "secret": secret}
        self._manager: Manager | None = None
        self._action_timeout = action_timeout
        # Set on every log-in but the first; whoever follows app_queue resyncs then. No task
        # is started here: the waiter's own task (owned by the composition root) does the work.
        self._logged_in_again = asyncio.Event()
        self.logins = 0

    def _logged_in(self, _manager: Manager) -> None:
        self.logins += 1
        if self.logins > 1:
            self._logged_in_again.set()

    async def relogged_in(self) -> None:
        """Return after the next log-in that follows a reconnect (what AMI missed is lost)."""
        await self._logged_in_again.wait()
        self._logged_in_again.clear()

    @property
    def connected(self) -> bool:
        manager = self._manager
        return bool(manager is not None and manager._connected and manager.authenticated)  # noqa: SLF001

    async def start(self, timeout: float = 5.0) -> None:
        """Connect and log in, or raise a clear error. Must run inside the event loop."""
        manager = Manager(
            loop=asyncio.get_running_loop(),
            log=logging.getLogger("pbx_bridge.ami"),
            ping_delay=10,
            reconnect_timeout=2,
            on_login=self._logged_in,
            **self._config,
        )
        self._manager = manager
        try:
            await asyncio.wait_for(manager.connect(), timeout)
        except (OSError, TimeoutError) as error:
            manager.close()
            self._manager = None
            address = f"{self._config['host']}:{self._config['port']}"
            raise AmiUnavailable(f"nothing answers at {address}: {error}") from error
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if manager.authenticated:
                return
            future = manager.authenticated_future
            if future is not None and future.done() and not manager.authenticated:
                break
            if future is None and not manager.authenticated:
                break
            await asyncio.sleep(0.02)
        manager.close()
        self._manager = None
        raise AmiAuthError(f"AMI refused user {self._config['username']!r} or its secret")

    async def action(self, action: dict[str, str], *, as_list: bool | None = None) -> Any:
        check_action(action)
        manager = self._manager
        if manager is None or not self.connected:
            raise AmiUnavailable("AMI is not connected (Asterisk down or reconnecting)")
        try:
            async with asyncio.timeout(self._action_timeout):
                return await manager.send_action(action, as_list=as_list)
        except TimeoutError as error:
            raise AmiUnavailable(
                f"AMI did not answer {action.get('Action', '')!r} within {self._action_timeout} s"
            ) from error

    def on(self, pattern: str, callback: Callable[[dict[str, str]], None]) -> None:
        """Call back with each event whose name matches pattern (fnmatch), as a plain dict."""
        if self._manager is None:
            raise AmiUnavailable("AMI is not connected")
        self._manager.register_event(pattern, lambda _manager, message: callback(dict(message)))

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()
            self._manager = None
