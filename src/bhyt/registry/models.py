"""Registry tables. Participation and card rows are bitemporal: ``valid_from``/``valid_to`` say when
a fact was true, ``recorded_at``/``superseded_at`` when we held it; a correction supersedes a row and
records a new one, so both what was true and what we knew on any day can be answered."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bhyt.db.models import Base


class Facility(Base):
    __tablename__ = "registry_facility"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    province: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(12))  # technical level: initial, basic, specialised
    points: Mapped[str | None] = mapped_column(String(10), nullable=True)
    contract_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    contract_to: Mapped[date | None] = mapped_column(Date, nullable=True)


class Employer(Base):
    """A paying unit that employs insured people (enterprise, cooperative, state agency, …): it
    withholds the employee's share and pays the whole contribution monthly."""

    __tablename__ = "registry_employer"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    province: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(20))


class Payment(Base):
    """Contributions a paying unit paid for a month (the ledger collection is measured against)."""

    __tablename__ = "registry_payment"
    __table_args__ = (Index("ix_registry_payment_month", "month", "payer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payer: Mapped[str] = mapped_column(String(40))
    month: Mapped[date] = mapped_column(Date)  # the month paid for (its first day)
    amount: Mapped[int] = mapped_column(BigInteger)  # đồng
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Household(Base):
    __tablename__ = "registry_household"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    province: Mapped[str] = mapped_column(String(2))
    commune: Mapped[str | None] = mapped_column(String(5), nullable=True)


class Person(Base):
    __tablename__ = "registry_person"
    __table_args__ = (Index("ix_registry_person_household", "household_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    citizen_id: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(Text)
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[int] = mapped_column(SmallInteger)  # 1 male, 2 female (QĐ 4750 GIOI_TINH)
    province: Mapped[str] = mapped_column(String(2))
    commune: Mapped[str | None] = mapped_column(String(5), nullable=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("registry_household.id"), nullable=True)
    household_position: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)


class Participation(Base):
    """Insured through ``group_code`` over [valid_from, valid_to]; paid by ``payer`` (a paying unit:
    employer, BHXH, the state budget, the household) with the state's subsidy share."""

    __tablename__ = "registry_participation"
    __table_args__ = (Index("ix_registry_participation_person", "person_id", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("registry_person.id"))
    group_code: Mapped[str] = mapped_column(String(2))
    payer: Mapped[str] = mapped_column(String(40))
    funding: Mapped[str] = mapped_column(String(12))
    subsidy_percent: Mapped[int] = mapped_column(SmallInteger)
    employer_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    income: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # salary, pension or benefit (đồng/month)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Card(Base):
    __tablename__ = "registry_card"
    __table_args__ = (
        Index("ix_registry_card_number", "number"),
        Index("ix_registry_card_person", "person_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("registry_person.id"))
    number: Mapped[str] = mapped_column(String(15))
    group_code: Mapped[str] = mapped_column(String(2))
    benefit_digit: Mapped[str] = mapped_column(String(1))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    registered_facility: Mapped[str] = mapped_column(String(5))
    continuous_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    five_year_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    living_area: Mapped[str | None] = mapped_column(String(2), nullable=True)
    status: Mapped[str] = mapped_column(String(10))  # issued, renewed, changed, lapsed
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
