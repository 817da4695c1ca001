"""TLS for the API from the operator's certificate and key: tokens and callers' numbers cross
the LAN encrypted. Neither set: plain HTTP (fine on loopback, the default address)."""

from __future__ import annotations

import ssl
from pathlib import Path

from pbx_bridge.errors import StartupError


def _readable(setting: str, path: Path) -> None:
    try:
        with path.open("rb") as file:
            file.read(1)
    except OSError as error:
        raise StartupError(setting, f"cannot read {path}: {error.strerror}") from error


def server_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """The server's TLS context (TLS 1.2 or newer), or None for plain HTTP."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        missing = "api_tls_cert" if cert is None else "api_tls_key"
        raise StartupError(missing, "not set: TLS needs both the certificate and its key")
    _readable("api_tls_cert", cert)
    _readable("api_tls_key", key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as error:
        raise StartupError(
            "api_tls_cert",
            f"{cert} with key {key} is not a PEM certificate chain and its private key "
            f"({error.reason or error})",
        ) from error
    return context
