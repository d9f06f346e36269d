"""Tables of the claims store: original files (content-addressed), claims keyed by (facility, MA_LK),
every version with what changed, and the findings kept with each version for the assessment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bhyt.db.models import Base


class OriginalFile(Base):
    """The bytes a facility sent, under their SHA-256: any stored claim traces back to them."""

    __tablename__ = "original_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    data: Mapped[bytes] = mapped_column(
        LargeBinary
    )  # compressed (bhyt.claims.compression); ``size`` is the sent length


class Claim(Base):
    """One episode of a facility; its content lives in versions."""

    __tablename__ = "claim"
    __table_args__ = (UniqueConstraint("facility", "ma_lk", name="uq_claim_facility_ma_lk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    facility: Mapped[str] = mapped_column(String(5))
    ma_lk: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12))  # active | withdrawn
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ClaimVersion(Base):
    """What one submission of a claim said, where it came from, and what changed since the last."""

    __tablename__ = "claim_version"
    __table_args__ = (
        UniqueConstraint("claim_id", "version", name="uq_claim_version"),
        Index("ix_claim_version_claim", "claim_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"))
    version: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    file_sha256: Mapped[str] = mapped_column(ForeignKey("original_file.sha256"))
    hoso_index: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(12))  # accepted | new_version | withdrawn
    # JSON: table -> records, by the standard's field names; compressed (bhyt.claims.compression) in
    # ``tables_zst`` (``tables`` then empty), as text in ``tables`` for versions stored before compression
    tables: Mapped[str] = mapped_column(Text)
    tables_zst: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    changes: Mapped[str] = mapped_column(Text)  # JSON: what differs from the previous version


class ClaimFinding(Base):
    """A validation finding kept with a version (a warning: the assessment decides what it costs)."""

    __tablename__ = "claim_finding"
    __table_args__ = (Index("ix_claim_finding_version", "version_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("claim_version.id"))
    table_name: Mapped[str | None] = mapped_column(String(8))
    row: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
