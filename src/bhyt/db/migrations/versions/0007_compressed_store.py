"""The claims store compressed: a version's tables in ``tables_zst`` (Zstandard, bhyt.claims.compression), the
text column kept, now nullable, for versions stored before; original files' ``data`` holds compressed
bytes from now on (read back by their frame's magic, so old rows need no rewrite).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claim_version") as batch:
        batch.add_column(sa.Column("tables_zst", sa.LargeBinary, nullable=True))
        batch.alter_column("tables", existing_type=sa.Text, nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("claim_version") as batch:
        batch.alter_column("tables", existing_type=sa.Text, nullable=False)
        batch.drop_column("tables_zst")
