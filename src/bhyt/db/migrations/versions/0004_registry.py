"""Registry (facilities, households, people, participation, cards) and the append-only audit log.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("audit_log", "registry_card", "registry_participation", "registry_person", "registry_household",
          "registry_facility")  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "registry_facility",
        sa.Column("code", sa.String(5), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("level", sa.String(12), nullable=False),
        sa.Column("points", sa.String(10), nullable=True),
        sa.Column("contract_from", sa.Date, nullable=True),
        sa.Column("contract_to", sa.Date, nullable=True),
    )
    op.create_table(
        "registry_household",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("commune", sa.String(5), nullable=True),
    )
    op.create_table(
        "registry_person",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("citizen_id", sa.String(12), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.SmallInteger, nullable=False),
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("commune", sa.String(5), nullable=True),
        sa.Column("household_id", sa.BigInteger, sa.ForeignKey("registry_household.id"), nullable=True),
        sa.Column("household_position", sa.SmallInteger, nullable=True),
    )
    op.create_index("ix_registry_person_household", "registry_person", ["household_id"])
    op.create_table(
        "registry_participation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("registry_person.id"), nullable=False),
        sa.Column("group_code", sa.String(2), nullable=False),
        sa.Column("payer", sa.String(40), nullable=False),
        sa.Column("funding", sa.String(12), nullable=False),
        sa.Column("subsidy_percent", sa.SmallInteger, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.Column("superseded_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_registry_participation_person", "registry_participation", ["person_id", "valid_from"])
    op.create_table(
        "registry_card",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("registry_person.id"), nullable=False),
        sa.Column("number", sa.String(15), nullable=False),
        sa.Column("group_code", sa.String(2), nullable=False),
        sa.Column("benefit_digit", sa.String(1), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("registered_facility", sa.String(5), nullable=False),
        sa.Column("continuous_since", sa.Date, nullable=True),
        sa.Column("five_year_date", sa.Date, nullable=True),
        sa.Column("living_area", sa.String(2), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.Column("superseded_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_registry_card_number", "registry_card", ["number"])
    op.create_index("ix_registry_card_person", "registry_card", ["person_id", "valid_from"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    # The audit log is append-only in the database itself, not only in the code that writes it.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only()")
