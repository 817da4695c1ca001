"""Bearer tokens and roles: who is asking, and may they.

A token is either a user's (the users table keeps only its SHA-256) or PBX_BRIDGE_API_TOKEN,
which acts as an admin so existing tooling keeps working.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from aiohttp import web

from pbx_bridge.store.users import Role, User, UserRepository

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

API_TOKEN_USER = User(name="api-token", role=Role.ADMIN)
USER = web.RequestKey("user", User)


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


def make_auth_middleware(
    authenticator: Authenticator,
) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/api/"):
            user = await authenticator.identify(bearer_token(request))
            if user is None:
                raise problem(
                    web.HTTPUnauthorized,
                    "send Authorization: Bearer <token>; an admin creates tokens with "
                    "`pbx-bridge users add NAME --role ROLE`",
                )
            request[USER] = user
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
