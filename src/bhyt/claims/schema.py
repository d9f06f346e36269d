"""The QĐ 130/4750 field schema, generated from the official appendix (``schema_4750.json``, made by
``scripts/gen_schema.py``), and the one place that maps the standard's Vietnamese field names to the
English names used inside BHYT.

A record passes :func:`check_record` when every field is one the table defines, strings fit their
maximum size, and numbers are numbers with no more digits or decimals than the field allows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SCHEMA = Path(__file__).parent / "schema_4750.json"


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # "string" | "number"
    size: int | None  # None: no fixed limit ("n")
    scale: int | None  # decimals allowed for numbers
    new_in_4750: bool
    required: bool  # marked required in the vendor checklist (qd4750-validation-checks.xlsx)
    description: str


@cache
def tables() -> dict[str, tuple[Field, ...]]:
    """XML0…XML15 -> their fields, in the standard's order."""
    doc = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return {
        code: tuple(
            Field(f["name"], f["type"], f["size"], f["scale"], f["new_in_4750"], f["required"], f["description"])
            for f in t["fields"]
        )
        for code, t in doc.items()
    }


def field(table: str, name: str) -> Field:
    """One field of ``table`` by its name in the standard."""
    return _by_name(table)[name]


@cache
def _by_name(table: str) -> dict[str, Field]:
    return {f.name: f for f in tables()[table]}


def field_names(table: str) -> tuple[str, ...]:
    return tuple(f.name for f in tables()[table])


_NUMBER = re.compile(r"^-?([0-9]+)(?:\.([0-9]+))?$")


def check_value(f: Field, value: str) -> str | None:
    """Why ``value`` does not fit field ``f``, or None when it does (an empty value always fits)."""
    if value == "":
        return None
    if f.type == "string":
        if f.size is not None and len(value) > f.size:
            return f"{f.name}: {len(value)} characters, at most {f.size}"
        return None
    m = _NUMBER.match(value)
    if not m:
        return f"{f.name}: {value!r} is not a number"
    whole, decimals = m.group(1), m.group(2) or ""
    if f.scale is not None and len(decimals) > f.scale:
        return f"{f.name}: {value!r} has more than {f.scale} decimals"
    if f.size is not None and len(whole.lstrip("0") or "0") > f.size:
        return f"{f.name}: {value!r} has more than {f.size} digits"
    return None


@cache
def fast_checks(table: str) -> dict[str, tuple[int, re.Pattern[str] | None]]:
    """Field -> (longest string; a pattern every fitting number matches, or None for strings).

    The same test as :func:`check_value`, compiled once per table so a value costs one ``len`` or one
    ``fullmatch``; :func:`check_value` then explains a value that fails.
    """
    out: dict[str, tuple[int, re.Pattern[str] | None]] = {}
    for f in tables()[table]:
        if f.type == "string":
            out[f.name] = (f.size if f.size is not None else 2**62, None)
            continue
        whole = "[0-9]+" if f.size is None else f"0*[0-9]{{1,{f.size}}}"
        decimals = r"(?:\.[0-9]+)?" if f.scale is None else (f"(?:\\.[0-9]{{1,{f.scale}}})?" if f.scale else "")
        out[f.name] = (0, re.compile(f"-?{whole}{decimals}"))
    return out


def check_record(table: str, record: dict[str, str]) -> list[str]:
    """Every problem of one record of ``table`` against the generated schema."""
    fields = {f.name: f for f in tables()[table]}
    problems = [f"{table}: unknown field {name}" for name in record if name not in fields]
    for name, value in record.items():
        if name in fields and (why := check_value(fields[name], value)):
            problems.append(f"{table}.{why}")
    return problems


# English names inside BHYT for the fields of XML1-XML3, the one mapping of the two vocabularies.
XML1 = {
    "claim_id": "MA_LK",
    "patient_id": "MA_BN",
    "name": "HO_TEN",
    "citizen_id": "SO_CCCD",
    "birth_date": "NGAY_SINH",
    "sex": "GIOI_TINH",
    "ethnicity": "MA_DANTOC",
    "province": "MATINH_CU_TRU",
    "commune": "MAXA_CU_TRU",
    "card": "MA_THE_BHYT",
    "registered_facility": "MA_DKBD",
    "card_valid_from": "GT_THE_TU",
    "card_valid_to": "GT_THE_DEN",
    "main_diagnosis": "MA_BENH_CHINH",
    "other_diagnoses": "MA_BENH_KT",
    "route_code": "MA_DOITUONG_KCB",
    "referred_from": "MA_NOI_DI",
    "referred_to": "MA_NOI_DEN",
    "admitted_at": "NGAY_VAO",
    "inpatient_at": "NGAY_VAO_NOI_TRU",
    "discharged_at": "NGAY_RA",
    "treatment_days": "SO_NGAY_DTRI",
    "outcome": "KET_QUA_DTRI",
    "discharge_type": "MA_LOAI_RV",
    "drug_total": "T_THUOC",
    "supply_total": "T_VTYT",
    "total": "T_TONGCHI_BV",
    "insured_total": "T_TONGCHI_BH",
    "outside": "T_BNTT",
    "copay": "T_BNCCT",
    "fund": "T_BHTT",
    "other_sources": "T_NGUONKHAC",
    "settlement_year": "NAM_QT",
    "settlement_month": "THANG_QT",
    "visit_type": "MA_LOAI_KCB",
    "facility": "MA_CSKCB",
    "living_area": "MA_KHUVUC",
    "five_year_date": "NAM_NAM_LIEN_TUC",
    "copay_exempt_from": "NGAY_MIEN_CCT",
}
XML2 = {
    "claim_id": "MA_LK",
    "line_no": "STT",
    "item_code": "MA_THUOC",
    "cost_group": "MA_NHOM",
    "name": "TEN_THUOC",
    "unit": "DON_VI_TINH",
    "drug_route": "DUONG_DUNG",
    "scope": "PHAM_VI",
    "item_rate": "TYLE_TT_BH",
    "quantity": "SO_LUONG",
    "unit_price": "DON_GIA",
    "total": "THANH_TIEN_BV",
    "insured": "THANH_TIEN_BH",
    "other_sources": "T_NGUONKHAC",
    "benefit_rate": "MUC_HUONG",
    "outside": "T_BNTT",
    "copay": "T_BNCCT",
    "fund": "T_BHTT",
    "ordered_at": "NGAY_YL",
    "payment_method": "MA_PTTT",
}
XML3 = {
    "claim_id": "MA_LK",
    "line_no": "STT",
    "item_code": "MA_DICH_VU",
    "supply_code": "MA_VAT_TU",
    "cost_group": "MA_NHOM",
    "supply_package": "GOI_VTYT",
    "supply_name": "TEN_VAT_TU",
    "name": "TEN_DICH_VU",
    "unit": "DON_VI_TINH",
    "scope": "PHAM_VI",
    "quantity": "SO_LUONG",
    "unit_price": "DON_GIA_BV",
    "insured_price": "DON_GIA_BH",
    "service_rate": "TYLE_TT_DV",
    "item_rate": "TYLE_TT_BH",
    "total": "THANH_TIEN_BV",
    "insured": "THANH_TIEN_BH",
    "benefit_rate": "MUC_HUONG",
    "other_sources": "T_NGUONKHAC",
    "outside": "T_BNTT",
    "copay": "T_BNCCT",
    "fund": "T_BHTT",
    "ordered_at": "NGAY_YL",
    "payment_method": "MA_PTTT",
}
