"""Initial schema: units, facilities, indicators, targets, data loads, KPI values.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CODE = sa.String(32)
MONTH = sa.String(7)  # 'YYYY-MM': sorts and compares as text on both databases


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 1)")

    op.create_table(
        "units",
        sa.Column("code", CODE, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_code", CODE, sa.ForeignKey("units.code"), nullable=True),
        sa.Column("valid_from", sa.Date, nullable=True),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.CheckConstraint("level IN ('province', 'district', 'commune')", name="ck_units_level"),
    )
    op.create_index("ix_units_parent", "units", ["parent_code"])

    op.create_table(
        "facilities",
        sa.Column("code", CODE, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("unit_code", CODE, sa.ForeignKey("units.code"), nullable=False),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.CheckConstraint("type IN ('hospital', 'health_centre', 'station', 'other')", name="ck_facilities_type"),
    )
    op.create_index("ix_facilities_unit", "facilities", ["unit_code"])

    op.create_table(
        "indicators",
        sa.Column("code", CODE, primary_key=True),
        sa.Column("name_vi", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("short_vi", sa.Text, nullable=True),
        sa.Column("short_en", sa.Text, nullable=True),
        sa.Column("numerator_vi", sa.Text, nullable=True),
        sa.Column("numerator_en", sa.Text, nullable=True),
        sa.Column("denominator_vi", sa.Text, nullable=True),
        sa.Column("denominator_en", sa.Text, nullable=True),
        sa.Column("time_agg", sa.String(8), nullable=False),
        sa.Column("higher_is_better", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("display_unit", sa.String(16), nullable=False, server_default="%"),
        sa.Column("decimals", sa.Integer, nullable=False, server_default="1"),
        sa.Column("grp", sa.String(32), nullable=True),
        sa.Column("unit_vi", sa.Text, nullable=True),
        sa.Column("unit_en", sa.Text, nullable=True),
        sa.Column("gap_vi", sa.Text, nullable=True),
        sa.Column("gap_en", sa.Text, nullable=True),
        sa.Column("headline", sa.Integer, nullable=True),
        sa.Column("sort_order", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("time_agg IN ('stock', 'flow')", name="ck_indicators_time"),
    )
    # Which kinds of entity are expected to report an indicator: a unit level
    # ('province', 'district', 'commune') or 'facility:<type>'. Completeness counts these.
    op.create_table(
        "indicator_scopes",
        sa.Column("indicator_code", CODE, sa.ForeignKey("indicators.code", ondelete="CASCADE"), primary_key=True),
        sa.Column("entity_kind", sa.String(32), primary_key=True),
    )

    op.create_table(
        "targets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("indicator_code", CODE, sa.ForeignKey("indicators.code"), nullable=False),
        sa.Column("scope_code", CODE, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("deadline", MONTH, nullable=False),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.UniqueConstraint("indicator_code", "scope_code", "deadline", name="uq_targets_scope_deadline"),
    )

    op.create_table(
        "data_loads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("rows_added", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_replaced", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
    )

    op.create_table(
        "kpi_values",
        sa.Column("indicator_code", CODE, sa.ForeignKey("indicators.code"), nullable=False),
        sa.Column("period", MONTH, nullable=False),
        sa.Column("entity_code", CODE, nullable=False),
        sa.Column("numerator", sa.Float(53), nullable=False),
        sa.Column("denominator", sa.Float(53), nullable=False),
        sa.Column("load_id", sa.Integer, sa.ForeignKey("data_loads.id"), nullable=False),
        sa.PrimaryKeyConstraint("indicator_code", "period", "entity_code", name="pk_kpi_values"),
    )
    # The covering index the roll-up reads (see STACK-NOTES: 3-4x faster than the key alone):
    # every figure query filters on indicator and a period range and needs only the two sums.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_kpi_values_covering ON kpi_values (indicator_code, period, entity_code) "
            "INCLUDE (numerator, denominator)"
        )
    else:
        op.create_index("ix_kpi_values_covering", "kpi_values",
                        ["indicator_code", "period", "entity_code", "numerator", "denominator"])
    # The unit page reads one entity's whole history.
    op.create_index("ix_kpi_values_entity", "kpi_values", ["entity_code", "indicator_code", "period"])

    # Derived from units + facilities on every hierarchy write: each entity with each of its
    # ancestors (itself at depth 0). Validity is kept as months so queries compare text.
    op.create_table(
        "entity_ancestors",
        sa.Column("entity_code", CODE, nullable=False),
        sa.Column("entity_kind", sa.String(32), nullable=False),
        sa.Column("ancestor_code", CODE, nullable=False),
        sa.Column("ancestor_level", sa.String(16), nullable=False),
        sa.Column("depth", sa.Integer, nullable=False),
        sa.Column("valid_from", MONTH, nullable=True),
        sa.Column("valid_to", MONTH, nullable=True),
        sa.PrimaryKeyConstraint("entity_code", "ancestor_code", name="pk_entity_ancestors"),
    )
    # Both directions are read: all entities under an ancestor (roll-ups), and a value row's
    # ancestor at one level (monthly roll-ups driven by the values).
    op.create_index("ix_entity_ancestors_level", "entity_ancestors",
                    ["ancestor_level", "ancestor_code", "entity_kind", "entity_code"])
    op.create_index("ix_entity_ancestors_entity", "entity_ancestors",
                    ["entity_code", "ancestor_level", "ancestor_code", "entity_kind"])


def downgrade() -> None:
    for table in ("entity_ancestors", "kpi_values", "data_loads", "targets", "indicator_scopes",
                  "indicators", "facilities", "units", "data_version", "meta"):
        op.drop_table(table)
