"""framework files: frameworks a 管理员 uploaded, kept as their bytes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "framework_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("hash", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("framework_id", "hash", name="uq_framework_files_id_hash"),
    )
    with op.batch_alter_table("framework_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_framework_files_framework_id"), ["framework_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("framework_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_framework_files_framework_id"))
    op.drop_table("framework_files")
