"""Levels of the hierarchy as data: a `levels` table instead of a CHECK on three names.

A provincial department has province → health zone → commune; a Ministry deployment has the
country at its root, then provinces, then communes, with zones optional. Which levels exist, their
order and their names are rows here; `units.level` and `boundaries.level` refer to them.

Revision ID: 0003_levels
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_levels"
down_revision = "0002"
branch_labels = None
depends_on = None

#: The levels a new database starts with (depth 0 is the top). A deployment uses the ones it
#: has units for; more can be added as rows.
DEFAULT_LEVELS = [
    {"code": "country", "depth": 0, "name_vi": "Toàn quốc", "name_en": "Country"},
    {"code": "province", "depth": 1, "name_vi": "Tỉnh/Thành phố", "name_en": "Province"},
    {"code": "district", "depth": 2, "name_vi": "Khu vực", "name_en": "Zone"},
    {"code": "commune", "depth": 3, "name_vi": "Xã/Phường", "name_en": "Commune"},
]


def upgrade() -> None:
    levels = op.create_table(
        "levels",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("depth", sa.Integer, nullable=False),
        sa.Column("name_vi", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
    )
    op.bulk_insert(levels, DEFAULT_LEVELS)
    # SQLite rebuilds both tables (batch mode); database.upgrade() runs migrations there with
    # foreign-key enforcement off and checks the keys at the end.
    with op.batch_alter_table("units", recreate="auto") as batch:
        batch.drop_constraint("ck_units_level", type_="check")
        batch.create_foreign_key("fk_units_level", "levels", ["level"], ["code"])
    with op.batch_alter_table("boundaries", recreate="auto") as batch:
        batch.drop_constraint("ck_boundaries_level", type_="check")


def downgrade() -> None:
    with op.batch_alter_table("boundaries") as batch:
        batch.create_check_constraint("ck_boundaries_level", "level IN ('province', 'district', 'commune')")
    with op.batch_alter_table("units") as batch:
        batch.drop_constraint("fk_units_level", type_="foreignkey")
        batch.create_check_constraint("ck_units_level", "level IN ('province', 'district', 'commune')")
    op.drop_table("levels")
