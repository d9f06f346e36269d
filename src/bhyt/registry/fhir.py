"""FHIR R4 at the edge of the card check: a CoverageEligibilityRequest names the patient (citizen
ID), the card (the Coverage's identifier), the facility and the date; the response says whether the
coverage is in force and what it pays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from bhyt.errors import BhytError
from bhyt.registry.eligibility import Eligibility, today

CITIZEN_ID_SYSTEM = "urn:vn:cccd"  # the 12-digit citizen ID (căn cước công dân)
CARD_SYSTEM = "urn:vn:bhyt:card"


class FhirInputError(BhytError):
    """A FHIR eligibility request that cannot be read: ``where`` names the element."""

    code = "registry.fhir"

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where


@dataclass(frozen=True)
class Ask:
    on: date
    card: str | None
    citizen_id: str | None
    facility: str | None
    request_id: str | None


def _identifier(node: Any) -> str | None:
    ident = node.get("identifier") if isinstance(node, dict) else None
    if isinstance(ident, list):
        ident = ident[0] if ident else None
    value = ident.get("value") if isinstance(ident, dict) else None
    return str(value) if value is not None else None


def read_request(body: bytes) -> Ask:
    try:
        res = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FhirInputError("$", f"not JSON: {exc}") from None
    if not isinstance(res, dict) or res.get("resourceType") != "CoverageEligibilityRequest":
        raise FhirInputError("resourceType", "expected a CoverageEligibilityRequest")
    served = res.get("servicedDate")
    try:
        on = date.fromisoformat(served) if isinstance(served, str) else today()
    except ValueError:
        raise FhirInputError("servicedDate", f"not a date: {served!r}") from None
    insurance = res.get("insurance") or []
    card = _identifier(insurance[0].get("coverage", {})) if insurance and isinstance(insurance[0], dict) else None
    citizen = _identifier(res.get("patient", {}))
    if not card and not citizen:
        raise FhirInputError("patient", "give patient.identifier (citizen ID) or insurance[0].coverage.identifier")
    facility = _identifier(res.get("facility", {})) or _identifier(res.get("provider", {}))
    return Ask(on, card, citizen, facility, res.get("id"))


def response(ask: Ask, answer: Eligibility) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "status": "active",
        "purpose": ["validation", "benefits"],
        "patient": {"identifier": {"system": CITIZEN_ID_SYSTEM, "value": answer.citizen_id or ask.citizen_id}},
        "servicedDate": ask.on.isoformat(),
        "created": today().isoformat(),
        "outcome": "complete" if answer.outcome in ("covered", "not_covered") else "error",
        "disposition": answer.message,
        "insurer": {"display": "Bảo hiểm xã hội Việt Nam"},
    }
    if ask.request_id:
        out["request"] = {"reference": f"CoverageEligibilityRequest/{ask.request_id}"}
    if answer.outcome in ("covered", "not_covered"):
        benefit = [{"type": {"text": "benefit percent"}, "allowedUnsignedInt": answer.benefit_percent or 0}]
        item: dict[str, Any] = {"category": {"text": "medical care"}, "benefit": benefit}
        if answer.route_code:
            item["modifier"] = [{"text": f"route {answer.route_code}"}]
        out["insurance"] = [{
            "coverage": {"identifier": {"system": CARD_SYSTEM, "value": answer.card}},
            "inforce": answer.covered,
            "benefitPeriod": {k: v.isoformat() for k, v in (("start", answer.valid_from), ("end", answer.valid_to))
                              if v is not None},
            "item": [item],
        }]  # fmt: skip
    else:
        out["error"] = [{"code": {"text": answer.message}}]
    return out


def operation_outcome(where: str, message: str) -> dict[str, Any]:
    issue = {"severity": "error", "code": "invalid", "diagnostics": message, "expression": [where]}
    return {"resourceType": "OperationOutcome", "issue": [issue]}
