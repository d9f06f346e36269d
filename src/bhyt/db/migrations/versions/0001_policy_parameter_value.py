"""Published policy parameter values.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_parameter_value",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("valid_from", sa.Date, primary_key=True),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("value_numeric", sa.Numeric(24, 6), nullable=True),
        sa.Column("value_json", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
    )
    op.create_index("ix_policy_parameter_value_name_to", "policy_parameter_value", ["name", "valid_to"])


def downgrade() -> None:
    op.drop_index("ix_policy_parameter_value_name_to", "policy_parameter_value")
    op.drop_table("policy_parameter_value")
