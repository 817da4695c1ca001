"""screening: disposition, queue reason and priority, the 55 flag

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("disposition", sa.String(32), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("queue_reason", sa.String(32), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("queue_priority", sa.Integer()))
        batch.add_column(
            sa.Column("cannot_speak", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_calls_disposition", ["disposition"])


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_disposition")
        batch.drop_column("cannot_speak")
        batch.drop_column("queue_priority")
        batch.drop_column("queue_reason")
        batch.drop_column("disposition")
