"""dispatch: incidents, their calls, call closures, handoffs, timelines, users, number views

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location_text", sa.String(500), nullable=False),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
        sa.Column("location_source", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("verification", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _at("created_at"),
        sa.Column("created_by", sa.String(80), nullable=False),
        _at("closed_at", nullable=True),
    )
    for column in ("category", "verification", "status", "created_at"):
        op.create_index(f"ix_incidents_{column}", "incidents", [column])
    op.create_table(
        "incident_calls",
        sa.Column("call_id", sa.String(64), sa.ForeignKey("calls.id"), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=False),
        _at("attached_at"),
        sa.Column("attached_by", sa.String(80), nullable=False),
    )
    op.create_index("ix_incident_calls_incident_id", "incident_calls", ["incident_id"])
    op.create_table(
        "call_closures",
        sa.Column("call_id", sa.String(64), sa.ForeignKey("calls.id"), primary_key=True),
        sa.Column("disposition", sa.String(32), nullable=False),
        sa.Column("by", sa.String(80), nullable=False),
        _at("at"),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
    )
    op.create_index("ix_call_closures_disposition", "call_closures", ["disposition"])
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("agency", sa.String(40), nullable=False),
        sa.Column("second_agency", sa.String(40), nullable=False, server_default=""),
        sa.Column("second_notified", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("state", sa.String(32), nullable=False),
        _at("sent_at", nullable=True),
        _at("due_at", nullable=True),
        _at("acknowledged_at", nullable=True),
        sa.Column("acknowledged_by", sa.String(80), nullable=False, server_default=""),
        _at("closed_at", nullable=True),
    )
    for column in ("incident_id", "agency", "state", "due_at"):
        op.create_index(f"ix_handoffs_{column}", "handoffs", [column])
    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=False),
        _at("at"),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False, server_default=""),
        sa.Column("detail", sa.String(500), nullable=False, server_default=""),
    )
    op.create_index("ix_incident_events_incident_id", "incident_events", ["incident_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agency", sa.String(40), nullable=False, server_default=""),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _at("created_at"),
    )
    op.create_table(
        "number_views",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("who", sa.String(80), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        _at("at"),
        sa.Column("why", sa.String(200), nullable=False, server_default=""),
    )
    for column in ("who", "call_id", "at"):
        op.create_index(f"ix_number_views_{column}", "number_views", [column])


def downgrade() -> None:
    for table in (
        "number_views",
        "users",
        "incident_events",
        "handoffs",
        "call_closures",
        "incident_calls",
        "incidents",
    ):
        op.drop_table(table)
