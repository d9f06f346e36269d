"""Table definitions shared by every store. Migrations under ``migrations/versions`` create them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class PolicyParameterValue(Base):
    """One dated value of a policy parameter, published from the YAML files so that SQL reports
    and engines reading the database can take rules "as at" a date with a join."""

    __tablename__ = "policy_parameter_value"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    valid_to: Mapped[date | None] = mapped_column(Date)  # inclusive; NULL while in force
    kind: Mapped[str] = mapped_column(String(30))
    unit: Mapped[str] = mapped_column(String(100))
    value_numeric: Mapped[object | None] = mapped_column(Numeric(24, 6))  # scalar kinds only
    value_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_policy_parameter_value_name_to", "name", "valid_to"),)
