"""``POST /claims``: a GIAMDINHHS file or a FHIR Claim in, a receipt with every finding out.

The same path as ``bhyt ingest``: read and check (:func:`prepare_bytes`, :func:`prepare_fhir`), store in
one transaction, answer only after the commit. Bad input is answered with findings or a problem
document, never a server error; a rejected file is 422 with the same receipt.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Engine, select

from bhyt.api.http import language, problem, purpose, stated_purpose
from bhyt.claims import fhir
from bhyt.claims.compression import unpack
from bhyt.claims.ingest import Receipt, commit_batch, prepare_bytes, prepare_fhir, stored_tables
from bhyt.claims.models import Claim, ClaimFinding, ClaimVersion
from bhyt.claims.parser import Limits
from bhyt.security.audit import AuditLog
from bhyt.security.purposes import Purpose
from bhyt.security.roles import Principal, Role, may_read_claim, may_submit_claims

XML_TYPES = ("application/xml", "text/xml")
FHIR_TYPES = ("application/fhir+json", "application/json")
FHIR_JSON = "application/fhir+json"


def router(
    engine: Engine,
    principal: Callable[..., Awaitable[Principal]],
    audit: AuditLog,
    limits: Limits | None = None,
    holder: Callable[[str], str | None] = lambda card: None,
) -> APIRouter:
    """Claims in (facility staff, for their own facility) and a stored claim out (its facility, the
    province's assessors, the patient, auditors; every read audited). ``holder`` gives the citizen ID
    that holds a card number in the registry."""
    limits = limits or Limits()

    def patient(facility: str, ma_lk: str) -> str | None:
        """The citizen ID of a stored claim's patient: the registry's holder of a card it names, else
        the MA_CCCD it gives; None when there is no such claim."""
        with engine.connect() as conn:
            row = conn.execute(
                select(ClaimVersion.tables_zst, ClaimVersion.tables)
                .join(Claim, (Claim.id == ClaimVersion.claim_id) & (ClaimVersion.version == Claim.current_version))
                .where(Claim.facility == facility, Claim.ma_lk == ma_lk)
            ).first()
        if row is None:
            return None
        head = (orjson.loads(unpack(stored_tables(row[0], row[1]))).get("XML1") or [{}])[0]
        for card in filter(None, (c.strip() for c in head.get("MA_THE_BHYT", "").split(";"))):
            if (cid := holder(card)) is not None:
                return cid
        return head.get("MA_CCCD") or None

    api = APIRouter(tags=["claims"])
    caller = Annotated[Principal, Depends(principal)]

    @api.post(
        "/claims",
        summary="Submit claims: a GIAMDINHHS XML file (QĐ 130/4750) or a FHIR R4 Claim or Bundle",
        responses={200: {"description": "Received (receipts, or a ClaimResponse for FHIR)"},
                   422: {"description": "Nothing of the file could be received; the receipt says why"},
                   413: {"description": "Too large"}, 415: {"description": "Neither XML nor FHIR JSON"}},
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/xml": {"schema": {"type": "string", "description": "A GIAMDINHHS envelope"}},
            "application/fhir+json": {"schema": {"type": "object", "description": "A FHIR R4 Claim or Bundle"}},
        }}},
    )  # fmt: skip
    async def submit(
        who: caller,
        request: Request,
        lang: Annotated[
            Literal["vi", "en"] | None,
            Query(description="Language of the messages (default: Accept-Language, else vi)"),
        ] = None,
        name: Annotated[str, Query(max_length=255, description="The file name to record")] = "upload",
    ) -> Response:
        lang = language(request, lang)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in XML_TYPES + FHIR_TYPES:
            return problem(415, "Unsupported media type", f"send {' or '.join(XML_TYPES + FHIR_TYPES)}, not {kind!r}")
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > limits.max_file_bytes:
                return problem(413, "Too large", f"a file may hold at most {limits.max_file_bytes:,} bytes")
        body = bytes(data)
        if kind in FHIR_TYPES:
            prepared = prepare_fhir(body, name, lang, limits)
            unreadable = [f for f in prepared.findings if f.code == "fhir.invalid"]
            if unreadable:
                outcome = fhir.operation_outcome(unreadable[0].field or "$", unreadable[0].message)
                return Response(orjson.dumps(outcome), 400, media_type=FHIR_JSON)
        else:
            prepared = prepare_bytes(body, name, lang, limits)
        if prepared.facility is not None and not may_submit_claims(who, prepared.facility):
            return problem(403, "Forbidden", f"a {who.role.value} token may not send claims of {prepared.facility}")
        receipts = commit_batch(engine, [prepared], lang)[0]
        status = 422 if all(r.status == "rejected" for r in receipts) else 200
        if kind in FHIR_TYPES:
            response = fhir.claim_response(receipts[0].as_json(), prepared.facility or "")
            return Response(orjson.dumps(response), status, media_type=FHIR_JSON)
        return Response(orjson.dumps({"file": name, "receipts": [r.as_json() for r in receipts]}), status,
                        media_type="application/json")  # fmt: skip

    @api.get("/claims/{facility}/{ma_lk}", summary="A stored claim: its status, versions and findings")
    def show(who: caller, request: Request, facility: str, ma_lk: str) -> Any:
        # a citizen's own claim: decided before anything is said of it, so another's claim and no claim
        # answer alike
        allowed = may_read_claim(who, facility, patient(facility, ma_lk) if who.role is Role.CITIZEN else None)
        why = purpose(request, Purpose.ASSESSMENT) if allowed else stated_purpose(request, Purpose.ASSESSMENT)
        audit.record(who.subject, who.role.value, "claim.read", f"{facility}/{ma_lk}", why,
                     "allowed" if allowed else "denied")  # fmt: skip
        if not allowed:
            return problem(403, "Forbidden", f"a {who.role.value} token may not read this claim of {facility}")
        with engine.connect() as conn:
            claim = conn.execute(select(Claim.id, Claim.status, Claim.current_version).where(
                Claim.facility == facility, Claim.ma_lk == ma_lk)).first()  # fmt: skip
            if claim is None:
                return problem(404, "Not found", f"no claim {ma_lk} of facility {facility}")
            versions = conn.execute(
                select(ClaimVersion.id, ClaimVersion.version, ClaimVersion.kind, ClaimVersion.received_at,
                       ClaimVersion.file_sha256, ClaimVersion.changes)
                .where(ClaimVersion.claim_id == claim.id).order_by(ClaimVersion.version)
            ).all()  # fmt: skip
            current = next(v for v in versions if v.version == claim.current_version)
            findings = conn.execute(
                select(ClaimFinding.table_name, ClaimFinding.row, ClaimFinding.field, ClaimFinding.code,
                       ClaimFinding.message).where(ClaimFinding.version_id == current.id)
            ).all()  # fmt: skip
        return {
            "facility": facility, "ma_lk": ma_lk, "status": claim.status, "version": claim.current_version,
            "versions": [{"version": v.version, "kind": v.kind, "received_at": v.received_at.isoformat(),
                          "file_sha256": v.file_sha256, "changes": orjson.loads(v.changes)} for v in versions],
            "findings": [{"table": f.table_name, "row": f.row, "field": f.field, "code": f.code,
                          "message": f.message} for f in findings],
        }  # fmt: skip

    return api


__all__ = ["Receipt", "router"]
