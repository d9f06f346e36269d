"""The reference evaluator: the same catalogue, claim by claim, in plain Python, for clarity.

It reads the same inputs, derives each view column with ordinary loops and dictionaries, asks each
rule's ``reference`` predicate, and prices the kept lines with the policy core itself
(``policy.split.price_visit``, ``policy.card.check_card``). Property tests hold the columnar
engines equal to it on every finding and every amount; it is also the baseline of ``bench/assess.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from bhyt.assessment.catalogue import AFTER_AMOUNTS, RULES, age_years
from bhyt.assessment.engine import available, boundaries
from bhyt.assessment.inputs import CLAIM_COLUMNS, LINE_COLUMNS, Batch, canonical
from bhyt.assessment.rules import Ctx, Rule, Scope, Severity
from bhyt.assessment.views import BED_GROUPS, DUPLICATE_KEY, EXAM_GROUP
from bhyt.errors import PolicyInputError
from bhyt.policy.benefit import FacilityLevel, Visit
from bhyt.policy.card import check_card
from bhyt.policy.params import ParameterSet
from bhyt.policy.split import Line, money, price_visit
from bhyt.refdata import icd10_rows

Row = dict[str, Any]
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Finding:
    seq: int
    rule: str
    severity: str
    table: str
    line: int | None


@dataclass(frozen=True)
class Amounts:
    seq: int
    assessed_rate: Decimal | None
    fund: Decimal
    copay: Decimal
    outside: Decimal
    rejected: Decimal
    package_cut: Decimal


@dataclass(frozen=True)
class ReferenceResult:
    findings: list[Finding]
    claims: list[Amounts]


def _rows(data: pa.Table | str, columns: dict[str, pa.DataType]) -> list[Row]:
    if isinstance(data, pa.Table):
        table, files = data, None
    else:
        dataset = ds.dataset(data.rsplit("/", 1)[0], format="parquet")
        pieces = [ds.dataset(f, format="parquet").to_table() for f in sorted(dataset.files)]
        table = pa.concat_tables(pieces, promote_options="permissive")
        files = [f for f, piece in zip(sorted(dataset.files), pieces, strict=True) for _ in range(piece.num_rows)]
    rows: list[Row] = canonical(table, columns).to_pylist()
    present = table.column_names
    for i, r in enumerate(rows):
        if files is not None and "file" in columns and "file" not in present:
            r["file"] = files[i]
        if "seq" in columns and "seq" not in present:
            r["seq"] = i
        if "occurrence" not in present:
            r["occurrence"] = 1
        if "insured_price" in columns and r["insured_price"] is None:
            r["insured_price"] = r["unit_price"]
    return rows


def _icd() -> dict[str, Row]:
    return {
        r["code"]: {
            "icd_main_allowed": r["main_allowed"] == "1",
            "icd_sex": r["sex"] or None,
            "icd_min_age": int(r["min_age_days"]) if r["min_age_days"] else None,
            "icd_max_age": int(r["max_age_days"]) if r["max_age_days"] else None,
        }
        for r in icd10_rows()
    }


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _claim(r: Row, p: ParameterSet, at: date, facilities: dict[str, Row], icd: dict[str, Row]) -> None:
    """Derive the claim view's own columns (those not needing other claims or lines)."""
    r["at"] = at
    r["admit_day"], r["discharge_day"] = _day(r["admitted_at"]), _day(r["discharged_at"])
    f = facilities.get(r["facility"])
    if r["facility_level"] is None and f is not None:
        r["facility_level"] = f["level"]
    r["contract_from"], r["contract_to"] = (f.get("contract_from"), f.get("contract_to")) if f else (None, None)
    admitted = r["admit_day"]
    r["uncontracted"] = bool(f is not None and "contract_from" in f and admitted is not None and (
        r["contract_from"] is None or admitted < r["contract_from"]
        or (r["contract_to"] is not None and admitted > r["contract_to"])))  # fmt: skip
    birth, admit = r["birth_date"], r["admit_day"]
    r["age_days"] = (admit - birth).days if admit and birth else None
    r["age_years"] = age_years(admit, birth)
    five, since = r["five_year_date"], r["copay_exempt_from"]
    r["exempt"] = bool(admit and since and five and since <= admit and five <= admit)
    r["area_present"] = bool(r["living_area"])
    r["inpatient"] = r["visit_type"] in p.code_list("visit.inpatient_types", at)
    r["visit_type_known"] = r["visit_type"] in p.code_list("visit.types", at)
    r["sex_code"] = {1: "M", 2: "F"}.get(r["sex"])
    card = r["card"]
    r["card_group"] = card[:2] if card is not None else None
    r["card_digit"] = card[2:3] if card is not None else None
    rates = p.route_rates("route.rates", at).get(r["route_code"])
    rate = None if rates is None else (rates.inpatient if r["inpatient"] else rates.outpatient)
    r["route_rate"] = rate
    r["usual_digit"] = p.code_by_code("benefit.usual_level_by_group", at).get(r["card_group"])
    r["card_error"] = check_card(card, p, at, r["registered_facility"]).error
    r["area_known"] = not r["living_area"] or r["living_area"] in p.code_list("benefit.living_area_codes", at)
    r["grace_days"] = p.integer("card.expiry_grace_days", at)
    entry = icd.get(r["main_diagnosis"])
    r["icd_known"] = entry is not None
    r.update(entry or dict.fromkeys(("icd_main_allowed", "icd_sex", "icd_min_age", "icd_max_age")))
    r["expected_days"] = _expected_days(r)
    r["bed_allowed"] = _bed_allowed(r, p, at)


def _expected_days(r: Row) -> int | None:
    if r["visit_type"] in ("01", "07", "09"):
        return 0
    if r["visit_type"] in ("02", "03", "04", "06") and r["admit_day"] and r["discharge_day"]:
        return int((r["discharge_day"] - r["admit_day"]).days + 1)
    return None


def _bed_allowed(r: Row, p: ParameterSet, at: date) -> int | None:
    if r["admit_day"] is None or r["discharge_day"] is None:
        return None
    days = (r["discharge_day"] - r["admit_day"]).days
    if days == 0:
        minutes = (r["discharged_at"] - r["admitted_at"]) // timedelta(minutes=1)
        return 1 if minutes > p.integer("bed.short_stay_minutes", at) else 0
    extra = r["outcome"] in p.code_list("bed.extra_day_outcomes", at) or r["discharge_type"] in p.code_list(
        "bed.extra_day_discharge_types", at
    )
    return int(days + (1 if extra else 0))


def _stored(claims: list[Row], history: pa.Table | None) -> None:
    """The first earlier-run claim with the same duplicate key under another MA_LK."""
    paid: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    for h in history.to_pylist() if history is not None else []:
        paid[tuple(h[k] for k in DUPLICATE_KEY)].add(h["claim_id"])
    for r in claims:
        others = paid.get(tuple(r[k] for k in DUPLICATE_KEY), set()) - {r["claim_id"]}
        r["stored_first"] = min(others) if others else None


def _cross_claim(claims: list[Row]) -> None:
    """Earlier identical claims, overlapping stays and same-day visits elsewhere, by card."""
    first: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for r in sorted(claims, key=lambda x: x["seq"]):
        key = tuple(r[k] for k in DUPLICATE_KEY)
        first[key].append(r)
        r["is_copy"], r["dup_first"] = len(first[key]) > 1, first[key][0]["claim_id"]
    by_card: dict[str, list[Row]] = defaultdict(list)
    for r in claims:
        if r["card"] is not None:
            by_card[r["card"]].append(r)
    for r in claims:
        others = by_card.get(r["card"], []) if r["card"] is not None else []
        stays = [o for o in others if r["inpatient"] and o["inpatient"] and _overlaps(r, o)]
        r["overlap_with"] = min((o["claim_id"] for o in stays), default=None)
        r["overlap_facility"] = min((o["facility"] for o in stays), default=None)
        same = [o["facility"] for o in others if _same_day(r, o)]
        r["same_day_facility"] = min(same, default=None)


def _before(o: Row, r: Row) -> bool:
    if o["admitted_at"] is None or r["admitted_at"] is None:
        return False
    return bool(o["admitted_at"] < r["admitted_at"] or (o["admitted_at"] == r["admitted_at"] and o["seq"] < r["seq"]))


def _differs(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a != b


def _overlaps(r: Row, o: Row) -> bool:
    times = (r["admitted_at"], r["discharged_at"], o["admitted_at"], o["discharged_at"])
    if any(t is None for t in times):
        return False
    return (
        _differs(r["facility"], o["facility"])
        and r["admitted_at"] < o["discharged_at"]
        and (o["admitted_at"] < r["discharged_at"] and _before(o, r))
    )


def _same_day(r: Row, o: Row) -> bool:
    return (
        r["admit_day"] is not None
        and r["admit_day"] == o["admit_day"]
        and _differs(r["facility"], o["facility"])
        and _before(o, r)
        and (r["referred_from"] is None or o["facility"] is None or r["referred_from"] != o["facility"])
        and (o["referred_to"] is None or r["facility"] is None or o["referred_to"] != r["facility"])
    )


def _order(x: Row) -> tuple[Any, ...]:
    at = x["ordered_at"]
    return (at is None, at.isoformat() if at is not None else "", x["table"], x["line_no"])


def _lines(c: Row, lines: list[Row], p: ParameterSet, catalogue: bool, cat: dict[str, Row],
           prices: dict[tuple[str, str], Decimal]) -> None:  # fmt: skip
    """Derive the line view's columns for the lines of one claim."""
    at = c["at"]
    for ln in lines:
        for k in ("seq", "at", "admitted_at", "discharged_at", "inpatient", "visit_type", "sex_code", "age_days",
                  "age_years", "card_digit", "card_valid_to", "grace_days", "bed_allowed"):  # fmt: skip
            ln[k] = c[k]
        ln["ordered_day"] = _day(ln["ordered_at"])
        ln["expiry_limit"] = c["card_valid_to"] + timedelta(days=c["grace_days"]) if c["card_valid_to"] else None
        ln["is_exam"] = ln["cost_group"] == EXAM_GROUP
        ln["is_bed"] = ln["cost_group"] in BED_GROUPS
        listed = ln["item_rate"] if ln["item_rate"] is not None else 100
        if catalogue:
            item = cat.get(ln["item_code"])
            ln["cat_found"] = item is not None
            ln.update({f"cat_{k}": (item or {}).get(k) for k in ("sex", "min_age", "max_age", "part_of")})
            if item is not None and item["item_rate"] is not None:
                listed = item["item_rate"]
            ln["cat_price"] = prices.get((ln["facility"], ln["item_code"]))
            ln["cat_in_list"] = (ln["facility"], ln["item_code"]) in prices
        limited = ln["cost_group"] in p.code_list("items.percentage_paid_groups", at) and ln["card_digit"] not in (
            p.code_list("benefit.levels_without_item_limits", at)
        )
        ln["expected_item_rate"] = listed if limited else 100
        q, price, sr = ln["quantity"], ln["unit_price"], ln["service_rate"]
        ln["expected_total"] = (
            money(q * price * (sr if sr is not None else 100) / HUNDRED)
            if q is not None and price is not None
            else None
        )
        parts = [ln[k] for k in ("total", "outside", "copay", "fund", "other_sources")]
        ln["balance"] = parts[0] - sum((x or 0 for x in parts[1:]), Decimal(0)) if parts[0] is not None else None
    codes = {ln["item_code"] for ln in lines}
    rates = [int(x) for x in p.percent_list("items.consultation_rates", at)]
    exams: dict[Any, int] = defaultdict(int)
    bed_total: dict[bool, Decimal] = defaultdict(Decimal)
    dups: dict[tuple[Any, ...], int] = defaultdict(int)
    for ln in sorted(lines, key=_order):
        exams[(ln["ordered_day"], ln["is_exam"])] += 1
        ln["exam_rank"] = exams[(ln["ordered_day"], ln["is_exam"])]
        if ln["quantity"] is not None:
            bed_total[ln["is_bed"]] += ln["quantity"]
        ln["bed_cum"] = bed_total[ln["is_bed"]]
        ln["expected_service_rate"] = (
            rates[min(ln["exam_rank"], len(rates)) - 1]
            if ln["is_exam"]
            else (ln["service_rate"] if ln["service_rate"] is not None else 100)
        )
        if catalogue:
            ln["parent_billed"] = ln["cat_part_of"] is not None and ln["cat_part_of"] in codes
    for ln in sorted(lines, key=lambda x: x["line_no"]):
        key = (ln["table"], ln["item_code"], ln["ordered_at"], ln["quantity"], ln["unit_price"])
        dups[key] += 1
        ln["dup_rank"] = dups[key]


def assess_reference(batch: Batch, params: ParameterSet, policy_date: date | None = None) -> ReferenceResult:
    claims = _rows(batch.claims, CLAIM_COLUMNS)
    lines = _rows(batch.lines, LINE_COLUMNS)
    facilities = {f["code"]: f for f in batch.facilities.to_pylist()} if batch.facilities is not None else {}
    icd = _icd()
    days = [d for d in (_day(c["admitted_at"]) for c in claims) if d is not None]
    latest = max([min(days), *boundaries(params, min(days), max(days))]) if days else None
    for c in claims:
        at = policy_date or _day(c["admitted_at"]) or latest
        if at is None:  # no claim has an admission date: the engine reads the newest parameters
            at = max(params.change_dates(params.names()))
        _claim(c, params, at, facilities, icd)
    _cross_claim(claims)
    _stored(claims, batch.history)
    by_key: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for ln in lines:
        by_key[(ln["facility"], ln["claim_id"], ln["occurrence"])].append(ln)
    cat = {r["code"]: r for r in batch.items.to_pylist()} if batch.items is not None else {}
    prices = (
        {(r["facility"], r["item_code"]): Decimal(r["price"]) for r in batch.prices.to_pylist()}
        if batch.prices is not None
        else {}
    )
    ctx = Ctx(params, lambda r: r["at"])
    rules = available(RULES, batch)
    findings: list[Finding] = []
    amounts: list[Amounts] = []
    for c in sorted(claims, key=lambda x: x["seq"]):
        own = [dict(ln) for ln in by_key.get((c["facility"], c["claim_id"], c["occurrence"]), [])]
        _lines(c, own, params, batch.has_catalogue, cat, prices)
        c["n_lines"] = len(own)
        c["lines_total"] = sum((ln["total"] for ln in own if ln["total"] is not None), Decimal(0)) if own else None
        c["lines_fund"] = sum((ln["fund"] for ln in own if ln["fund"] is not None), Decimal(0)) if own else None
        rated = [ln["benefit_rate"] for ln in own if ln["benefit_rate"] is not None]
        c["submitted_rate"] = max(rated) if rated else None
        found = _evaluate(rules, c, own, ctx)
        rejected = any(f.severity == Severity.REJECT_CLAIM for f in found)
        dropped = {(f.table, f.line) for f in found if f.severity == Severity.REJECT_LINE}
        kept = [] if rejected else [ln for ln in own if (ln["table"], ln["line_no"]) not in dropped]
        result = _price(c, kept, params, batch.has_catalogue, rejected)
        c["assessed_rate"] = result.assessed_rate
        c["package_cut"] = result.package_cut
        found += _evaluate(AFTER_AMOUNTS, c, [], ctx)
        lost = sum(
            (ln["total"] or Decimal(0) for ln in own if rejected or (ln["table"], ln["line_no"]) in dropped), Decimal(0)
        )
        amounts.append(Amounts(c["seq"], result.assessed_rate, result.fund, result.copay, result.outside,
                               money(lost), result.package_cut))  # fmt: skip
        findings += found
    return ReferenceResult(findings, amounts)


def _evaluate(rules: Iterable[Rule], c: Row, lines: list[Row], ctx: Ctx) -> list[Finding]:
    out = []
    for rule in rules:
        if rule.scope is Scope.CLAIM:
            if rule.reference(c, ctx):
                out.append(Finding(c["seq"], rule.code, rule.severity.value, "XML1", None))
        else:
            out += [
                Finding(c["seq"], rule.code, rule.severity.value, ln["table"], ln["line_no"])
                for ln in lines
                if rule.reference(ln, ctx)
            ]
    return out


def _visit(c: Row, level: str) -> Visit:
    return Visit(c["card_digit"], c["visit_type"], c["route_code"], FacilityLevel(level), c["at"], Decimal(0),
                 c["exempt"], c["living_area"] or None)  # fmt: skip


def _price(c: Row, kept: list[Row], p: ParameterSet, catalogue: bool, rejected: bool) -> Amounts:
    zero = Decimal("0.00")
    if rejected:
        return Amounts(c["seq"], None, zero, zero, zero, zero, zero)
    lines = []
    for ln in kept:
        price = ln["unit_price"]
        if catalogue and ln["cat_in_list"] and ln["cat_price"] < price:
            price = ln["cat_price"]
        sr = Decimal(ln["expected_service_rate"])
        total = money(ln["quantity"] * price * sr / HUNDRED)
        lines.append(
            Line(
                cost_group=ln["cost_group"],
                quantity=ln["quantity"],
                unit_price=price,
                insured_price=min(ln["insured_price"], price),
                scope=ln["scope"],
                listed_item_rate=Decimal(ln["expected_item_rate"]),
                service_rate=sr,
                other_sources=min(ln["other_sources"] or zero, total),
                supply_package=ln["supply_package"],
            )
        )
    try:
        visit = _visit(c, c["facility_level"] or "primary")
        priced = price_visit(p, visit, lines)
        if c["facility_level"] is None and priced.rate.rate != c["submitted_rate"]:
            # level unknown: the primary-level 100% is taken as claimed only when the claim used it
            visit = _visit(c, "basic")
            priced = price_visit(p, visit, lines)
        # What the supply-package ceiling moved from the fund: the same visit priced without packages.
        uncut = price_visit(p, visit, [replace(ln, supply_package=None) for ln in lines])
    except PolicyInputError:
        return Amounts(c["seq"], None, zero, zero, zero, zero, zero)
    t = priced.totals
    return Amounts(c["seq"], priced.rate.rate, t.fund, t.copay, t.outside, zero, uncut.totals.fund - t.fund)
