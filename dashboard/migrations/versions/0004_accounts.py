"""Accounts: users, wall-screen tokens and the audit of account and administration events.

Users are people who log in (admin, viewer, or a unit head scoped to one unit and
everything below it). Wall tokens let one operations-room screen show the wall without a
login; only a SHA-256 of each token is stored. The audit log records who changed what
(users, tokens, the demo's removal); data loads keep their own audit in data_loads.

No foreign key from users.unit_code to units: units are data that imports replace and
`dashboard demo remove` deletes; a unit head whose unit disappears simply sees nothing.

Revision ID: 0004_accounts
Revises: 0003_levels
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_accounts"
down_revision = "0003_levels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.Text, nullable=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit_code", sa.String(32), nullable=True),
        # Bumped by a password change: every session issued before it stops working.
        sa.Column("session_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.CheckConstraint("role IN ('admin', 'viewer', 'unit')", name="ck_users_role"),
        sa.CheckConstraint("(role = 'unit') = (unit_code IS NOT NULL)", name="ck_users_unit_code"),
    )
    op.create_table(
        "wall_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Text, nullable=True),
        sa.UniqueConstraint("token_sha256", name="uq_wall_tokens_sha256"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.Text, nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("wall_tokens")
    op.drop_table("users")
