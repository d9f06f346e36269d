"""Paying units: the employer register, each participation's income and employer, and the
contributions paid (the ledger that collection is measured against).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_employer",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
    )
    with op.batch_alter_table("registry_participation") as batch:
        batch.add_column(sa.Column("employer_code", sa.String(12), nullable=True))
        batch.add_column(sa.Column("income", sa.BigInteger, nullable=True))
    op.create_table(
        "registry_payment",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("payer", sa.String(40), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("reference", sa.String(40), nullable=True),
    )
    op.create_index("ix_registry_payment_month", "registry_payment", ["month", "payer"])


def downgrade() -> None:
    op.drop_index("ix_registry_payment_month", "registry_payment")
    op.drop_table("registry_payment")
    with op.batch_alter_table("registry_participation") as batch:
        batch.drop_column("income")
        batch.drop_column("employer_code")
    op.drop_table("registry_employer")
