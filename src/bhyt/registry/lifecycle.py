"""Changes to a person's cover: issue a card, renew it, change its group, lapse it, change the
registered primary facility, and correct a recorded period.

Bitemporal, as the tables are: no row is edited except to set ``superseded_at``. A change
supersedes the rows it alters and records their successors with the time we learned it, so what
was true on a day and what we knew on a day both stay answerable (``person_record(known_at=…)``).
A card period and its participation are written together and share their dates.

The checks are pure functions of the request and the person's periods in force, each failing with
a stable rule code; each change is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from bhyt.errors import BhytError
from bhyt.policy.params import ParameterSet
from bhyt.policy.periods import covers
from bhyt.registry.dues import participation_terms
from bhyt.registry.eligibility import contract_in_force
from bhyt.registry.models import Card, Employer, Facility, Participation, Person

QUARTER_MONTHS = (1, 4, 7, 10)
CORRECTABLE = ("valid_from", "valid_to", "registered_facility", "living_area", "continuous_since", "five_year_date")


# Every rule a change can be refused by (a RegistryRuleError's ``code``), and what it means: the API
# documents each as a problem type.
RULE_CODES: dict[str, str] = {
    "registry.change_window": "the registered facility changes only in the first month of a quarter",
    "registry.correction_field": "a correction names a field that cannot be corrected",
    "registry.employer_unexpected": "an employer is given for a group that no employer pays",
    "registry.employer_unknown": "an employer-funded group with no employer, or one the register does not hold",
    "registry.facility_not_contracted": "the facility holds no contract with the fund on that date",
    "registry.facility_unknown": "no facility with that code in the registry",
    "registry.group_unknown": "a participant group with no funding rule on that date",
    "registry.income_missing": "a group that contributes on an income is given none",
    "registry.income_unexpected": "an income is given for a group that contributes on the base salary",
    "registry.no_card": "the person holds no card to change",
    "registry.no_current_card": "the person holds no card in force on that date",
    "registry.no_rules": "no rules of cover in force on that date",
    "registry.no_such_period": "no card period with that id for the person",
    "registry.open_ended": "the period is open-ended where an end is needed",
    "registry.overlap": "the new period overlaps a card period on record",
    "registry.period_order": "the period ends before it starts",
    "registry.person_id_range": "a person id outside the range a social insurance number is made from",
    "registry.person_unknown": "no person with that citizen ID in the registry",
    "registry.same_facility": "the person is registered at that facility already",
    "registry.same_group": "the person is insured through that group already",
}


class RegistryRuleError(BhytError, ValueError):
    """A change the registry's rules refuse: ``code`` names the rule, ``status`` the HTTP answer
    (404 unknown person, 409 conflicts with the record, 422 an invalid request)."""

    code = "registry.rule"
    exit_code = 1  # the change was tried and refused

    def __init__(self, code: str, status: int, message: str) -> None:
        self.code, self.status = code, status
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class Current:
    """A card period in force in the record, with its participation."""

    card_id: int
    participation_id: int | None
    number: str
    group: str
    benefit_digit: str
    valid_from: date
    valid_to: date | None
    registered_facility: str
    continuous_since: date | None
    five_year_date: date | None
    living_area: str | None
    employer_code: str | None = None  # the participation's
    income: int | None = None


@dataclass(frozen=True)
class Change:
    """What a change did: the rule it followed and the person it touched."""

    action: str
    person_id: int
    citizen_id: str
    card: str
    valid_from: date
    valid_to: date | None


# --- the rules (pure) -----------------------------------------------------------------------------


def covering(periods: list[Current], on: date) -> Current | None:
    """The period in force on ``on`` (the latest when records overlap)."""
    found = [p for p in periods if covers(p, on)]
    return max(found, key=lambda p: p.valid_from) if found else None


def check_new_period(periods: list[Current], start: date, end: date | None) -> None:
    if end is not None and end < start:
        raise RegistryRuleError("registry.period_order", 422, f"the period ends ({end}) before it starts ({start})")
    for p in periods:
        if (p.valid_to is None or start <= p.valid_to) and (end is None or p.valid_from <= end):
            raise RegistryRuleError("registry.overlap", 409, f"card {p.number} already covers {p.valid_from} to "
                                    f"{p.valid_to or 'open'}: renew, change its group or lapse it")  # fmt: skip


def check_group(params: ParameterSet, group: str, on: date) -> str:
    """The usual benefit digit of a participant group on ``on``."""
    funding = params.code_by_code("contribution.funding_by_group", on)
    usual = params.code_by_code("benefit.usual_level_by_group", on)
    if group not in funding or group not in usual:
        raise RegistryRuleError("registry.group_unknown", 422, f"group {group!r} has no funding rule on {on}")
    return usual[group]


def check_work(params: ParameterSet, group: str, on: date, employer: Any, code: str | None,
               income: int | None) -> None:  # fmt: skip
    """Employer-funded groups need a registered employer and a salary; groups paid by the social
    insurance fund need the pension or benefit; others take neither. ``employer``: the register's row."""
    funding = params.code_by_code("contribution.funding_by_group", on).get(group)
    if funding == "employer" and (code is None or employer is None):
        raise RegistryRuleError(
            "registry.employer_unknown",
            422,
            f"group {group} is paid by an employer: give one from the register, not {code!r}",
        )
    if funding != "employer" and code is not None:
        raise RegistryRuleError("registry.employer_unexpected", 422, f"group {group} is not paid by an employer")
    if funding in ("employer", "bhxh") and (income is None or income < 0):
        raise RegistryRuleError(
            "registry.income_missing",
            422,
            f"group {group} contributes on a salary, pension or benefit: give it (đồng a month)",
        )
    if funding not in ("employer", "bhxh") and income is not None:
        raise RegistryRuleError("registry.income_unexpected", 422, f"group {group} contributes on the base salary")


def check_facility(facility: Any, code: str, on: date) -> None:
    """``facility``: the registry row (``contract_from``, ``contract_to``) or None."""
    if facility is None:
        raise RegistryRuleError("registry.facility_unknown", 422, f"facility {code!r} is not in the registry")
    if not contract_in_force(facility.contract_from, facility.contract_to, on):
        raise RegistryRuleError("registry.facility_not_contracted", 422,
                                f"facility {code} holds no contract with the fund on {on}")  # fmt: skip


def check_change_window(params: ParameterSet, on: date) -> None:
    """A registered facility changes only at the start of a quarter (``card.facility_change_window_days``)."""
    days = params.integer("card.facility_change_window_days", on)
    quarter_start = date(on.year, QUARTER_MONTHS[(on.month - 1) // 3], 1)
    if (on - quarter_start).days >= days:
        nxt = date(on.year + (on.month > 9), QUARTER_MONTHS[(on.month + 2) // 3 % 4], 1)
        raise RegistryRuleError("registry.change_window", 409, f"the registered facility changes only in the first "
                                f"{days} days of a quarter; the next window opens {nxt}")  # fmt: skip


def continuity(params: ParameterSet, periods: list[Current], start: date) -> tuple[date, date]:
    """Continuous participation since, and the date five continuous years are reached, for a period
    starting on ``start``: the count goes on across a gap of at most ``card.continuity_gap_days``."""
    gap = params.integer("card.continuity_gap_days", start)
    before = [p for p in periods if p.valid_to is not None and p.valid_to < start]
    latest = max(before, key=lambda p: p.valid_to or date.min, default=None)
    since = start
    if latest is not None and latest.valid_to is not None and (start - latest.valid_to).days - 1 <= gap:
        since = latest.continuous_since or latest.valid_from
    return since, _plus_years(since, 5)


def _plus_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


# --- the writes -----------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)  # noqa: DTZ005 - recorded in local time, as the bulk load


def _person(conn: Connection, citizen_id: str) -> Any:
    # Locked (PostgreSQL) until the change commits: two changes to one person run one after the other,
    # each checking what the other wrote. SQLite has one writer at a time anyway.
    query = select(Person).where(Person.citizen_id == citizen_id).with_for_update()
    person = conn.execute(query).mappings().first()
    if person is None:
        raise RegistryRuleError("registry.person_unknown", 404, f"no person with citizen ID {citizen_id}")
    return person


def _current(conn: Connection, person_id: int) -> list[Current]:
    cards = conn.execute(
        select(Card.__table__)
        .where(Card.person_id == person_id, Card.superseded_at.is_(None))
        .order_by(Card.valid_from)
    )
    parts = {
        (p.valid_from, p.group_code): p
        for p in conn.execute(
            select(Participation.id, Participation.valid_from, Participation.group_code,
                   Participation.employer_code, Participation.income)
            .where(Participation.person_id == person_id, Participation.superseded_at.is_(None))
        )
    }  # fmt: skip
    out = []
    for c in cards:
        part = parts.get((c.valid_from, c.group_code))
        out.append(Current(c.id, part.id if part else None, c.number, c.group_code, c.benefit_digit, c.valid_from,
                           c.valid_to, c.registered_facility, c.continuous_since, c.five_year_date, c.living_area,
                           part.employer_code if part else None, part.income if part else None))  # fmt: skip
    return out


def _facility(conn: Connection, code: str) -> Any:
    return conn.execute(select(Facility.__table__).where(Facility.code == code)).first()


def _employer(conn: Connection, code: str | None) -> Any:
    return None if code is None else conn.execute(select(Employer.__table__).where(Employer.code == code)).first()


def social_insurance_number(province: str, person_id: int) -> str:
    """A new lifelong 10-digit social insurance number for a person who never held a card: the
    province and a scramble of the person's id (a bijection on eight digits, 48,271 being prime to
    10), so two people never get the same number and no counter is shared between writers."""
    if not 0 <= person_id < 10**8:
        raise RegistryRuleError("registry.person_id_range", 422, f"person id {person_id} has no 8-digit number")
    return f"{province}{(person_id * 48_271 + 12_345) % 10**8:08d}"


def _bhxh_number(conn: Connection, person: Any) -> str:
    """The person's social insurance number: from any card they held, else a new one."""
    held = conn.scalar(select(Card.number).where(Card.person_id == person["id"]).limit(1))
    if held:
        return str(held)[5:]
    return social_insurance_number(person["province"], int(person["id"]))


def _record(conn: Connection, params: ParameterSet, person: Any, now: datetime, **period: Any) -> None:
    """One card period and its participation (``employer_code`` and ``income`` go to the latter)."""
    employer, income = period.pop("employer_code", None), period.pop("income", None)
    terms = participation_terms(params, period["group_code"], period["valid_from"], person["province"],
                                person["household_id"], employer)  # fmt: skip
    conn.execute(insert(Participation).values(person_id=person["id"], group_code=period["group_code"], **terms,
                                              employer_code=employer, income=income, valid_from=period["valid_from"],
                                              valid_to=period["valid_to"], recorded_at=now,
                                              superseded_at=None))  # fmt: skip
    conn.execute(insert(Card).values(person_id=person["id"], recorded_at=now, superseded_at=None, **period))


def _supersede(conn: Connection, p: Current, now: datetime) -> None:
    conn.execute(update(Card).where(Card.id == p.card_id).values(superseded_at=now))
    if p.participation_id is not None:
        conn.execute(update(Participation).where(Participation.id == p.participation_id).values(superseded_at=now))


def _carry(p: Current, **changes: Any) -> dict[str, Any]:
    """A period's columns with ``changes`` applied, for its successor rows (card and participation)."""
    row = {
        "number": p.number,
        "group_code": p.group,
        "benefit_digit": p.benefit_digit,
        "valid_from": p.valid_from,
        "valid_to": p.valid_to,
        "registered_facility": p.registered_facility,
        "continuous_since": p.continuous_since,
        "five_year_date": p.five_year_date,
        "living_area": p.living_area,
        "employer_code": p.employer_code,  # for the participation
        "income": p.income,
    }
    return row | changes


def issue_card(
    engine: Engine,
    params: ParameterSet,
    citizen_id: str,
    group: str,
    valid_from: date,
    valid_to: date | None,
    registered_facility: str,
    living_area: str | None = None,
    employer: str | None = None,
    income: int | None = None,
) -> Change:
    """A new card period for a person not covered over [valid_from, valid_to] (status ``issued``);
    ``employer`` and ``income`` for groups that contribute on a salary or pension."""
    with engine.begin() as conn:
        person = _person(conn, citizen_id)
        periods = _current(conn, person["id"])
        check_new_period(periods, valid_from, valid_to)
        digit = check_group(params, group, valid_from)
        check_facility(_facility(conn, registered_facility), registered_facility, valid_from)
        check_work(params, group, valid_from, _employer(conn, employer), employer, income)
        number = f"{group}{digit}{person['province']}{_bhxh_number(conn, person)}"
        since, five = continuity(params, periods, valid_from)
        _record(conn, params, person, _now(), number=number, group_code=group, benefit_digit=digit,
                valid_from=valid_from, valid_to=valid_to, registered_facility=registered_facility,
                continuous_since=since, five_year_date=five, living_area=living_area, status="issued",
                employer_code=employer, income=income)  # fmt: skip
    return Change("card.issue", person["id"], citizen_id, number, valid_from, valid_to)


def renew_card(engine: Engine, params: ParameterSet, citizen_id: str, valid_to: date) -> Change:
    """The latest period continued from the day after it ends up to ``valid_to`` (status ``renewed``):
    same card number, group and registered facility, continuous participation carried on."""
    with engine.begin() as conn:
        person = _person(conn, citizen_id)
        periods = _current(conn, person["id"])
        if not periods:
            raise RegistryRuleError("registry.no_card", 409, "no card to renew: issue one")
        last = max(periods, key=lambda p: p.valid_from)
        if last.valid_to is None:
            raise RegistryRuleError("registry.open_ended", 409, f"card {last.number} has no end date to renew from")
        start = last.valid_to + timedelta(days=1)
        check_new_period(periods, start, valid_to)
        digit = check_group(params, last.group, start)
        check_facility(_facility(conn, last.registered_facility), last.registered_facility, start)
        since, five = continuity(params, periods, start)
        row = _carry(last, benefit_digit=digit, valid_from=start, valid_to=valid_to, continuous_since=since,
                     five_year_date=five)  # fmt: skip
        _record(conn, params, person, _now(), **row, status="renewed")
    return Change("card.renew", person["id"], citizen_id, last.number, start, valid_to)


def _split(
    engine: Engine, params: ParameterSet, citizen_id: str, on: date, action: str, change: Any
) -> tuple[Any, Current, list[dict[str, Any]]]:
    """A change from ``on``: the period in force on ``on`` is cut there (the part before it recorded
    again, ending the day before), and it and every later period take ``change(period, conn, first)``
    (the columns that change; None: cover ends). Returns the person, the period in force and the
    successor rows."""
    with engine.begin() as conn:
        person = _person(conn, citizen_id)
        periods = _current(conn, person["id"])
        p = covering(periods, on)
        if p is None:
            raise RegistryRuleError("registry.no_current_card", 409, f"no card in force on {on} to {action}")
        later = [q for q in periods if q.valid_from > on]
        changes = [change(q, conn, q is p) for q in (p, *later)]
        now = _now()
        successors = []
        for q, changed in zip((p, *later), changes, strict=True):
            _supersede(conn, q, now)
            if q is p and on > p.valid_from:
                _record(conn, params, person, now, **_carry(p, valid_to=on - timedelta(days=1)), status="changed")
            if changed is not None:
                row = _carry(q, valid_from=max(on, q.valid_from), status="changed", **changed)
                _record(conn, params, person, now, **dict(row))
                successors.append(row)
        return person, p, successors


def change_group(
    engine: Engine, params: ParameterSet, citizen_id: str, group: str, on: date, employer: str | None = None,
    income: int | None = None,
) -> Change:  # fmt: skip
    """From ``on`` the person is insured through ``group`` (a new card number: the group and benefit
    digit change, the social insurance number stays): the period in force ends the day before, and the
    periods recorded after it move to the group too."""

    def change(p: Current, conn: Connection, first: bool) -> dict[str, Any]:
        if first and group == p.group:
            raise RegistryRuleError("registry.same_group", 409, f"card {p.number} is already in group {group}")
        start = max(on, p.valid_from)
        digit = check_group(params, group, start)
        check_work(params, group, start, _employer(conn, employer), employer, income)
        return {"number": f"{group}{digit}{p.number[3:]}", "group_code": group, "benefit_digit": digit,
                "employer_code": employer, "income": income}  # fmt: skip

    person, _, after = _split(engine, params, citizen_id, on, "change", change)
    return Change("card.change_group", person["id"], citizen_id, after[0]["number"], on, after[-1]["valid_to"])


def lapse_card(engine: Engine, params: ParameterSet, citizen_id: str, on: date) -> Change:
    """Cover ends from ``on`` (unpaid contribution, death, emigration, …): the period in force ends the
    day before and the periods recorded after it are withdrawn."""
    person, p, _ = _split(engine, params, citizen_id, on, "lapse", lambda _p, _c, _f: None)
    return Change("card.lapse", person["id"], citizen_id, p.number, p.valid_from, on - timedelta(days=1))


def change_facility(engine: Engine, params: ParameterSet, citizen_id: str, facility: str, on: date) -> Change:
    """From ``on`` the cards' registered primary facility is ``facility`` (a request at the start of
    a quarter, to a facility contracted with the fund), for the period in force and those after it."""
    check_change_window(params, on)

    def change(p: Current, conn: Connection, first: bool) -> dict[str, Any]:
        if first and facility == p.registered_facility:
            raise RegistryRuleError("registry.same_facility", 409, f"card {p.number} is registered at {facility}")
        check_facility(_facility(conn, facility), facility, max(on, p.valid_from))
        return {"registered_facility": facility}

    person, p, after = _split(engine, params, citizen_id, on, "re-register", change)
    return Change("card.change_facility", person["id"], citizen_id, p.number, on, after[-1]["valid_to"])


def correct_card(engine: Engine, params: ParameterSet, citizen_id: str, card_id: int, **fields: Any) -> Change:
    """A recorded period was wrong: its successor holds the corrected ``fields`` (dates, registered
    facility, living area, continuity) and the wrong row stays as what we held until now."""
    unknown = sorted(set(fields) - set(CORRECTABLE))
    unknown += [f"{k}=null" for k in ("valid_from", "registered_facility") if k in fields and fields[k] is None]
    if unknown or not fields:
        raise RegistryRuleError("registry.correction_field", 422, f"correctable fields are {', '.join(CORRECTABLE)}"
                                + (f", not {', '.join(unknown)}" if unknown else ""))  # fmt: skip
    with engine.begin() as conn:
        person = _person(conn, citizen_id)
        periods = _current(conn, person["id"])
        p = next((q for q in periods if q.card_id == card_id), None)
        if p is None:
            raise RegistryRuleError("registry.no_such_period", 404,
                                    f"no current card period {card_id} of citizen ID {citizen_id}")  # fmt: skip
        row = _carry(p, **fields)
        check_new_period([q for q in periods if q.card_id != card_id], row["valid_from"], row["valid_to"])
        if "registered_facility" in fields:
            code = row["registered_facility"]
            check_facility(_facility(conn, code), code, row["valid_from"])
        now = _now()
        _supersede(conn, p, now)
        _record(conn, params, person, now, **row, status="corrected")
    return Change("card.correct", person["id"], citizen_id, p.number, row["valid_from"], row["valid_to"])
