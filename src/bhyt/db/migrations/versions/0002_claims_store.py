"""Claims store: original files, claims, versions, findings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "original_file",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "claim",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("facility", sa.String(5), nullable=False),
        sa.Column("ma_lk", sa.String(100), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("facility", "ma_lk", name="uq_claim_facility_ma_lk"),
    )
    op.create_table(
        "claim_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("claim_id", sa.Integer, sa.ForeignKey("claim.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("file_sha256", sa.String(64), sa.ForeignKey("original_file.sha256"), nullable=False),
        sa.Column("hoso_index", sa.Integer, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("tables", sa.Text, nullable=False),
        sa.Column("changes", sa.Text, nullable=False),
        sa.UniqueConstraint("claim_id", "version", name="uq_claim_version"),
    )
    op.create_table(
        "claim_finding",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("claim_version.id"), nullable=False),
        sa.Column("table_name", sa.String(8), nullable=True),
        sa.Column("row", sa.Integer, nullable=True),
        sa.Column("field", sa.String(40), nullable=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_claim_version_claim", "claim_version", ["claim_id"])
    op.create_index("ix_claim_finding_version", "claim_finding", ["version_id"])


def downgrade() -> None:
    op.drop_index("ix_claim_finding_version", "claim_finding")
    op.drop_index("ix_claim_version_claim", "claim_version")
    op.drop_table("claim_finding")
    op.drop_table("claim_version")
    op.drop_table("claim")
    op.drop_table("original_file")
