"""Alembic environment: always driven from dashboard.database.upgrade(), which hands us a connection."""
from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the CLI always passes one
    raise RuntimeError("Run migrations with `dashboard db upgrade`.")

context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
