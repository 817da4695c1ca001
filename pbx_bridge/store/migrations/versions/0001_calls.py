"""calls and their timelines

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("caller_number", sa.String(64), nullable=False),
        sa.Column("caller_name", sa.String(80), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("ring_seconds", sa.Float()),
        sa.Column("connected_seconds", sa.Float()),
        sa.Column("total_seconds", sa.Float()),
        sa.Column("validity", sa.String(16), nullable=False),
        sa.Column("hangup_cause", sa.Integer()),
        sa.Column("hangup_cause_text", sa.String(64), nullable=False),
        sa.Column("adopted", sa.Boolean(), nullable=False),
        sa.Column("sip_call_id", sa.String(128), nullable=False),
    )
    op.create_index("ix_calls_sip_call_id", "calls", ["sip_call_id"])
    op.create_index("ix_calls_arrived_at", "calls", ["arrived_at"])
    op.create_index("ix_calls_validity", "calls", ["validity"])
    op.create_table(
        "call_events",
        sa.Column(
            "call_id",
            sa.String(64),
            sa.ForeignKey("calls.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("call_events")
    op.drop_table("calls")
