"""queue: who answered and when, repeat callers, the callback worklist

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("agent", sa.String(80), nullable=False, server_default=""))
        batch.add_column(sa.Column("connected_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("repeat_of", sa.String(64)))
        batch.create_index("ix_calls_caller_number", ["caller_number"])
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(64), sa.ForeignKey("calls.id"), nullable=False),
        sa.Column("caller_number", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("taken_by", sa.String(80), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_callbacks_status", "callbacks", ["status"])
    op.create_index("ix_callbacks_call_id", "callbacks", ["call_id"], unique=True)
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "callback_id",
            sa.Integer(),
            sa.ForeignKey("callbacks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("call_taker", sa.String(80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(32), nullable=False, server_default=""),
        sa.Column("channel_id", sa.String(64), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("callback_attempts")
    op.drop_table("callbacks")
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_caller_number")
        batch.drop_column("repeat_of")
        batch.drop_column("connected_at")
        batch.drop_column("agent")
