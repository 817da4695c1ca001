"""Alembic environment: runs on the connection pbx_bridge hands it (see store/database.py)."""

from alembic import context

from pbx_bridge.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `pbx-bridge migrate`, which supplies the engine")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
