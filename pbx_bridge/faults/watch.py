"""Who sits in the Stasis app, and for how long: ARI's channel list, polled from outside the
controller (a frozen controller cannot under-report its own silence)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from base64 import b64encode
from dataclasses import dataclass
from typing import Any, Self

from pbx_bridge.config import Settings
from pbx_bridge.guard.runner import in_app


def ari_channels(settings: Settings, timeout: float = 2.0) -> list[dict[str, Any]]:
    password = settings.ari_password.get_secret_value() if settings.ari_password else ""
    token = b64encode(f"{settings.ari_username}:{password}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - the sandbox's loopback ARI
        settings.ari_url.rstrip("/") + "/ari/channels",
        headers={"Authorization": f"Basic {token}"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        channels = json.loads(response.read() or b"[]")
    return list(channels) if isinstance(channels, list) else []


@dataclass
class Stretch:
    entered: float  # time.monotonic() when first seen in Stasis
    left: float | None = None  # first seen elsewhere, or gone


class StasisWatch:
    """A thread that notes, per caller number, when the call was in the Stasis app."""

    def __init__(self, settings: Settings, app: str, interval: float = 0.25) -> None:
        self._settings = settings
        self._app = app
        self._interval = interval
        self._stretches: dict[str, Stretch] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._poll, name="stasis-watch", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                channels = ari_channels(self._settings)
            except (urllib.error.URLError, OSError, TimeoutError, ValueError):
                channels = None  # Asterisk restarting: what was seen stays as it was
            now = time.monotonic()
            if channels is not None:
                self._note(channels, now)
            self._stop.wait(self._interval)

    def _note(self, channels: list[dict[str, Any]], now: float) -> None:
        in_stasis = {
            str((c.get("caller") or {}).get("number", "")) for c in channels if in_app(c, self._app)
        }
        with self._lock:
            for number in in_stasis:
                if number not in self._stretches:
                    self._stretches[number] = Stretch(now)
            for number, stretch in self._stretches.items():
                if stretch.left is None and number not in in_stasis:
                    stretch.left = now

    def longest_stranded(
        self, fault_at: float, talkers: set[str], silent: set[str], silent_screening: float
    ) -> float:
        """The longest a caller was left in Stasis by the fault, in seconds.

        A talking caller leaves Stasis within seconds of speaking: all its time there after the
        later of the fault and its arrival counts. A silent caller is screened for
        `silent_screening` seconds by a healthy controller: only what it stayed beyond that
        counts (a frozen controller without a guard keeps it 30 s longer)."""
        now = time.monotonic()
        longest = 0.0
        with self._lock:
            for number, stretch in self._stretches.items():
                end = stretch.left if stretch.left is not None else now
                if number in talkers:
                    longest = max(longest, end - max(stretch.entered, fault_at))
                elif number in silent:
                    longest = max(longest, end - stretch.entered - silent_screening)
        return max(longest, 0.0)
