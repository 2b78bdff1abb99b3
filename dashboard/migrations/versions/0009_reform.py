"""The 2025 reform as data: old units next to new ones, the crosswalk between them, and the
basis of every stored figure.

* A unit's key (``units.code``) is its official code while it is valid, and
  ``<code>@<YYYY-MM>`` (the last month it was valid) once a unit of the same code replaced it:
  old commune 31150 (to 2025-06) is ``31150@2025-06``, new commune 31150 is ``31150``
  (``dashboard/unitkeys.py``). Keys stay unique, so every other table is unchanged.
* ``unit_links`` — the crosswalk: an old unit's successor from an effective date, with the
  share of the old unit's numerator and denominator that went to it (NULL: not given; the
  roll-up apportions by the documented rule) and a basis note.
* ``entity_ancestors.share`` and ``.via`` — the closure also carries each old unit up through its
  successors for the months before the reform, with its share (``via`` 0: the hierarchy,
  1: a whole predecessor, 2: part of a divided one, the share given or apportioned).
* ``aggregates.basis`` — 0 reported, 1 from predecessors (exact), 2 estimated: the largest
  ``via`` among the entities a figure sums.

Every stored row is kept: the new columns default to "reported, whole".

Revision ID: 0009_reform
Revises: 0008_import_mappings
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_reform"
down_revision = "0008_import_mappings"
branch_labels = None
depends_on = None

CODE = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "unit_links",
        sa.Column("old_code", CODE, nullable=False),
        sa.Column("new_code", CODE, nullable=False),
        sa.Column("effective", sa.Date, nullable=False),
        sa.Column("share", sa.Float(53), nullable=True),
        sa.Column("basis", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("old_code", "new_code", name="pk_unit_links"),
    )
    op.create_index("ix_unit_links_new", "unit_links", ["new_code"])
    with op.batch_alter_table("entity_ancestors") as batch:
        batch.add_column(sa.Column("share", sa.Float(53), nullable=False, server_default="1"))
        batch.add_column(sa.Column("via", sa.SmallInteger, nullable=False, server_default="0"))
    with op.batch_alter_table("aggregates") as batch:
        batch.add_column(sa.Column("basis", sa.SmallInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("aggregates") as batch:
        batch.drop_column("basis")
    with op.batch_alter_table("entity_ancestors") as batch:
        batch.drop_column("via")
        batch.drop_column("share")
    op.drop_index("ix_unit_links_new", table_name="unit_links")
    op.drop_table("unit_links")
