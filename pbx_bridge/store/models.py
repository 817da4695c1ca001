"""Tables. Only the caller's nickname and number are kept about the caller."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Float, ForeignKey, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite keeps no offset: without this a 07:30+08:00 would be stored, and read back, as 07:30
    UTC. A naive value is taken to be UTC already (the store's convention).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}  # noqa: RUF012 - SQLAlchemy's class attribute


class CallRecord(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # Asterisk's channel id
    caller_number: Mapped[str] = mapped_column(String(64), default="", index=True)
    caller_name: Mapped[str] = mapped_column(String(80), default="")
    arrived_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ring_seconds: Mapped[float | None] = mapped_column(Float)
    connected_seconds: Mapped[float | None] = mapped_column(Float)
    total_seconds: Mapped[float | None] = mapped_column(Float)
    validity: Mapped[str] = mapped_column(String(16), index=True)
    disposition: Mapped[str] = mapped_column(String(32), default="", index=True)
    queue_reason: Mapped[str] = mapped_column(String(32), default="")
    queue_priority: Mapped[int | None] = mapped_column(Integer)
    cannot_speak: Mapped[bool] = mapped_column(default=False)
    agent: Mapped[str] = mapped_column(String(80), default="")
    connected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    repeat_of: Mapped[str | None] = mapped_column(String(64))
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_cause_text: Mapped[str] = mapped_column(String(64), default="")
    adopted: Mapped[bool] = mapped_column(default=False)
    sip_call_id: Mapped[str] = mapped_column(String(128), default="", index=True)

    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallEvent.seq"
    )


class CallEvent(Base):
    """The call's timeline, kept so validity can be recomputed when thresholds change."""

    __tablename__ = "call_events"

    call_id: Mapped[str] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(200), default="")

    call: Mapped[CallRecord] = relationship(back_populates="events")


class Callback(Base):
    """An abandoned or dropped call that gets at least one callback attempt (NENA)."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), unique=True)
    caller_number: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)  # open, taken, done
    taken_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    attempts: Mapped[list[CallbackAttempt]] = relationship(
        back_populates="callback", cascade="all, delete-orphan", order_by="CallbackAttempt.id"
    )


class CallbackAttempt(Base):
    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id", ondelete="CASCADE"))
    call_taker: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(32), default="")
    channel_id: Mapped[str] = mapped_column(String(64), default="")

    callback: Mapped[Callback] = relationship(back_populates="attempts")


# --- dispatch: incidents, their calls, handoffs to agencies, the timeline; users and the audit


class IncidentRecord(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    location_text: Mapped[str] = mapped_column(String(500), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    verification: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_by: Mapped[str] = mapped_column(String(80))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IncidentCall(Base):
    """A call attached to an incident: the first report or a redundant one. One incident a call."""

    __tablename__ = "incident_calls"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    attached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attached_by: Mapped[str] = mapped_column(String(80))


class CallClosureRecord(Base):
    """A call closed as not an emergency, with the call taker's disposition."""

    __tablename__ = "call_closures"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), primary_key=True)
    disposition: Mapped[str] = mapped_column(String(32), index=True)
    by: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(String(500), default="")


class HandoffRecord(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    agency: Mapped[str] = mapped_column(String(40), index=True)
    second_agency: Mapped[str] = mapped_column(String(40), default="")
    second_notified: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(32), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str] = mapped_column(String(80), default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IncidentEvent(Base):
    """The incident's timeline: what happened, when, and who did it."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(80), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")


class UserRecord(Base):
    """Someone who uses the API. Only a hash of the token is kept."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    agency: Mapped[str] = mapped_column(String(40), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A token past expires_at, or of a revoked user, is refused (`users rotate` reinstates).
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class NumberView(Base):
    """The audit of every time someone saw a caller's number in clear."""

    __tablename__ = "number_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    who: Mapped[str] = mapped_column(String(80), index=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    why: Mapped[str] = mapped_column(String(200), default="")
