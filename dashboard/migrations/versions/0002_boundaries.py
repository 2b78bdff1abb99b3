"""Boundaries: unit polygons for the maps, stored as GeoJSON text (no PostGIS needed).

One row per (unit code, level). ``geometry`` is the repaired full-detail geometry,
``simplified`` the topology-preserving simplification for province-wide views and
``simplified_detail`` a finer one for a single zone's communes; both are computed once
per import (never per request) and rounded to 1e-5 degrees (about 1 m).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""
import logging

import sqlalchemy as sa
from alembic import op

log = logging.getLogger(__name__)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boundaries",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("geometry", sa.Text, nullable=False),
        sa.Column("simplified", sa.Text, nullable=False),
        sa.Column("simplified_detail", sa.Text, nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", "level", name="pk_boundaries"),
        sa.CheckConstraint("level IN ('province', 'district', 'commune')", name="ck_boundaries_level"),
    )
    op.create_index("ix_boundaries_level_source", "boundaries", ["level", "source"])
    _demo_boundaries()


def _demo_boundaries() -> None:
    """A database that already holds the demo province (loaded before this revision) gets the
    demo's boundaries now, so its map is not empty; new databases get them with the demo."""
    bind = op.get_bind()
    seeded = bind.execute(sa.text("SELECT value FROM meta WHERE key = 'demo_seed'")).scalar()
    if not seeded:
        return
    try:
        from dashboard.boundaries import load_demo_boundaries

        with bind.begin_nested():
            load_demo_boundaries(bind, prepare=False)  # layers: revision 0007
    except Exception:  # noqa: BLE001 - the schema must upgrade even without the geodata files
        log.warning("demo boundaries not loaded; run `dashboard geodata import`", exc_info=True)


def downgrade() -> None:
    op.drop_index("ix_boundaries_level_source", table_name="boundaries")
    op.drop_table("boundaries")
