"""The audit log's table: security owns who read what; the domains only call :class:`~bhyt.security.audit.AuditLog`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bhyt.db.models import Base


class AuditEntry(Base):
    """Append-only: who read or changed what, when and why (the database refuses updates and deletes)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_subject", "subject"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    subject: Mapped[str] = mapped_column(String(100))  # the token's subject (a user or a system)
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))  # eligibility.check, person.read, …
    target: Mapped[str] = mapped_column(Text)  # whose data: card number or citizen ID, masked never
    purpose: Mapped[str] = mapped_column(Text)  # the X-Purpose header or the endpoint's default
    outcome: Mapped[str] = mapped_column(String(12))  # allowed, denied, not_found
