"""The claims store compressed: a version's tables in ``tables_zst`` (Zstandard, bhyt.claims.compression),
``tables`` left empty for them and kept as text for the versions stored before; original files' ``data``
holds compressed bytes from now on (read back by their frame's magic, so old rows need no rewrite).

Only a column is added: no table is rebuilt, so an existing SQLite store (whose findings point at its
versions) upgrades in place.

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
    op.add_column("claim_version", sa.Column("tables_zst", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    """Back to text: each compressed version's tables written out before the column goes."""
    from bhyt.claims.compression import unpack

    conn = op.get_bind()
    versions = sa.table("claim_version", sa.column("id"), sa.column("tables"), sa.column("tables_zst"))
    for vid, packed in conn.execute(
        sa.select(versions.c.id, versions.c.tables_zst).where(versions.c.tables_zst.is_not(None))
    ).all():
        conn.execute(
            versions.update().where(versions.c.id == vid).values(tables=unpack(packed).decode(), tables_zst=None)
        )
    with op.batch_alter_table("claim_version") as batch:
        batch.drop_column("tables_zst")
