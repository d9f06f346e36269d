"""Tables of detection runs: a run, its claim worklist and its facility worklist. Amounts in đồng;
risk as a fraction; patterns, reasons and the claims involved as JSON lists (read by the review
screen, never queried inside)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bhyt.db.models import Base


class DetectionRun(Base):
    __tablename__ = "detection_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)  # JSON: what the model was trained and validated on
    claims: Mapped[int] = mapped_column(Integer)
    at_risk: Mapped[int] = mapped_column(BigInteger)


class DetectionClaim(Base):
    __tablename__ = "detection_claim"
    __table_args__ = (Index("ix_detection_claim_run", "run_id", "rank"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("detection_run.id"))
    rank: Mapped[int] = mapped_column(Integer)
    facility: Mapped[str] = mapped_column(String(5))
    claim_id: Mapped[str] = mapped_column(String(100))
    card: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(8))
    claimed_fund: Mapped[int] = mapped_column(BigInteger)
    risk: Mapped[float] = mapped_column(Float)
    anomaly: Mapped[float] = mapped_column(Float)
    at_risk: Mapped[int] = mapped_column(BigInteger)
    patterns: Mapped[str] = mapped_column(Text)
    explanations: Mapped[str] = mapped_column(Text)
    reasons: Mapped[str] = mapped_column(Text)
    related: Mapped[str] = mapped_column(Text)


class DetectionFacility(Base):
    __tablename__ = "detection_facility"
    __table_args__ = (Index("ix_detection_facility_run", "run_id", "rank"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("detection_run.id"))
    rank: Mapped[int] = mapped_column(Integer)
    facility: Mapped[str] = mapped_column(String(5))
    level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    claims: Mapped[int] = mapped_column(Integer)
    claimed_fund: Mapped[int] = mapped_column(BigInteger)
    at_risk: Mapped[int] = mapped_column(BigInteger)
    flagged: Mapped[int] = mapped_column(Integer)
    mean_risk: Mapped[float] = mapped_column(Float)
    top_patterns: Mapped[str] = mapped_column(Text)
