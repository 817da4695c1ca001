"""Bearer tokens and roles: who is asking, and may they.

A token is either a user's (the users table keeps only its SHA-256) or PBX_BRIDGE_API_TOKEN,
which acts as an admin so existing tooling keeps working. Failed attempts are throttled per
source address (web/throttle.py).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from aiohttp import web

from pbx_bridge import metrics
from pbx_bridge.config import MIN_API_TOKEN_LENGTH
from pbx_bridge.errors import StartupError
from pbx_bridge.store.users import Role, User, UserRepository
from pbx_bridge.web.throttle import AuthThrottle

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

API_TOKEN_USER = User(name="api-token", role=Role.ADMIN)
USER = web.RequestKey("user", User)


def check_admin_token(token: str) -> str:
    """The admin token, if long enough to resist guessing; a StartupError otherwise."""
    if len(token) < MIN_API_TOKEN_LENGTH:
        raise StartupError(
            "api_token",
            f"{len(token)} characters; it needs at least {MIN_API_TOKEN_LENGTH}: generate one "
            "with `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`",
        )
    return token


@dataclass(frozen=True)
class Authenticator:
    users: UserRepository
    admin_token: str | None = None

    async def identify(self, token: str) -> User | None:
        if not token:
            return None
        if self.admin_token and hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return API_TOKEN_USER
        return await self.users.by_token(token)


@dataclass(frozen=True)
class Credential:
    """The token a request came with, so a long-lived stream can check it is still good."""

    authenticator: Authenticator
    token: str

    async def user(self) -> User | None:
        return await self.authenticator.identify(self.token)


CREDENTIAL = web.RequestKey("credential", Credential)


def problem(status: type[web.HTTPException], message: str, field: str | None = None) -> Exception:
    body: dict[str, str] = {"error": message}
    if field is not None:
        body["field"] = field
    return status(text=json.dumps(body), content_type="application/json")


# EventSource (the browser's SSE client) cannot send headers, so the live-events stream, and
# only it, also takes the token as `?token=`. Every other route ignores that parameter.
QUERY_TOKEN_PATHS = frozenset({"/api/events"})


def bearer_token(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if request.path in QUERY_TOKEN_PATHS and request.method == "GET":
        return request.query.get("token", "").strip()
    return ""


def _too_many(retry_after: int) -> Exception:
    return web.HTTPTooManyRequests(
        text=json.dumps({"error": f"too many failed tokens; try again in {retry_after} s"}),
        content_type="application/json",
        headers={"Retry-After": str(retry_after)},
    )


def make_auth_middleware(
    authenticator: Authenticator, throttle: AuthThrottle | None = None
) -> Callable[..., Awaitable[web.StreamResponse]]:
    failures = throttle or AuthThrottle()

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/api/"):
            address = request.remote or ""
            token = bearer_token(request)
            user = await authenticator.identify(token)
            if user is None:
                # Wrong tokens from an address that sent too many are refused in bulk (429).
                # A valid token is served whatever its address sent before: a centre behind one
                # NAT or proxy must not lose its console to one tab with a revoked token. Tokens
                # are 256-bit random, so guessing is beaten by their length, not by this.
                retry_after = failures.retry_after(address)
                if retry_after:
                    metrics.AUTH_THROTTLED.inc()
                    raise _too_many(retry_after)
                if token:  # no token at all is a client not signed in yet, not a guess
                    failures.failed(address)
                metrics.AUTH_FAILURES.inc()
                raise problem(
                    web.HTTPUnauthorized,
                    "send Authorization: Bearer <token> (tokens expire and can be revoked); "
                    "an admin creates tokens with `pbx-bridge users add NAME --role ROLE`",
                )
            request[USER] = user
            request[CREDENTIAL] = Credential(authenticator, token)
        return await handler(request)

    return authenticate


def current_user(request: web.Request) -> User:
    if USER not in request:
        raise problem(web.HTTPUnauthorized, "send Authorization: Bearer <token>")
    return request[USER]


def require_role(roles: Collection[Role], handler: Handler) -> Handler:
    """The handler, refusing users whose role is not one of `roles` with a 403."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        user = current_user(request)
        if user.role not in roles:
            allowed = ", ".join(sorted(roles))
            raise problem(
                web.HTTPForbidden,
                f"role {user.role} may not do this; it needs one of: {allowed}",
            )
        return await handler(request)

    return guarded
