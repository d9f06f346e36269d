"""The QĐ 130/4750 field schema, generated from the official appendix (``schema_4750.json``, made by
``scripts/gen_schema.py``), and the one place that maps the standard's Vietnamese field names to the
English names used inside BHYT.

A record passes :func:`check_record` when every field is one the table defines, strings fit their
maximum size, and numbers are numbers with no more digits or decimals than the field allows.
"""

from __future__ import annotations

import csv
import io
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
    check: str = ""  # the checklist's validity note ("VALID"), interpreted by bhyt.claims.checklist


FIELD_KEYS = ("name", "type", "size", "scale", "new_in_4750", "required", "description", "check")


@cache
def tables() -> dict[str, tuple[Field, ...]]:
    """XML0…XML15 -> their fields, in the standard's order."""
    doc = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return {code: tuple(Field(**{k: f[k] for k in FIELD_KEYS}) for f in t["fields"]) for code, t in doc.items()}


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


@cache
def flat_spec(table: str) -> dict[str, tuple[int, int, int]]:
    """Field -> (0 text / 1 number, size, scale; -1 for no limit): what the compiled reader checks values
    against, the same test as :func:`check_value`."""

    def limit(value: int | None) -> int:
        return -1 if value is None else value

    return {f.name: (int(f.type == "number"), limit(f.size), limit(f.scale)) for f in tables()[table]}


def check_record(table: str, record: dict[str, str]) -> list[str]:
    """Every problem of one record of ``table`` against the generated schema."""
    fields = {f.name: f for f in tables()[table]}
    problems = [f"{table}: unknown field {name}" for name in record if name not in fields]
    for name, value in record.items():
        if name in fields and (why := check_value(fields[name], value)):
            problems.append(f"{table}.{why}")
    return problems


# English names inside BHYT: ``fields_en.csv`` maps every field of XML1-XML5 (the tables typed in full)
# to its English name and kind; it is the one mapping of the two vocabularies.
ENGLISH = Path(__file__).parent / "fields_en.csv"
KINDS = ("code", "text", "int", "decimal", "timestamp", "date")


@dataclass(frozen=True)
class Named:
    field: str  # the standard's name
    english: str
    kind: str  # one of KINDS: how the text becomes a typed value


@cache
def english(table: str) -> tuple[Named, ...]:
    """The fields of ``table`` (XML1-XML5) with their English names and kinds, in the standard's order."""
    rows = [r for r in csv.DictReader(io.StringIO(ENGLISH.read_text(encoding="utf-8"))) if r["table"] == table]
    return tuple(Named(r["field"], r["english"], r["kind"]) for r in rows)


def _lake(table: str, names: tuple[str, ...]) -> dict[str, str]:
    by_english = {n.english: n.field for n in english(table)}
    return {name: by_english[name] for name in names}


# The XML1-XML3 fields the synthetic nation's lake carries (English -> standard), as the synth writes them.
XML1 = _lake("XML1", (
    "claim_id", "patient_id", "name", "citizen_id", "birth_date", "sex", "ethnicity", "province", "commune", "card",
    "registered_facility", "card_valid_from", "card_valid_to", "main_diagnosis", "other_diagnoses", "route_code",
    "referred_from", "referred_to", "admitted_at", "inpatient_at", "discharged_at", "treatment_days", "outcome",
    "discharge_type", "drug_total", "supply_total", "total", "insured_total", "outside", "copay", "fund",
    "other_sources", "settlement_year", "settlement_month", "visit_type", "facility", "living_area", "five_year_date",
    "copay_exempt_from",
))  # fmt: skip
XML2 = _lake("XML2", (
    "claim_id", "line_no", "item_code", "cost_group", "name", "unit", "drug_route", "scope", "item_rate", "quantity",
    "unit_price", "total", "insured", "other_sources", "benefit_rate", "outside", "copay", "fund", "ordered_at",
    "payment_method",
))  # fmt: skip
XML3 = _lake("XML3", (
    "claim_id", "line_no", "item_code", "supply_code", "cost_group", "supply_package", "supply_name", "name", "unit",
    "scope", "quantity", "unit_price", "insured_price", "service_rate", "item_rate", "total", "insured",
    "benefit_rate", "other_sources", "outside", "copay", "fund", "ordered_at", "payment_method",
))  # fmt: skip
