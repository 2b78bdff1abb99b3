"""History of replaced rows: what a load overwrote, kept so that the load can be undone exactly.

``kpi_value_history`` keeps every ``kpi_values`` row a load replaced, with the load that had
written it (``load_id``) and the load that replaced it (``replaced_by_load_id``). Undoing load
L is then: delete the ``kpi_values`` rows whose ``load_id`` is L, and put back the rows of
``kpi_value_history`` replaced by L. A row of L that a later load M replaced shows up there
with ``load_id`` L and ``replaced_by_load_id`` M: the undo can see that M came after.

``record_history`` does the same for the small tables (units, facilities, indicators with
their reporting kinds, targets), which carry no load id: one row per key a load wrote, with
the previous row as JSON, or NULL when the load added the key.

Revision ID: 0006_value_history
Revises: 0005_aggregates
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_value_history"
down_revision = "0005_aggregates"
branch_labels = None
depends_on = None

CODE = sa.String(32)
MONTH = sa.String(7)


def upgrade() -> None:
    op.create_table(
        "kpi_value_history",
        # Load ids without foreign keys: PostgreSQL checks a foreign key with a trigger per row,
        # which at national scale (2.4 M rows replaced by one load) doubled the time to keep
        # them. The ids come from data_loads rows written in the same transaction, and the
        # audit is never deleted.
        sa.Column("replaced_by_load_id", sa.Integer, nullable=False),
        sa.Column("indicator_code", CODE, nullable=False),
        sa.Column("period", MONTH, nullable=False),
        sa.Column("entity_code", CODE, nullable=False),
        sa.Column("numerator", sa.Float(53), nullable=False),
        sa.Column("denominator", sa.Float(53), nullable=False),
        sa.Column("load_id", sa.Integer, nullable=False),
        # One load writes a key once, so it replaces a key at most once.
        sa.PrimaryKeyConstraint("replaced_by_load_id", "indicator_code", "period", "entity_code",
                                name="pk_kpi_value_history"),
    )
    # An undo of load L asks which of L's rows later loads replaced.
    op.create_index("ix_kpi_value_history_load", "kpi_value_history", ["load_id"])

    op.create_table(
        "record_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("load_id", sa.Integer, sa.ForeignKey("data_loads.id"), nullable=False),
        sa.Column("table_name", sa.String(32), nullable=False),
        sa.Column("row_key", sa.Text, nullable=False),    # JSON list of the key's values
        sa.Column("previous", sa.Text, nullable=True),    # JSON object of the row before; NULL: added
    )
    op.create_index("ix_record_history_load", "record_history", ["load_id"])
    op.create_index("ix_record_history_key", "record_history", ["table_name", "row_key"])


def downgrade() -> None:
    op.drop_index("ix_record_history_key", table_name="record_history")
    op.drop_index("ix_record_history_load", table_name="record_history")
    op.drop_table("record_history")
    op.drop_index("ix_kpi_value_history_load", table_name="kpi_value_history")
    op.drop_table("kpi_value_history")
