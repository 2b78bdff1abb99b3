"""Saved import mappings: how a wide report is read, kept on the server by name.

The upload page saves what was understood of a wide workbook (columns by header text, units
by the name written, with the admin's corrections) as the YAML text ``wide.Mapping`` writes
and ``--mapping FILE`` reads; next month the admin chooses it from a list. A table rather
than files so that every app server sees the same mappings.

Revision ID: 0008_import_mappings
Revises: 0007_boundary_layers
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_import_mappings"
down_revision = "0007_boundary_layers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_mappings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("layout", sa.String(16), nullable=False),
        sa.Column("mapping", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False),
        sa.UniqueConstraint("name", name="uq_import_mappings_name"),
    )


def downgrade() -> None:
    op.drop_table("import_mappings")
