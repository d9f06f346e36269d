"""Detection runs: the run, its claim worklist and its facility worklist.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _run_id() -> sa.Column[int]:
    return sa.Column("run_id", sa.Integer, sa.ForeignKey("detection_run.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "detection_run",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("claims", sa.Integer, nullable=False),
        sa.Column("at_risk", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "detection_claim",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _run_id(),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("facility", sa.String(5), nullable=False),
        sa.Column("claim_id", sa.String(100), nullable=False),
        sa.Column("card", sa.Text, nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("claimed_fund", sa.BigInteger, nullable=False),
        sa.Column("risk", sa.Float, nullable=False),
        sa.Column("anomaly", sa.Float, nullable=False),
        sa.Column("at_risk", sa.BigInteger, nullable=False),
        sa.Column("patterns", sa.Text, nullable=False),
        sa.Column("explanations", sa.Text, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("related", sa.Text, nullable=False),
    )
    op.create_index("ix_detection_claim_run", "detection_claim", ["run_id", "rank"])
    op.create_table(
        "detection_facility",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _run_id(),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("facility", sa.String(5), nullable=False),
        sa.Column("level", sa.String(20), nullable=True),
        sa.Column("claims", sa.Integer, nullable=False),
        sa.Column("claimed_fund", sa.BigInteger, nullable=False),
        sa.Column("at_risk", sa.BigInteger, nullable=False),
        sa.Column("flagged", sa.Integer, nullable=False),
        sa.Column("mean_risk", sa.Float, nullable=False),
        sa.Column("top_patterns", sa.Text, nullable=False),
    )
    op.create_index("ix_detection_facility_run", "detection_facility", ["run_id", "rank"])


def downgrade() -> None:
    op.drop_table("detection_facility")
    op.drop_table("detection_claim")
    op.drop_table("detection_run")
