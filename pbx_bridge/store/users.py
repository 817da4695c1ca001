"""Who uses the API: a name, a role, an agency for agency users, and a hash of their token.

A token can expire (`users add --expires-days`), be revoked (`users revoke`) and be replaced
(`users rotate`, which also lifts a revocation); a refused token identifies nobody.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from pbx_bridge.store.database import sessions
from pbx_bridge.store.models import UserRecord


class Role(StrEnum):
    CALL_TAKER = "call_taker"
    SUPERVISOR = "supervisor"
    AGENCY = "agency"  # sees only its own agency's handoffs and incidents
    ADMIN = "admin"


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    agency: str = ""


@dataclass(frozen=True)
class UserEntry:
    """A user as `users list` shows it: never the token, but whether it still works."""

    user: User
    expires_at: datetime | None
    revoked: bool


class UserExists(ValueError):
    pass


class NoSuchUser(LookupError):
    pass


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # Tokens are 32 random bytes, so a plain SHA-256 is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class UserRepository:
    def __init__(self, engine: AsyncEngine, now: Callable[[], datetime] = _utc_now) -> None:
        self._sessions = sessions(engine)
        self._now = now

    def _expiry(self, expires_days: int | None) -> datetime | None:
        return None if expires_days is None else self._now() + timedelta(days=expires_days)

    async def add(
        self, name: str, role: Role, agency: str = "", expires_days: int | None = None
    ) -> str:
        """Create the user; returns its new token, which is stored only as a hash."""
        token = new_token()
        record = UserRecord(
            name=name,
            role=role.value,
            agency=agency,
            token_hash=hash_token(token),
            created_at=self._now(),
            expires_at=self._expiry(expires_days),
        )
        try:
            async with self._sessions() as session, session.begin():
                session.add(record)
        except IntegrityError as error:
            raise UserExists(f"a user named {name!r} exists") from error
        return token

    async def by_token(self, token: str) -> User | None:
        """The token's user, unless the token expired or the user is revoked."""
        query = select(UserRecord).where(
            UserRecord.token_hash == hash_token(token),
            UserRecord.revoked_at.is_(None),
            or_(UserRecord.expires_at.is_(None), UserRecord.expires_at > self._now()),
        )
        async with self._sessions() as session:
            record = (await session.scalars(query)).first()
        if record is None:
            return None
        return User(record.name, Role(record.role), record.agency)

    async def revoke(self, name: str) -> None:
        """The user's token stops working at once (open live-event streams end too)."""
        await self._change(name, revoked_at=self._now())

    async def rotate(self, name: str, expires_days: int | None = None) -> str:
        """A new token for the user (the old one stops working); lifts a revocation.

        The expiry is kept unless `expires_days` gives a new one from now.
        """
        token = new_token()
        values: dict[str, object] = {"token_hash": hash_token(token), "revoked_at": None}
        if expires_days is not None:
            values["expires_at"] = self._expiry(expires_days)
        await self._change(name, **values)
        return token

    async def _change(self, name: str, **values: object) -> None:
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(UserRecord).where(UserRecord.name == name).values(**values)
            )
        if result.rowcount == 0:
            raise NoSuchUser(f"no user named {name!r} (see `pbx-bridge users list`)")

    async def entries(self) -> list[UserEntry]:
        async with self._sessions() as session:
            records = (await session.scalars(select(UserRecord).order_by(UserRecord.name))).all()
        return [
            UserEntry(User(r.name, Role(r.role), r.agency), r.expires_at, r.revoked_at is not None)
            for r in records
        ]

    async def list(self) -> list[User]:
        return [entry.user for entry in await self.entries()]
