"""Who uses the API: a name, a role, an agency for agency users, and a hash of their token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select
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


class UserExists(ValueError):
    pass


def hash_token(token: str) -> str:
    # Tokens are 32 random bytes, so a plain SHA-256 is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


class UserRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = sessions(engine)

    async def add(self, name: str, role: Role, agency: str = "") -> str:
        """Create the user; returns its new token, which is stored only as a hash."""
        token = secrets.token_urlsafe(32)
        record = UserRecord(
            name=name,
            role=role.value,
            agency=agency,
            token_hash=hash_token(token),
            created_at=datetime.now(UTC),
        )
        try:
            async with self._sessions() as session, session.begin():
                session.add(record)
        except IntegrityError as error:
            raise UserExists(f"a user named {name!r} exists") from error
        return token

    async def by_token(self, token: str) -> User | None:
        query = select(UserRecord).where(UserRecord.token_hash == hash_token(token))
        async with self._sessions() as session:
            record = (await session.scalars(query)).first()
        if record is None:
            return None
        return User(record.name, Role(record.role), record.agency)

    async def list(self) -> list[User]:
        async with self._sessions() as session:
            records = (await session.scalars(select(UserRecord).order_by(UserRecord.name))).all()
        return [User(r.name, Role(r.role), r.agency) for r in records]
