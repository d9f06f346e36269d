"""The registry read from the database: the card index the counter uses, a person's record, the
contributions due from a household, and the monthly increase/decrease lists per paying unit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Engine, Executable, and_, case, func, or_, select

from bhyt.assessment.store import copay_by_card_year, visits_on_cards
from bhyt.db import in_force
from bhyt.errors import BhytError
from bhyt.policy.contribution import household_contributions
from bhyt.policy.params import ParameterSet
from bhyt.registry.dues import COLUMNS as DUE_COLUMNS
from bhyt.registry.dues import dues_by_payer, month_end, next_month
from bhyt.registry.eligibility import COLUMNS, CardIndex, Facility, Period
from bhyt.registry.models import Card, Employer, Household, Participation, Payment, Person
from bhyt.registry.models import Facility as FacilityRow

CHUNK = 200_000


class PersonNotFoundError(BhytError, LookupError):
    """No person with that citizen ID in the registry."""

    code = "registry.person_unknown"
    exit_code = 1


def card_index(engine: Engine) -> CardIndex:
    """Every current card period with its holder's citizen ID, the facilities, and each person's
    co-payment per year from the latest ordinary assessment of each claim."""
    query = (
        select(
            Card.person_id,
            Person.citizen_id,
            Card.number,
            Card.group_code,
            Card.benefit_digit,
            Card.valid_from,
            Card.valid_to,
            Card.registered_facility,
            Card.five_year_date,
            Card.living_area,
            Person.province,
        )
        .join(Person, Person.id == Card.person_id)
        .where(Card.superseded_at.is_(None))
        .order_by(Card.id)
    )
    types = [pa.int64(), pa.string(), pa.string(), pa.string(), pa.string(), pa.date32(), pa.date32(), pa.string(),
             pa.date32(), pa.string(), pa.string()]  # fmt: skip
    with engine.connect() as conn:
        periods = _arrow(conn, query, pa.schema(list(zip(COLUMNS, types, strict=True))))
        columns_f = (FacilityRow.code, FacilityRow.province, FacilityRow.kind, FacilityRow.level, FacilityRow.points,
                     FacilityRow.contract_from, FacilityRow.contract_to)  # fmt: skip
        facilities = [Facility(*f) for f in conn.execute(select(*columns_f))]
        holders = dict(conn.execute(select(Card.number, Card.person_id).where(Card.superseded_at.is_(None))).all())
    copay: dict[tuple[int, int], int] = defaultdict(int)
    for (number, year), paid in copay_by_card_year(engine).items():
        if number in holders:
            copay[(holders[number], year)] += paid
    return CardIndex(periods, facilities, dict(copay))


def _arrow(conn: Connection, query: Executable, schema: pa.Schema) -> pa.Table:
    """A query's rows as an Arrow table of ``schema``, read in chunks straight into Arrow: ten million
    rows as Python tuples would need gigabytes."""
    batches = []
    for part in conn.execution_options(yield_per=CHUNK).execute(query).partitions():
        columns = list(zip(*part, strict=True))
        batches.append(pa.record_batch([pa.array(c, f.type) for c, f in zip(columns, schema, strict=True)], schema))
    return pa.Table.from_batches(batches, schema)


def person_periods(engine: Engine, person_id: int) -> list[Period]:
    """A person's card periods in force in the record, as the card index holds them (for its overlay
    after a change)."""
    query = (
        select(
            Card.person_id, Person.citizen_id, Card.number, Card.group_code, Card.benefit_digit, Card.valid_from,
            Card.valid_to, Card.registered_facility, Card.five_year_date, Card.living_area, Person.province,
        )
        .join(Person, Person.id == Card.person_id)
        .where(Card.person_id == person_id, Card.superseded_at.is_(None))
        .order_by(Card.valid_from)
    )  # fmt: skip
    with engine.connect() as conn:
        return [Period(*row) for row in conn.execute(query)]


def holder(engine: Engine, citizen_id: str) -> dict[str, str] | None:
    """Who holds a citizen ID, as the counter confirms it: name and birth date (None when unknown)."""
    with engine.connect() as conn:
        row = conn.execute(select(Person.name, Person.birth_date).where(Person.citizen_id == citizen_id)).first()
    return None if row is None else {"name": row.name, "birth_date": row.birth_date.isoformat()}


def person_record(
    engine: Engine, citizen_id: str, known_at: datetime | None = None, history: bool = False
) -> dict[str, Any] | None:
    """A person's identity, household, participation and cards (None when unknown): what the record
    holds now, or held at ``known_at``, or with ``history`` every row it ever recorded."""
    if known_at is not None and known_at.tzinfo is not None:  # the record's times are local and naive
        known_at = known_at.astimezone().replace(tzinfo=None)
    with engine.connect() as conn:
        person = conn.execute(select(Person).where(Person.citizen_id == citizen_id)).mappings().first()
        if person is None:
            return None
        p = dict(person)
        held = {}
        for table in (Participation, Card):
            when = [table.person_id == p["id"]]
            if known_at is None and not history:
                when.append(table.superseded_at.is_(None))
            elif known_at is not None:
                when += [table.recorded_at <= known_at,
                         or_(table.superseded_at.is_(None), table.superseded_at > known_at)]  # fmt: skip
            held[table] = conn.execute(select(table).where(*when).order_by(table.valid_from, table.id)).mappings()
        parts, cards = held[Participation], held[Card]
        return {
            "citizen_id": p["citizen_id"],
            "name": p["name"],
            "birth_date": p["birth_date"].isoformat(),
            "sex": p["sex"],
            "province": p["province"],
            "commune": p["commune"],
            "household_id": p["household_id"],
            "household_position": p["household_position"],
            "participation": [_plain(dict(r), ("id", "person_id")) for r in parts],
            "cards": [_plain(dict(r), ("person_id",)) for r in cards],  # the id names a period to correct
        }


def person_province(engine: Engine, citizen_id: str) -> str | None:
    """The province of the person with this citizen ID (None when unknown): it scopes who may see
    and change their record."""
    with engine.connect() as conn:
        return conn.scalar(select(Person.province).where(Person.citizen_id == citizen_id))


def household_due(
    engine: Engine, params: ParameterSet, household_id: int, start: date, months: int
) -> dict[str, Any] | None:
    """What each member of a household owes for ``months`` months from ``start`` (the household
    schedule: 100%, 70%, 60%, 50%, then 40% of one person's contribution; members insured otherwise
    keep their own rule), from each member's participation group in force on ``start``. None when
    there is no such household."""
    with engine.connect() as conn:
        household = conn.execute(select(Household.province).where(Household.id == household_id)).first()
        if household is None:
            return None
        members = conn.execute(
            select(Person.citizen_id, Person.household_position, Participation.group_code)
            .join(Participation, Participation.person_id == Person.id)
            .where(
                Person.household_id == household_id,
                Participation.superseded_at.is_(None),
                in_force(Participation.valid_from, Participation.valid_to, start),
            )
            .order_by(Person.household_position, Person.id)
        ).all()
    due = household_contributions(params, groups=[m.group_code for m in members], start=start, months=months)
    return {
        "household_id": household_id,
        "province": household.province,
        "start": start.isoformat(),
        "months": months,
        "members": [
            {
                "citizen_id": m.citizen_id,
                "group": m.group_code,
                "total": c.total,
                "person": c.person,
                "state": c.state,
                "employer": c.employer,
                "social_insurance": c.social_insurance,
            }
            for m, c in zip(members, due, strict=True)
        ],
        "household_pays": sum(c.person for c in due),
    }


def visits(engine: Engine, citizen_id: str) -> list[dict[str, Any]]:
    """A person's assessed visits on any of their cards, as the assessment records them."""
    cards = select(Card.number).join(Person, Person.id == Card.person_id).where(Person.citizen_id == citizen_id)
    with engine.connect() as conn:
        numbers = sorted({n for (n,) in conn.execute(cards)})
    return visits_on_cards(engine, numbers)


@dataclass(frozen=True)
class Change:
    payer: str
    kind: str  # increase (tăng) or decrease (giảm)
    province: str  # the person's
    citizen_id: str
    group: str
    on: date


def monthly_changes(engine: Engine, month: date) -> list[Change]:
    """The month's increase list (participations starting in it) and decrease list (ending in it),
    per paying unit."""
    first = month.replace(day=1)
    nxt = next_month(first)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Participation.person_id,
                Participation.payer,
                Participation.group_code,
                Participation.valid_from,
                Participation.valid_to,
                Person.citizen_id,
                Person.province,
            )
            .join(Person, Person.id == Participation.person_id)
            .where(
                Participation.superseded_at.is_(None),
                or_(
                    and_(Participation.valid_from >= first, Participation.valid_from < nxt),
                    and_(Participation.valid_to >= first, Participation.valid_to < nxt),
                ),
            )
        ).all()
        # A period that only continues another on the same unit's list (a new card number, a new
        # registered facility) is neither an increase nor a decrease.
        p = Participation
        spans: set[tuple[int, str, date, date | None]] = set()
        for part in _chunks(sorted({r.person_id for r in rows})):
            query = select(p.person_id, p.payer, p.valid_from, p.valid_to).where(
                p.superseded_at.is_(None), p.person_id.in_(part)
            )
            spans |= {(q.person_id, q.payer, q.valid_from, q.valid_to) for q in conn.execute(query)}
    starts = {(p, payer, start) for p, payer, start, _ in spans}
    ends = {(p, payer, end) for p, payer, _, end in spans if end is not None}
    out = []
    for r in rows:
        if first <= r.valid_from < nxt and (r.person_id, r.payer, r.valid_from - timedelta(days=1)) not in ends:
            out.append(Change(r.payer, "increase", r.province, r.citizen_id, r.group_code, r.valid_from))
        ended = r.valid_to is not None and first <= r.valid_to < nxt
        if ended and (r.person_id, r.payer, r.valid_to + timedelta(days=1)) not in starts:
            out.append(Change(r.payer, "decrease", r.province, r.citizen_id, r.group_code, r.valid_to))
    return sorted(out, key=lambda c: (c.payer, c.kind, c.on, c.citizen_id))


def _chunks(values: list[int], size: int = 500) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _plain(row: dict[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items() if k not in drop}


COLLECTION_STATUSES = ("paid", "late", "partial", "unpaid", "nothing_due")


def participations_in(engine: Engine, month: date) -> pa.Table:
    """The participations in force on some day of ``month`` (the columns :mod:`bhyt.registry.dues` reads)."""
    first = month.replace(day=1)
    query = (
        select(Participation.person_id, Participation.group_code, Participation.payer, Participation.funding,
               Person.province, Participation.valid_from, Participation.valid_to, Participation.income,
               Person.household_id, Person.household_position)
        .join(Person, Person.id == Participation.person_id)
        .where(Participation.superseded_at.is_(None), Participation.valid_from < next_month(first),
               or_(Participation.valid_to.is_(None), Participation.valid_to >= first))
    )  # fmt: skip
    types = [pa.int64(), pa.string(), pa.string(), pa.string(), pa.string(), pa.date32(), pa.date32(), pa.int64(),
             pa.int64(), pa.int64()]  # fmt: skip
    with engine.connect() as conn:
        return _arrow(conn, query, pa.schema(list(zip(DUE_COLUMNS, types, strict=True))))


def collection(engine: Engine, params: ParameterSet, month: date) -> list[dict[str, Any]]:
    """Per paying unit for ``month``: what is due (the registry's participations, the policy's rates),
    what was paid for it and when, what is outstanding, and a status — ``paid`` (in full by the
    deadline, ``contribution.payment_deadline_months``), ``late`` (in full, after it), ``partial``,
    ``unpaid`` or ``nothing_due``. Units that paid for a month with nobody on their list appear too."""
    first = month.replace(day=1)
    due = dues_by_payer(params, participations_in(engine, first), first).to_pylist()
    deadline = month_end(first, params.integer("contribution.payment_deadline_months", first))
    in_time = func.sum(case((Payment.paid_on <= deadline, Payment.amount), else_=0)).label("in_time")
    query = (
        select(Payment.payer, func.sum(Payment.amount).label("amount"), in_time,
               func.max(Payment.paid_on).label("last_paid_on"))
        .where(Payment.month == first)
        .group_by(Payment.payer)
    )  # fmt: skip
    with engine.connect() as conn:
        paid = {r.payer: r for r in conn.execute(query)}
        employers = {code: (name, province) for code, name, province in conn.execute(
            select(Employer.code, Employer.name, Employer.province))}  # fmt: skip
    rows = []
    for d in due:
        p = paid.pop(d["payer"], None)
        rows.append(_collected(d, p, deadline, employers))
    for payer, p in paid.items():  # paid, with nobody listed: an overpayment to settle
        blank = {"payer": payer, "funding": payer.split(":")[0], "province": None, "people": 0, "unpriced": 0,
                 "total": 0, "employer": 0, "person": 0, "state": 0, "social_insurance": 0}  # fmt: skip
        rows.append(_collected(blank, p, deadline, employers))
    return sorted(rows, key=lambda r: r["payer"])


def _collected(d: dict[str, Any], p: Any, deadline: date, employers: dict[str, tuple[str, str]]) -> dict[str, Any]:
    amount = int(p.amount) if p is not None else 0
    in_time = int(p.in_time) if p is not None else 0
    total = int(d["total"])
    if total == 0:
        status = "nothing_due"
    elif in_time >= total:
        status = "paid"
    elif amount >= total:
        status = "late"
    else:
        status = "partial" if amount > 0 else "unpaid"
    name, unit_province = employers.get(d["payer"].removeprefix("employer:"), (None, d["province"]))
    return d | {
        "name": name,
        "unit_province": unit_province,  # an employer's own; otherwise its people's
        "deadline": deadline.isoformat(),
        "paid": amount,
        "paid_by_deadline": in_time,
        "last_paid_on": p.last_paid_on.isoformat() if p is not None and p.last_paid_on else None,
        "outstanding": max(total - amount, 0),
        "overpaid": max(amount - total, 0),
        "status": status,
    }
