"""HTTP: the card check (and its FHIR form), a person's record, a household's contributions, the
monthly increase/decrease lists, and a citizen's own record and visits. Each read of personal data
is checked against the caller's role and written to the audit log, allowed or not."""

import re
import threading
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from bhyt.api.http import language, problem, purpose, stated_purpose
from bhyt.policy.params import ParameterNotFoundError, ParameterSet
from bhyt.registry import fhir, lifecycle
from bhyt.registry.eligibility import Eligibility, today
from bhyt.registry.lifecycle import Change, RegistryRuleError
from bhyt.registry.service import (
    COLLECTION_STATUSES,
    card_index,
    collection,
    household_due,
    monthly_changes,
    person_periods,
    person_province,
    person_record,
    visits,
)
from bhyt.security.audit import AuditLog
from bhyt.security.purposes import Purpose
from bhyt.security.roles import Principal, Role, may_change_registry, may_check_card, may_read_person, may_read_reports

FHIR_JSON = "application/fhir+json"
CITIZEN_PATH = Path(pattern=r"^\d{12}$", description="12-digit citizen ID")


class EligibilityOut(BaseModel):
    outcome: str
    message: str
    covered: bool
    card: str | None
    cards: list[str]
    citizen_id: str | None
    province: str | None
    group: str | None
    benefit_digit: str | None
    benefit_percent: int | None
    valid_from: date | None
    valid_to: date | None
    registered_facility: str | None
    five_year_date: date | None
    copay_this_year: int
    copay_exempt: bool
    route_code: str | None
    facility_contracted: bool | None


# Dates of cover: bounded, so that date arithmetic (the day before, five years on) stays in range.
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2200, 12, 31))]


class IssueIn(BaseModel):
    group: str = Field(pattern=r"^[A-Z]{2}$", description="Participant group code (DN, GD, HS, …)")
    valid_from: Day
    valid_to: Day | None = None
    registered_facility: str = Field(pattern=r"^\d{5}$", description="Registered primary facility (MA_DKBD)")
    living_area: str | None = Field(None, pattern=r"^K[123]$")
    employer: str | None = Field(None, max_length=12, description="Employer code (employer-funded groups)")
    income: int | None = Field(None, ge=0, le=10**12, description="Monthly salary, pension or benefit (đồng)")


class RenewIn(BaseModel):
    valid_to: Day = Field(description="Last day of the renewed period")


class GroupIn(BaseModel):
    group: str = Field(pattern=r"^[A-Z]{2}$")
    on: Day = Field(description="First day in the new group")
    employer: str | None = Field(None, max_length=12, description="Employer code (employer-funded groups)")
    income: int | None = Field(None, ge=0, le=10**12, description="Monthly salary, pension or benefit (đồng)")


class LapseIn(BaseModel):
    on: Day = Field(description="First day without cover")


class FacilityIn(BaseModel):
    facility: str = Field(pattern=r"^\d{5}$", description="The new registered primary facility")
    on: Day = Field(description="First day registered there (the first days of a quarter)")


class CorrectionIn(BaseModel):
    """Only the fields given are corrected."""

    valid_from: Day | None = None
    valid_to: Day | None = None
    registered_facility: str | None = Field(None, pattern=r"^\d{5}$")
    living_area: str | None = Field(None, pattern=r"^K[123]$")
    continuous_since: Day | None = None
    five_year_date: Day | None = None


class Index:
    """The card index the service answers from; rebuilt from the database on ``reload``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._reloading: set[int] | None = None
        self.current = card_index(engine)

    def apply(self, person_id: int) -> None:
        """Take one person's periods from the database after a change (the arrays stay as built). Read
        under the lock, so two changes to one person reach the index in the order they committed."""
        with self._lock:
            self.current = self.current.with_person(person_id, person_periods(self.engine, person_id))
            if self._reloading is not None:
                self._reloading.add(person_id)

    def holder(self, card: str) -> str | None:
        """The citizen ID holding ``card`` in the registry (None when it holds none)."""
        return next((p.citizen_id for p in self.current.periods_for_card(card) if p.citizen_id), None)

    def reload(self) -> int:
        """Rebuild from the database; the people changed while it was built are taken again after it."""
        with self._lock:
            self._reloading = set()
        fresh = card_index(self.engine)
        with self._lock:
            for person_id in self._reloading:
                fresh = fresh.with_person(person_id, person_periods(self.engine, person_id))
            self.current, self._reloading = fresh, None
        return int(fresh.size)


def router(
    engine: Engine, params: ParameterSet, index: Index, audit: AuditLog, principal: Callable[..., Awaitable[Principal]]
) -> APIRouter:
    api = APIRouter()
    caller = Annotated[Principal, Depends(principal)]

    def denied(who: Principal, action: str, target: str, why: str, request: Request,
               default: Purpose = Purpose.ENROLMENT) -> HTTPException:  # fmt: skip
        audit.record(who.subject, who.role.value, action, target, stated_purpose(request, default), "denied")
        return HTTPException(403, f"a {who.role.value} token may not {why}")

    def check(who: Principal, request: Request, at: date, card: str | None, citizen_id: str | None,
              facility: str | None, inpatient: bool) -> Eligibility:  # fmt: skip
        if who.role is Role.FACILITY:
            facility = facility or who.facility
            if facility != who.facility:
                raise denied(who, "eligibility.check", card or citizen_id or "", "check cards at another facility",
                             request, Purpose.TREATMENT)  # fmt: skip
        answer = index.current.check(params, at, card, citizen_id, facility, inpatient)
        target = card or citizen_id or ""
        if answer.outcome in ("covered", "not_covered") and not may_check_card(
            who, facility, answer.province, answer.citizen_id
        ):
            raise denied(who, "eligibility.check", target, "check this card here", request, Purpose.TREATMENT)
        audit.record(who.subject, who.role.value, "eligibility.check", target, purpose(request, Purpose.TREATMENT),
                     answer.outcome)  # fmt: skip
        return answer

    @api.get(
        "/eligibility",
        tags=["eligibility"],
        response_model=EligibilityOut,
        summary="Card check: covered on the date, benefit, validity, registration, exemption, route code",
    )
    async def eligibility(  # microseconds of CPU, no I/O: on the event loop, not a worker thread
        who: caller,
        request: Request,
        card: Annotated[str | None, Query(max_length=40, description="Card number (15 characters)")] = None,
        citizen_id: Annotated[str | None, Query(max_length=40, description="12-digit citizen ID")] = None,
        on: Annotated[date | None, Query(alias="date", description="Visit date (default today)")] = None,
        facility: Annotated[str | None, Query(max_length=10, description="Facility code (MA_CSKCB)")] = None,
        inpatient: Annotated[bool, Query(description="An inpatient stay (route code)")] = False,
    ) -> Any:
        answer = check(who, request, on or today(), card, citizen_id, facility, inpatient)
        lang = language(request)
        body = orjson.dumps(answer.as_json(lang))  # shape: EligibilityOut
        return Response(body, media_type="application/json", headers={"Content-Language": lang})

    @api.post("/fhir/CoverageEligibilityRequest", tags=["fhir"],
              summary="FHIR R4 CoverageEligibilityRequest → CoverageEligibilityResponse")  # fmt: skip
    async def fhir_eligibility(who: caller, request: Request) -> Any:
        try:
            ask = fhir.read_request(await request.body())
        except fhir.FhirInputError as exc:
            return JSONResponse(fhir.operation_outcome(exc.where, str(exc)), 400, media_type=FHIR_JSON)
        answer = check(who, request, ask.on, ask.card, ask.citizen_id, ask.facility, False)
        return JSONResponse(fhir.response(ask, answer), media_type=FHIR_JSON)

    @api.get("/registry/people/{citizen_id}", tags=["registry"], summary="A person: identity, participation, cards")
    def person(
        who: caller,
        request: Request,
        citizen_id: Annotated[str, Path(pattern=r"^\d{12}$", description="12-digit citizen ID")],
        known_at: Annotated[datetime | None, Query(description="What the record held at this moment")] = None,
        history: Annotated[bool, Query(description="Every row ever recorded, superseded ones too")] = False,
    ) -> Any:
        if (who.role is Role.CITIZEN and citizen_id != who.citizen_id) or who.role is Role.FACILITY:
            # refused before the lookup: the answer must not tell a citizen which IDs exist
            raise denied(who, "person.read", citizen_id, "read this person's record", request)
        record = person_record(engine, citizen_id, known_at, history)
        if record is None:
            audit.record(who.subject, who.role.value, "person.read", citizen_id, purpose(request, _reading(who)),
                         "not_found")  # fmt: skip
            raise HTTPException(404, f"no person with citizen ID {citizen_id}")
        if not may_read_person(who, record["province"], citizen_id):
            raise denied(who, "person.read", citizen_id, "read this person's record", request)
        audit.record(who.subject, who.role.value, "person.read", citizen_id, purpose(request, _reading(who)), "allowed")
        return record

    @api.get("/registry/households/{household_id}/contributions", tags=["registry"],
             summary="Contributions due from a household's members (household schedule, subsidies)")  # fmt: skip
    def contributions(
        who: caller,
        request: Request,
        household_id: Annotated[int, Path(ge=0, le=2**63 - 1)],
        start: Annotated[date, Query(description="First month")],
        months: Annotated[int, Query(ge=1, le=12)] = 12,
    ) -> Any:
        due = household_due(engine, params, household_id, start, months)
        if due is None:
            raise HTTPException(404, f"no household {household_id}")
        if not may_read_reports(who, due["province"]):
            raise denied(who, "household.contributions", str(household_id), "read this household", request)
        audit.record(who.subject, who.role.value, "household.contributions", str(household_id),
                     purpose(request, Purpose.CONTRIBUTIONS), "allowed")  # fmt: skip
        return due

    @api.get("/registry/changes", tags=["registry"],
             summary="Monthly increase/decrease lists (danh sách tăng/giảm) per paying unit")  # fmt: skip
    def changes(who: caller, request: Request, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]) -> Any:
        if not (who.role in (Role.AUDITOR, Role.ADMIN) or who.role is Role.PROVINCE):
            raise denied(who, "registry.changes", month, "read the increase/decrease lists", request)
        first = _month(month)
        rows = [c for c in monthly_changes(engine, first) if may_read_reports(who, c.province)]
        why = purpose(request, Purpose.CONTRIBUTIONS)
        audit.record(who.subject, who.role.value, "registry.changes", month, why, "allowed")
        return {"month": month, "changes": [c.__dict__ | {"on": c.on.isoformat()} for c in rows]}

    @api.get("/registry/contributions", tags=["registry"],
             summary="Contributions due and collected per paying unit for a month, with arrears")  # fmt: skip
    def contributions_collected(
        who: caller,
        request: Request,
        month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
        status: Annotated[str | None, Query(pattern="^(" + "|".join(COLLECTION_STATUSES) + ")$")] = None,
        payer: Annotated[
            str | None, Query(max_length=40, description="One paying unit (employer:01DN00001, …)")
        ] = None,
    ) -> Any:
        if not (who.role in (Role.AUDITOR, Role.ADMIN) or who.role is Role.PROVINCE):
            raise denied(who, "contributions.collection", month, "read contributions", request, Purpose.CONTRIBUTIONS)
        rows = [r for r in collection(engine, params, _month(month)) if may_read_reports(who, r["unit_province"])
                and (status is None or r["status"] == status) and (payer is None or r["payer"] == payer)]  # fmt: skip
        why = purpose(request, Purpose.CONTRIBUTIONS)
        audit.record(who.subject, who.role.value, "contributions.collection", month, why, "allowed")
        due, paid = sum(r["total"] for r in rows), sum(r["paid"] for r in rows)
        return {"month": month, "due": due, "paid": paid, "outstanding": sum(r["outstanding"] for r in rows),
                "collection_rate": round(min(paid, due) / due, 6) if due else None, "units": rows}  # fmt: skip

    @api.get("/citizens/me", tags=["citizen"], summary="The caller's own record")
    def me(who: caller, request: Request) -> Any:
        if who.role is not Role.CITIZEN or who.citizen_id is None:
            raise HTTPException(403, "only a citizen token has a record of its own")
        return person(who, request, who.citizen_id)

    @api.get("/citizens/me/visits", tags=["citizen"], summary="The caller's visits and what the fund paid")
    def my_visits(who: caller, request: Request) -> Any:
        if who.role is not Role.CITIZEN or who.citizen_id is None:
            raise HTTPException(403, "only a citizen token has visits of its own")
        why = purpose(request, Purpose.CITIZEN_REQUEST)
        audit.record(who.subject, who.role.value, "visits.read", who.citizen_id, why, "allowed")
        return {"citizen_id": who.citizen_id, "visits": visits(engine, who.citizen_id)}

    def change(who: Principal, request: Request, citizen_id: str, action: str, do: Callable[[], Change]) -> Any:
        province = person_province(engine, citizen_id)
        why = purpose(request, Purpose.ENROLMENT)
        if province is None:
            audit.record(who.subject, who.role.value, action, citizen_id, why, "not_found")
            raise HTTPException(404, f"no person with citizen ID {citizen_id}")
        if not may_change_registry(who, province):
            raise denied(who, action, citizen_id, "change this person's cover", request)
        try:
            done = do()
        except RegistryRuleError as exc:
            audit.record(who.subject, who.role.value, action, citizen_id, why, "refused")
            return problem(exc.status, "Refused by the registry's rules", str(exc), code=exc.code)
        except ParameterNotFoundError as exc:  # a date before the rules the registry holds
            audit.record(who.subject, who.role.value, action, citizen_id, why, "refused")
            return problem(422, "No rules in force on that date", str(exc), code="registry.no_rules")
        index.apply(done.person_id)
        audit.record(who.subject, who.role.value, action, citizen_id, why, "allowed")
        return {"action": done.action, "card": done.card, "valid_from": done.valid_from.isoformat(),
                "valid_to": done.valid_to.isoformat() if done.valid_to else None,
                "record": person_record(engine, citizen_id)}  # fmt: skip

    @api.post("/registry/people/{citizen_id}/cards", tags=["registry"], status_code=201,
              summary="Issue a card: a new period of cover in a participant group")  # fmt: skip
    def issue(who: caller, request: Request, citizen_id: Annotated[str, CITIZEN_PATH], body: IssueIn) -> Any:
        return change(who, request, citizen_id, "card.issue", lambda: lifecycle.issue_card(
            engine, params, citizen_id, body.group, body.valid_from, body.valid_to, body.registered_facility,
            body.living_area, body.employer, body.income))  # fmt: skip

    @api.post("/registry/people/{citizen_id}/cards/renew", tags=["registry"],
              summary="Renew: the latest period continued to a new end date")  # fmt: skip
    def renew(who: caller, request: Request, citizen_id: Annotated[str, CITIZEN_PATH], body: RenewIn) -> Any:
        return change(who, request, citizen_id, "card.renew",
                      lambda: lifecycle.renew_card(engine, params, citizen_id, body.valid_to))  # fmt: skip

    @api.post(
        "/registry/people/{citizen_id}/cards/change-group",
        tags=["registry"],
        summary="Change group from a date (a new card number; the period in force ends the day before)",
    )
    def regroup(who: caller, request: Request, citizen_id: Annotated[str, CITIZEN_PATH], body: GroupIn) -> Any:
        return change(who, request, citizen_id, "card.change_group",
                      lambda: lifecycle.change_group(engine, params, citizen_id, body.group, body.on, body.employer,
                                                     body.income))  # fmt: skip

    @api.post("/registry/people/{citizen_id}/cards/lapse", tags=["registry"],
              summary="Lapse: cover ends the day before a date")  # fmt: skip
    def lapse(who: caller, request: Request, citizen_id: Annotated[str, CITIZEN_PATH], body: LapseIn) -> Any:
        return change(who, request, citizen_id, "card.lapse",
                      lambda: lifecycle.lapse_card(engine, params, citizen_id, body.on))  # fmt: skip

    @api.post("/registry/people/{citizen_id}/registered-facility", tags=["registry"],
              summary="Change the registered primary facility (at the start of a quarter)")  # fmt: skip
    def re_register(who: caller, request: Request, citizen_id: Annotated[str, CITIZEN_PATH], body: FacilityIn) -> Any:
        def do() -> Change:
            return lifecycle.change_facility(engine, params, citizen_id, body.facility, body.on)

        return change(who, request, citizen_id, "card.change_facility", do)

    @api.post("/registry/people/{citizen_id}/cards/{card_id}/correction", tags=["registry"],
              summary="Correct a recorded period (the wrong row is kept as what we held)")  # fmt: skip
    def correct(who: caller, request: Request, citizen_id: Annotated[str, CITIZEN_PATH],
                card_id: Annotated[int, Path(ge=1, le=2**63 - 1)], body: CorrectionIn) -> Any:  # fmt: skip
        fields = body.model_dump(exclude_unset=True)
        return change(who, request, citizen_id, "card.correct",
                      lambda: lifecycle.correct_card(engine, params, citizen_id, card_id, **fields))  # fmt: skip

    @api.post("/registry/reload", tags=["registry"], summary="Rebuild the card index from the database (admin)")
    def reload(who: caller) -> Any:
        if who.role is not Role.ADMIN:
            raise HTTPException(403, "only an admin may reload the registry")
        return {"cards": index.reload()}

    return api


def _reading(who: Principal) -> Purpose:
    return Purpose.CITIZEN_REQUEST if who.role is Role.CITIZEN else Purpose.ENROLMENT


def _month(text: str) -> date:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if m is None or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2200:
        raise HTTPException(422, f"month {text!r}: give YYYY-MM, a year from 1900 to 2200")
    return date(int(m.group(1)), int(m.group(2)), 1)
