"""Figures computed once per load: the roll-up of every indicator × period × entity, and its
progress against the target, stored so that a request reads prepared rows.

* ``agg_periods`` — the periods of each indicator (months with data, their quarters and years),
  each with its window of months (a year in progress ends at the indicator's latest month).
* ``aggregates`` — sums by the roll-up rules (``queries/aggregate_*.sql``): numerator,
  denominator, value, reported and expected counts, latest month, for every unit and facility
  expected to report (units nobody there reports have no row: "không áp dụng").
* ``aggregate_progress`` — what the views need beside them: the target that applies, its
  deadline and source, the status, the gap in points and in real units, paces and projection
  (``dashboard/progress.py``'s rules, computed in Python at load).

Revision ID: 0005_aggregates
Revises: 0004_accounts
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_aggregates"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None

CODE = sa.String(32)
MONTH = sa.String(7)
PERIOD = sa.String(7)  # '2026-10', '2026-Q3', '2026'


def upgrade() -> None:
    op.create_table(
        "agg_periods",
        sa.Column("indicator_code", CODE, nullable=False),
        sa.Column("label", PERIOD, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("start_month", MONTH, nullable=False),
        sa.Column("end_month", MONTH, nullable=False),
        sa.PrimaryKeyConstraint("indicator_code", "label", name="pk_agg_periods"),
    )
    op.create_table(
        "aggregates",
        sa.Column("indicator_code", CODE, nullable=False),
        sa.Column("period", PERIOD, nullable=False),
        sa.Column("entity_code", CODE, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("end_month", MONTH, nullable=False),
        sa.Column("numerator", sa.Float(53), nullable=True),
        sa.Column("denominator", sa.Float(53), nullable=True),
        sa.Column("value", sa.Float(53), nullable=True),
        sa.Column("reported", sa.Integer, nullable=False),
        sa.Column("expected", sa.Integer, nullable=False),
        sa.Column("last_month", MONTH, nullable=True),
        sa.PrimaryKeyConstraint("indicator_code", "period", "entity_code", name="pk_aggregates"),
    )
    # One unit's history (trends, paces): its rows of one kind of period in order.
    op.create_index("ix_aggregates_entity", "aggregates", ["entity_code", "indicator_code", "kind", "period"])
    op.create_table(
        "aggregate_progress",
        sa.Column("indicator_code", CODE, nullable=False),
        sa.Column("period", PERIOD, nullable=False),
        sa.Column("entity_code", CODE, nullable=False),
        sa.Column("target", sa.Float(53), nullable=True),
        sa.Column("deadline", MONTH, nullable=True),
        sa.Column("target_source", sa.Text, nullable=True),
        sa.Column("target_scope", CODE, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("gap_points", sa.Float(53), nullable=True),
        sa.Column("gap_units", sa.Float(53), nullable=True),
        sa.Column("needed_pace", sa.Float(53), nullable=True),
        sa.Column("actual_pace", sa.Float(53), nullable=True),
        sa.Column("projected_value", sa.Float(53), nullable=True),
        sa.Column("projected_month", MONTH, nullable=True),
        sa.Column("flags", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("indicator_code", "period", "entity_code", name="pk_aggregate_progress"),
    )


def downgrade() -> None:
    op.drop_table("aggregate_progress")
    op.drop_index("ix_aggregates_entity", table_name="aggregates")
    op.drop_table("aggregates")
    op.drop_table("agg_periods")
