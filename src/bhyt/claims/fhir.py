"""FHIR R4 at the edge: a ``Claim`` (alone, or in a Bundle with its Patient and Coverage) becomes the same
XML1/XML2/XML3 records a GIAMDINHHS file carries, and a receipt becomes a ``ClaimResponse``.

FHIR is only a front door: the converted records go through the same parser, checks and store as XML
(:func:`bhyt.claims.ingest.prepare_fhir`). Where FHIR has no element for a field of the standard, a
project extension carries it (route code, benefit rate, declared amounts, …). Times are Vietnam time
(UTC+7); money is VND, read as exact decimals. The URIs live under :data:`NS`.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from bhyt.claims import schema
from bhyt.claims.parser import REJECTING, ROOTS
from bhyt.errors import BhytError

NS = "https://bhyt.example/fhir"
SID, CS, EXT = f"{NS}/sid/", f"{NS}/CodeSystem/", f"{NS}/StructureDefinition/"
HL7 = "http://terminology.hl7.org/CodeSystem/"
VIETNAM = timezone(timedelta(hours=7))
GENDER = {"male": "1", "female": "2", "unknown": "3", "other": "3"}
AMOUNTS = {"insured": ("T_TONGCHI_BH", "THANH_TIEN_BH"), "fund": ("T_BHTT", "T_BHTT"),
           "copay": ("T_BNCCT", "T_BNCCT"), "outside": ("T_BNTT", "T_BNTT"),
           "otherSources": ("T_NGUONKHAC", "T_NGUONKHAC")}  # fmt: skip
REQUIRED = ("status", "type", "use", "patient", "created", "provider", "priority", "insurance")


class FhirError(BhytError, ValueError):
    """A resource that cannot be read as a claim: ``path`` names where (FHIRPath), ``message`` why."""

    code = "claims.fhir"

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def load(data: bytes) -> dict[str, Any]:
    """The JSON resource in ``data``, numbers as exact decimals."""
    try:
        resource = json.loads(data, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise FhirError("$", f"not JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(data):  # JSON may escape half of a UTF-16 pair, which is no character
        try:
            json.dumps(resource, ensure_ascii=False, default=str).encode("utf-8")
        except UnicodeEncodeError:
            raise FhirError("$", "a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)") from None
    if not isinstance(resource, dict) or "resourceType" not in resource:
        raise FhirError("$", "not a FHIR resource (no resourceType)")
    return resource


class _Resolver:
    """References of a Claim: Bundle entries by fullUrl or type/id, contained resources by #id."""

    def __init__(self, claim: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        self.by_ref: dict[str, dict[str, Any]] = {}
        for entry in entries:
            res = entry.get("resource") or {}
            if entry.get("fullUrl"):
                self.by_ref[entry["fullUrl"]] = res
            if res.get("id"):
                self.by_ref[f"{res.get('resourceType')}/{res['id']}"] = res
        for res in claim.get("contained", []):
            if isinstance(res, dict) and res.get("id"):
                self.by_ref[f"#{res['id']}"] = res

    def get(self, ref: Any, path: str) -> dict[str, Any] | None:
        """The resource ``ref`` points to; None for a logical (identifier-only) reference."""
        if not isinstance(ref, dict):
            raise FhirError(path, "a reference must be an object")
        if "reference" not in ref:
            return None
        found = self.by_ref.get(ref["reference"])
        if found is None:
            raise FhirError(path, f"reference {ref['reference']!r} is not in the Bundle nor contained")
        return found


def _the_claim(resource: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if resource["resourceType"] == "Claim":
        return resource, []
    if resource["resourceType"] != "Bundle":
        raise FhirError("resourceType", f"expected Claim or Bundle, got {resource['resourceType']!r}")
    entries = [e for e in resource.get("entry", []) if isinstance(e, dict)]
    claims = [e["resource"] for e in entries if (e.get("resource") or {}).get("resourceType") == "Claim"]
    if len(claims) != 1:
        raise FhirError("Bundle.entry", f"a Bundle must hold exactly one Claim, it holds {len(claims)}")
    return claims[0], entries


def _identifier(identifiers: Any, system: str) -> str:
    for ident in identifiers or []:
        if isinstance(ident, dict) and ident.get("system") == SID + system:
            return str(ident.get("value", ""))
    return ""


def _ref_identifier(ref: Any, system: str) -> str:
    ident = ref.get("identifier") if isinstance(ref, dict) else None
    return _identifier([ident], system) if ident else ""


def _coding(concept: Any, system: str) -> str:
    for coding in (concept or {}).get("coding", []) if isinstance(concept, dict) else []:
        if coding.get("system") in (CS + system, *(("http://hl7.org/fhir/sid/icd-10",) if system == "icd10" else ())):
            return str(coding.get("code", ""))
    return ""


def _ext(element: dict[str, Any], name: str) -> Any:
    for ext in element.get("extension", []) or []:
        if isinstance(ext, dict) and ext.get("url") == EXT + name:
            return ext
    return None


def _money(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, dict) or value.get("currency", "VND") != "VND":
        raise FhirError(path, "money must be {value, currency: VND}")
    return _number(value.get("value"), path)


def _number(value: Any, path: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise FhirError(path, f"{value!r} is not a number")
    return format(Decimal(value).normalize(), "f") if isinstance(value, Decimal) else str(value)


def _time(value: Any, path: str) -> str:
    """FHIR dateTime -> yyyyMMddHHmm in Vietnam time; a date alone -> yyyyMMdd."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise FhirError(path, "a date or dateTime must be a string")
    if len(value) == 10:
        return value.replace("-", "")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FhirError(path, f"{value!r} is not a FHIR dateTime") from None
    if moment.tzinfo is None:
        raise FhirError(path, f"{value!r} has a time but no offset")
    return moment.astimezone(VIETNAM).strftime("%Y%m%d%H%M")


def _declared(element: dict[str, Any], at: str, which: int) -> dict[str, str]:
    ext = _ext(element, "declared-amounts")
    out: dict[str, str] = {}
    for sub in (ext or {}).get("extension", []):
        if sub.get("url") in AMOUNTS:
            out[AMOUNTS[sub["url"]][which]] = _money(sub.get("valueMoney"), f"{at}.extension[declared-amounts]")
    return out


def tables(data: bytes) -> tuple[str, dict[str, list[dict[str, str]]]]:
    """(facility, XML1/XML2/XML3 records) of the FHIR claim in ``data``; FhirError when it cannot be read."""
    claim, entries = _the_claim(load(data))
    missing = [k for k in REQUIRED if not claim.get(k)]
    if missing:
        raise FhirError("Claim", f"required element(s) missing: {', '.join(missing)}")
    if claim["use"] != "claim":
        raise FhirError("Claim.use", f"only 'claim' is accepted, got {claim['use']!r}")
    refs = _Resolver(claim, entries)
    facility = _ref_identifier(claim["provider"], "facility")
    if not facility:
        raise FhirError("Claim.provider", "needs identifier {system: .../sid/facility, value: MA_CSKCB}")
    patient = refs.get(claim["patient"], "Claim.patient") or {}
    coverages = []
    for i, ins in enumerate(claim["insurance"]):
        cov = refs.get(ins.get("coverage"), f"Claim.insurance[{i}].coverage") or {}
        card = _identifier(cov.get("identifier"), "card") or str(cov.get("subscriberId", ""))
        if not card:
            card = _ref_identifier(ins.get("coverage"), "card")
        period = cov.get("period") or {}
        registered = _ext(cov, "registered-facility")
        home = _ref_identifier({"identifier": (registered or {}).get("valueIdentifier")}, "facility")
        start, end = (
            _time(period.get("start"), f"Coverage[{i}].period.start"),
            _time(period.get("end"), f"Coverage[{i}].period.end"),
        )
        coverages.append((card, start, end, home))
    diagnoses = sorted(
        (d for d in claim.get("diagnosis", []) if isinstance(d, dict)), key=lambda d: d.get("sequence", 0)
    )
    main = [d for d in diagnoses if any(c.get("code") == "principal" for t in d.get("type", [])
                                        for c in t.get("coding", []))]  # fmt: skip
    main_code = _coding((main or diagnoses[:1] or [{}])[0].get("diagnosisCodeableConcept"), "icd10")
    others = [_coding(d.get("diagnosisCodeableConcept"), "icd10") for d in diagnoses if d not in main[:1]]
    if not main and diagnoses:
        others = others[1:]
    period = claim.get("billablePeriod") or {}
    route = _ext(claim, "route-code")
    route_code = (
        "8" if claim["status"] == "cancelled" else str(((route or {}).get("valueCoding") or {}).get("code", ""))
    )
    ma_lk = _identifier(claim.get("identifier"), "claim-id")
    head = {
        "MA_LK": ma_lk, "STT": "1", "MA_BN": _identifier(patient.get("identifier"), "patient-id"),
        "HO_TEN": str(((patient.get("name") or [{}])[0]).get("text", "")),
        "SO_CCCD": _identifier(patient.get("identifier"), "citizen-id"),
        "NGAY_SINH": _birth(patient.get("birthDate")),
        "GIOI_TINH": GENDER.get(str(patient.get("gender", "")), ""),
        "MA_THE_BHYT": ";".join(c[0] for c in coverages), "MA_DKBD": ";".join(c[3] for c in coverages),
        "GT_THE_TU": ";".join(c[1] for c in coverages), "GT_THE_DEN": ";".join(c[2] for c in coverages),
        "MA_BENH_CHINH": main_code, "MA_BENH_KT": ";".join(o for o in others if o),
        "MA_DOITUONG_KCB": route_code,
        "NGAY_VAO": _time(period.get("start"), "Claim.billablePeriod.start"),
        "NGAY_RA": _time(period.get("end"), "Claim.billablePeriod.end"),
        "T_TONGCHI_BV": _money(claim.get("total"), "Claim.total"),
        "MA_LOAI_KCB": _coding(claim.get("subType"), "visit-type") or _coding(claim["type"], "visit-type"),
        "MA_CSKCB": facility,
    }  # fmt: skip
    head.update(_declared(claim, "Claim", 0))
    lines: dict[str, list[dict[str, str]]] = {"XML2": [], "XML3": []}
    for i, item in enumerate(sorted(claim.get("item", []), key=lambda it: it.get("sequence", 0))):
        table, record = _line(item, f"Claim.item[{i}]", ma_lk)
        record["STT"] = str(len(lines[table]) + 1)
        lines[table].append(record)
    head["T_THUOC"] = _sum(lines["XML2"], "THANH_TIEN_BV")
    head["T_VTYT"] = _sum([r for r in lines["XML3"] if r.get("MA_VAT_TU")], "THANH_TIEN_BV")
    out = {"XML1": [head]}
    out.update({t: rows for t, rows in lines.items() if rows})
    return facility, out


def _birth(value: Any) -> str:
    """FHIR birthDate (yyyy, yyyy-MM or yyyy-MM-dd) -> NGAY_SINH, 00 for an unknown month or day."""
    if not value:
        return ""
    if not isinstance(value, str) or len(value) not in (4, 7, 10):
        raise FhirError("Patient.birthDate", f"{value!r} is not a FHIR date")
    year, month, day = [*value.split("-"), "00", "00"][:3]
    return f"{year}{month}{day}0000"


def _sum(rows: list[dict[str, str]], name: str) -> str:
    return format(sum((Decimal(r[name]) for r in rows if r.get(name)), Decimal(0)), "f")


def _line(item: dict[str, Any], at: str, ma_lk: str) -> tuple[str, dict[str, str]]:
    product = item.get("productOrService") or {}
    coding: dict[str, Any] = next(iter(product.get("coding") or []), {})
    kind = str(coding.get("system", "")).removeprefix(CS)
    if kind not in ("drug", "service", "supply"):
        raise FhirError(f"{at}.productOrService", "coding.system must be .../CodeSystem/drug, service or supply")
    quantity = item.get("quantity") or {}
    serviced = (item.get("servicedPeriod") or {}).get("start") or item.get("servicedDate")
    scope = _ext(item, "scope")
    common = {
        "MA_LK": ma_lk, "MA_NHOM": _coding(item.get("category"), "cost-group"),
        "SO_LUONG": _number(quantity.get("value"), f"{at}.quantity"), "DON_VI_TINH": str(quantity.get("unit", "")),
        "THANH_TIEN_BV": _money(item.get("net"), f"{at}.net"),
        "TYLE_TT_BH": _number((_ext(item, "item-rate") or {}).get("valueDecimal"), f"{at}.extension[item-rate]"),
        "MUC_HUONG": _number((_ext(item, "benefit-rate") or {}).get("valueDecimal"), f"{at}.extension[benefit-rate]"),
        "PHAM_VI": str(((scope or {}).get("valueCoding") or {}).get("code", "")),
        "NGAY_YL": _time(serviced, f"{at}.servicedPeriod.start"), "MA_PTTT": "1",
    }  # fmt: skip
    common.update(_declared(item, at, 1))
    name, code = str(coding.get("display") or product.get("text") or ""), str(coding.get("code", ""))
    price = _money(item.get("unitPrice"), f"{at}.unitPrice")
    if kind == "drug":
        return "XML2", {**common, "MA_THUOC": code, "TEN_THUOC": name, "DON_GIA": price}
    factor = item.get("factor")
    insured = _ext(item, "insured-unit-price")
    record = {**common, "DON_GIA_BV": price,
              "DON_GIA_BH": _money((insured or {}).get("valueMoney"), f"{at}.extension[insured-unit-price]") or price,
              "TYLE_TT_DV": _number(Decimal(factor) * 100 if factor is not None else 100, f"{at}.factor")}  # fmt: skip
    if kind == "supply":
        related = _ext(item, "related-service")
        record |= {"MA_VAT_TU": code, "TEN_VAT_TU": name,
                   "MA_DICH_VU": str(((related or {}).get("valueCoding") or {}).get("code", ""))}  # fmt: skip
    else:
        record |= {"MA_DICH_VU": code, "TEN_DICH_VU": name}
    return "XML3", record


def envelope(facility: str, records: dict[str, list[dict[str, str]]]) -> bytes:
    """The GIAMDINHHS file that carries ``records``: what the XML path reads, fields in the standard's order."""
    files = []
    for table, rows in records.items():
        root, row = ROOTS[table]
        order = schema.field_names(table)
        body = "".join(
            (f"<{row}>" if row else "")
            + "".join(f"<{n}>{escape(r[n])}</{n}>" for n in order if r.get(n))
            + (f"</{row}>" if row else "")
            for r in rows
        )
        inner = f"<DSACH_{row}>{body}</DSACH_{row}>" if row else body
        doc = f'<?xml version="1.0" encoding="utf-8"?><{root}>{inner}</{root}>'
        files.append(f"<FILEHOSO><LOAIHOSO>{table}</LOAIHOSO><NOIDUNGFILE>"
                     f"{base64.b64encode(doc.encode()).decode()}</NOIDUNGFILE></FILEHOSO>")  # fmt: skip
    return (
        f'<?xml version="1.0" encoding="utf-8"?><GIAMDINHHS><THONGTINDONVI><MACSKCB>{escape(facility)}</MACSKCB>'
        f"</THONGTINDONVI><THONGTINHOSO><SOLUONGHOSO>1</SOLUONGHOSO><DANHSACHHOSO><HOSO>{''.join(files)}</HOSO>"
        "</DANHSACHHOSO></THONGTINHOSO></GIAMDINHHS>"
    ).encode()


def claim_response(receipt: dict[str, Any], facility: str, now: datetime | None = None) -> dict[str, Any]:
    """A ClaimResponse for an intake receipt (``Receipt.as_json()``): ``queued`` until assessed, ``error``
    when rejected (one ``error`` per blocking finding), ``complete`` for a withdrawal; the other findings
    are process notes."""
    status = receipt["status"]
    outcome = {"rejected": "error", "withdrawn": "complete"}.get(status, "queued")

    errors: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for f in receipt["findings"]:
        location = "/".join(str(x) for x in (f["table"], f["row"], f["field"]) if x is not None)
        extension = [{"url": EXT + "xml-location", "valueString": location}] if location else []
        code = {"coding": [{"system": CS + "finding", "code": f["code"]}], "text": f["message"]}
        if f["code"] in REJECTING:
            errors.append({"code": code, **({"extension": extension} if extension else {})})
        else:
            found = {"url": EXT + "finding-code", "valueCoding": code["coding"][0]}
            notes.append({"number": len(notes) + 1, "type": "display", "text": f["message"],
                          "extension": [found, *extension]})  # fmt: skip
    created = (now or datetime.now(VIETNAM)).astimezone(VIETNAM).isoformat(timespec="seconds")
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse", "status": "active", "use": "claim", "outcome": outcome,
        "type": {"coding": [{"system": HL7 + "claim-type", "code": "institutional"}]},
        "patient": {"display": "as in the Claim"}, "created": created,
        "insurer": {"identifier": {"system": SID + "payor", "value": "VSS"}},
        "requestor": {"identifier": {"system": SID + "facility", "value": facility}},
        "disposition": {"accepted": "received, awaiting assessment", "new_version": "received as a new version",
                        "duplicate": "identical to a claim already received; nothing changed",
                        "withdrawn": "withdrawn", "rejected": "not received"}[status],
    }  # fmt: skip
    if receipt.get("ma_lk"):
        response["request"] = {"identifier": {"system": SID + "claim-id", "value": receipt["ma_lk"]}}
    if errors:
        response["error"] = errors
    if notes:
        response["processNote"] = notes
    return response


def operation_outcome(path: str, message: str) -> dict[str, Any]:
    """The OperationOutcome for a resource that could not be read as a claim: where (FHIRPath) and why."""
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "invalid", "diagnostics": message,
                       "expression": [path]}]}  # fmt: skip
