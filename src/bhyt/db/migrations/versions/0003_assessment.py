"""Assessment results: runs, claims with their duplicate key, findings, lines, facility summaries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _run_id() -> sa.Column[int]:
    return sa.Column("run_id", sa.Integer, sa.ForeignKey("assessment_run.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "assessment_run",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("engine", sa.String(12), nullable=False),
        sa.Column("policy_date", sa.Date, nullable=True),
        sa.Column("overrides", sa.Text, nullable=False),
        sa.Column("claims", sa.Integer, nullable=False),
        sa.Column("claimed_fund", sa.BigInteger, nullable=False),
        sa.Column("assessed_fund", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "assessment_claim",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _run_id(),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("file", sa.Text, nullable=True),
        sa.Column("facility", sa.Text, nullable=True),
        sa.Column("claim_id", sa.String(100), nullable=True),
        sa.Column("card", sa.Text, nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("period", sa.String(7), nullable=True),
        sa.Column("admitted_at", sa.DateTime, nullable=True),
        sa.Column("discharged_at", sa.DateTime, nullable=True),
        sa.Column("main_diagnosis", sa.Text, nullable=True),
        sa.Column("total_xu", sa.BigInteger, nullable=True),
        sa.Column("claimed_fund_xu", sa.BigInteger, nullable=True),
        sa.Column("claimed_fund", sa.BigInteger, nullable=False),
        sa.Column("assessed_fund", sa.BigInteger, nullable=False),
        sa.Column("assessed_copay", sa.BigInteger, nullable=False),
        sa.Column("assessed_outside", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_assessment_claim_run", "assessment_claim", ["run_id", "seq"])
    op.create_index("ix_assessment_claim_key", "assessment_claim", ["facility", "card", "admitted_at"])
    op.create_table(
        "assessment_finding",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _run_id(),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("rule", sa.String(60), nullable=False),
        sa.Column("severity", sa.String(12), nullable=False),
        sa.Column("table_name", sa.String(8), nullable=True),
        sa.Column("line", sa.Integer, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_assessment_finding_run", "assessment_finding", ["run_id", "seq"])
    op.create_table(
        "assessment_line",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _run_id(),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("table_name", sa.String(8), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("kept", sa.Boolean, nullable=False),
        sa.Column("fund_xu", sa.BigInteger, nullable=False),
        sa.Column("copay_xu", sa.BigInteger, nullable=False),
        sa.Column("outside_xu", sa.BigInteger, nullable=False),
        sa.Column("rejected_xu", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_assessment_line_run", "assessment_line", ["run_id", "seq"])
    op.create_table(
        "assessment_facility",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _run_id(),
        sa.Column("facility", sa.Text, nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        *(
            sa.Column(n, sa.BigInteger if n.endswith("fund") else sa.Integer, nullable=False)
            for n in ("claims", "claimed_fund", "assessed_fund", "accepted", "partial", "review", "rejected", "invalid")
        ),
    )
    op.create_index("ix_assessment_facility_run", "assessment_facility", ["run_id", "facility"])


def downgrade() -> None:
    for table in ("assessment_facility", "assessment_line", "assessment_finding", "assessment_claim", "assessment_run"):
        op.drop_table(table)  # with its indexes
