"""Is the controller alive? `GET /health/live` on its API: answered from its event loop without
the database, so it fails exactly when the loop does not run (killed, frozen, stuck in a loop)."""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

import aiohttp

from pbx_bridge.config import Settings

LIVE_PATH = "/health/live"


def live_url(settings: Settings) -> str:
    host = settings.api_host
    try:
        if ipaddress.ip_address(host).is_unspecified:  # listening on every address
            host = "127.0.0.1" if ipaddress.ip_address(host).version == 4 else "::1"
    except ValueError:
        pass  # a name
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if settings.api_tls_cert else "http"
    return f"{scheme}://{host}:{settings.api_port}{LIVE_PATH}"


def trust_own_certificate(cert: Path | None) -> ssl.SSLContext | None:
    """The API's own certificate is the trust anchor: the check carries no secret and may reach
    the API by an address its certificate does not name (127.0.0.1 for 0.0.0.0)."""
    if cert is None:
        return None
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # a leaf signed by a CA is trusted too
    return context


class HttpProbe:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        timeout: float,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._session = session
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._ssl: ssl.SSLContext | bool = tls if tls is not None else True

    async def __call__(self) -> bool:
        try:
            async with self._session.get(
                self._url, timeout=self._timeout, ssl=self._ssl
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False
