"""Boundary layers prepared once: what a map sends, per level and per parent, ready to send.

One row per (level, parent_code): the FeatureCollection (GeoJSON text, feature ids = unit
codes) of the level's units under that parent, simplified as one coverage at a tolerance
suited to the parent's extent (a country's provinces far coarser than one zone's communes),
and per feature its box and area (``shapes``, JSON) so that framing a map reads no
coordinates. Built by ``dashboard.boundaries.prepare_layers`` after every boundary import;
``meta.boundary_version`` is bumped then, and the readers' cache is keyed on it, never on the
data version.

Revision ID: 0007_boundary_layers
Revises: 0006_value_history
Create Date: 2026-12-02
"""
import logging

import sqlalchemy as sa
from alembic import op

log = logging.getLogger(__name__)

revision = "0007_boundary_layers"
down_revision = "0006_value_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boundary_layers",
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("parent_code", sa.String(32), nullable=False),
        sa.Column("tolerance", sa.Float(53), nullable=False),
        sa.Column("features", sa.Integer, nullable=False),
        sa.Column("geojson", sa.Text, nullable=False),
        sa.Column("shapes", sa.Text, nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("prepared_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("level", "parent_code", name="pk_boundary_layers"),
    )
    _prepare_existing()


def _prepare_existing() -> None:
    """A database that already holds boundaries gets its layers now (its map keeps working)."""
    bind = op.get_bind()
    if not bind.execute(sa.text("SELECT COUNT(*) FROM boundaries")).scalar():
        return
    try:
        from dashboard.boundaries import prepare_layers

        with bind.begin_nested():
            prepare_layers(bind)
    except Exception:  # noqa: BLE001 - the schema must upgrade; `dashboard geodata prepare` redoes it
        log.warning("boundary layers not prepared; run `dashboard geodata prepare`", exc_info=True)


def downgrade() -> None:
    op.drop_table("boundary_layers")
