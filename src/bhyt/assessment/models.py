"""Tables of assessment results: a run, its claims (decision, amounts, the duplicate key), findings,
lines and the per-facility-and-month summary. Amounts are whole đồng; the claimed total and fund of
the duplicate key are kept in xu (1/100 đồng, as the standard's two decimals) so that a later run
compares them exactly on any database."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bhyt.db.models import Base


class AssessmentRun(Base):
    __tablename__ = "assessment_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(String(12))
    policy_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    overrides: Mapped[str] = mapped_column(Text)  # JSON list of param=value; a what-if run is not paid
    claims: Mapped[int] = mapped_column(Integer)
    claimed_fund: Mapped[int] = mapped_column(BigInteger)
    assessed_fund: Mapped[int] = mapped_column(BigInteger)


class AssessedClaim(Base):
    __tablename__ = "assessment_claim"
    __table_args__ = (
        Index("ix_assessment_claim_run", "run_id", "seq"),
        Index("ix_assessment_claim_key", "facility", "card", "admitted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assessment_run.id"))
    seq: Mapped[int] = mapped_column(Integer)
    file: Mapped[str | None] = mapped_column(Text, nullable=True)
    facility: Mapped[str | None] = mapped_column(Text, nullable=True)
    claim_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    card: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(8))
    period: Mapped[str | None] = mapped_column(String(7), nullable=True)
    admitted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    discharged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    main_diagnosis: Mapped[str | None] = mapped_column(Text, nullable=True)
    total_xu: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    claimed_fund_xu: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    claimed_fund: Mapped[int] = mapped_column(BigInteger)
    assessed_fund: Mapped[int] = mapped_column(BigInteger)
    assessed_copay: Mapped[int] = mapped_column(BigInteger)
    assessed_outside: Mapped[int] = mapped_column(BigInteger)


class AssessmentFinding(Base):
    __tablename__ = "assessment_finding"
    __table_args__ = (Index("ix_assessment_finding_run", "run_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assessment_run.id"))
    seq: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(60))
    severity: Mapped[str] = mapped_column(String(12))
    table_name: Mapped[str | None] = mapped_column(String(8), nullable=True)
    line: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(Text)


class AssessedLine(Base):
    __tablename__ = "assessment_line"
    __table_args__ = (Index("ix_assessment_line_run", "run_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assessment_run.id"))
    seq: Mapped[int] = mapped_column(Integer)
    table_name: Mapped[str] = mapped_column(String(8))
    line_no: Mapped[int] = mapped_column(Integer)
    kept: Mapped[bool]
    fund_xu: Mapped[int] = mapped_column(BigInteger)
    copay_xu: Mapped[int] = mapped_column(BigInteger)
    outside_xu: Mapped[int] = mapped_column(BigInteger)
    rejected_xu: Mapped[int] = mapped_column(BigInteger)


class FacilityPeriod(Base):
    __tablename__ = "assessment_facility"
    __table_args__ = (Index("ix_assessment_facility_run", "run_id", "facility"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assessment_run.id"))
    facility: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(String(7))
    claims: Mapped[int] = mapped_column(Integer)
    claimed_fund: Mapped[int] = mapped_column(BigInteger)
    assessed_fund: Mapped[int] = mapped_column(BigInteger)
    accepted: Mapped[int] = mapped_column(Integer)
    partial: Mapped[int] = mapped_column(Integer)
    review: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    invalid: Mapped[int] = mapped_column(Integer)
