"""Indexes for the questions asked about one load.

* ``kpi_values(load_id)`` — an undo lists the months a load wrote and deletes its cells
  (queries/undo_value_months.sql, undo_values_delete.sql, the count in dashboard/undo.py):
  without it each is a scan of every value row (2.4 M nationally) per undo, and per preview.
* ``audit_log(action, subject)`` — the loads page and ``dashboard loads list``
  (queries/loads_audit.sql) join every load to its undo entry (``action = 'load_undo'``,
  ``subject = 'load:<id>'``), and an undo looks its load up the same way (undo_load.sql); the
  log also holds every sign-in, so without it that join scans the whole log once per load.

The other tables read by load id are indexed already: ``kpi_value_history`` by ``load_id``
(ix_kpi_value_history_load) and by ``replaced_by_load_id`` (its primary key's first column),
``record_history`` by ``load_id`` (ix_record_history_load), ``data_loads`` by its key.

Revision ID: 0010_load_index
Revises: 0009_reform
Create Date: 2026-12-02
"""
from alembic import op

revision = "0010_load_index"
down_revision = "0009_reform"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_kpi_values_load", "kpi_values", ["load_id"])
    op.create_index("ix_audit_log_action_subject", "audit_log", ["action", "subject"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_action_subject", table_name="audit_log")
    op.drop_index("ix_kpi_values_load", table_name="kpi_values")
