"""AMI through panoramisk: connected and logged in at start-up, reconnecting on its own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from panoramisk import Manager


class AmiUnavailable(Exception):
    """Nothing answers at the AMI address."""


class AmiAuthError(Exception):
    """AMI refused the username or secret."""


class AmiClient:
    def __init__(self, *, host: str, port: int, username: str, secret: str) -> None:
        self._config = {"host": host, "port": port, "username": username, "secret": secret}
        self._manager: Manager | None = None
        self._after_login: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.logins = 0

    def after_login(self, callback: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run callback after every log-in but the first: what happened while AMI was away."""
        self._after_login.append(callback)

    def _logged_in(self, _manager: Manager) -> None:
        self.logins += 1
        if self.logins == 1:
            return
        for callback in self._after_login:
            task = asyncio.get_running_loop().create_task(callback())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

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
        if self._manager is None:
            raise AmiUnavailable("AMI is not connected")
        return await self._manager.send_action(action, as_list=as_list)

    def on(self, pattern: str, callback: Callable[[dict[str, str]], None]) -> None:
        """Call back with each event whose name matches pattern (fnmatch), as a plain dict."""
        if self._manager is None:
            raise AmiUnavailable("AMI is not connected")
        self._manager.register_event(pattern, lambda _manager, message: callback(dict(message)))

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()
            self._manager = None
