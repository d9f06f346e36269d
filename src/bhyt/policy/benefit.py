"""The benefit rate of a visit (MUC_HUONG): what share of in-scope cost the fund pays.

MUC_HUONG = effective level × route rate / 100, where
- the effective level is the card's benefit level (digit 3 of the card: 100/100/95/80/100), raised
  to 100 when the visit is small (in-scope cost strictly below 15% of the reference amount), when
  it is at primary (commune) level, or when the 5-year co-payment exemption is in force (not on
  self-referral);
- the route rate is the share the route code (MA_DOITUONG_KCB) allows for the visit class
  (inpatient or outpatient), from the list in force on the visit date (QĐ 824 to 2024, QĐ 3276
  from 2025); a living-area code K1–K3 raises a self-referred inpatient stay to 100.

So an 80% card self-referred to a former central hospital as an inpatient gets 80 × 40% = 32
(the spec's worked example), and a small visit on the same route gets 100 × 40% = 40.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bhyt.errors import PolicyInputError
from bhyt.policy import _vector
from bhyt.policy.params import Entry, ParameterSet

HUNDRED = Decimal(100)

RATE_PARAMETERS = (
    "benefit.level_rate",
    "route.rates",
    "visit.types",
    "visit.inpatient_types",
    "benefit.small_visit_threshold",
    "general.reference_amount",
    "benefit.primary_level_full_rate",
    "route.self_referral_codes",
    "benefit.primary_level_excluded_visit_types",
    "benefit.living_area_codes",
)
WITHDRAWAL_ROUTE = "8"


class FacilityLevel(StrEnum):
    """Technical level of a facility (Law 51/2024). ``primary`` (cấp ban đầu) includes the commune
    stations that were "tuyến xã" before 2025; ``basic`` and ``specialised`` replace the district,
    provincial and central "tuyến", whose distinctions the route code carries."""

    PRIMARY = "primary"
    BASIC = "basic"
    SPECIALISED = "specialised"


@dataclass(frozen=True)
class Visit:
    """What the benefit rate of a visit depends on."""

    benefit_digit: str  # character 3 of the card
    visit_type: str  # MA_LOAI_KCB, e.g. "01"
    route_code: str  # MA_DOITUONG_KCB, e.g. "1.1"
    facility_level: FacilityLevel
    date: date  # the visit date (NGAY_VAO)
    in_scope_total: Decimal  # T_TONGCHI_BH: in-scope cost of the visit, VND
    copay_exempt: bool = False  # the 5-year exemption is in force (see copay_exemption_applies)
    living_area: str | None = None  # MA_KHUVUC printed on the card


@dataclass(frozen=True)
class Step:
    """One step of a computation: what was decided, and from which parameter value."""

    text: str
    parameter: str | None = None
    entry: Entry | None = None


@dataclass(frozen=True)
class BenefitRate:
    rate: Decimal  # MUC_HUONG, percent of in-scope cost
    level_rate: Decimal  # the card's level
    effective_level: Decimal  # after the 100% rules
    route_rate: Decimal
    inpatient: bool
    reasons: tuple[str, ...]  # which 100% rules applied: small_visit, primary_level, copay_exemption
    steps: tuple[Step, ...]


def benefit_rate(params: ParameterSet, visit: Visit) -> BenefitRate:
    """MUC_HUONG of a visit, with every step and the parameter it used.

    >>> from bhyt.policy.params import default_parameters
    >>> v = Visit("4", "03", "3.1", FacilityLevel.SPECIALISED, date(2026, 7, 1), Decimal(5_000_000))
    >>> benefit_rate(default_parameters(), v).rate
    Decimal('32')
    """
    at, steps = visit.date, []

    def use(name: str, text: str) -> Entry:
        entry = params.entry(name, at)
        steps.append(Step(text, name, entry))
        return entry

    if visit.visit_type not in params.code_list("visit.types", at):
        raise PolicyInputError("visit_type", visit.visit_type, f"not a MA_LOAI_KCB code in force on {at}")
    if visit.route_code == WITHDRAWAL_ROUTE:
        raise PolicyInputError("route_code", visit.route_code, "code 8 withdraws a claim; it has no rate")
    levels = params.percent_by_code("benefit.level_rate", at)
    if visit.benefit_digit not in levels:
        raise PolicyInputError("benefit_digit", visit.benefit_digit, "the benefit digit must be 1–5")
    routes = params.route_rates("route.rates", at)
    if visit.route_code not in routes:
        raise PolicyInputError("route_code", visit.route_code, f"not in the MA_DOITUONG_KCB list in force on {at}")
    inpatient = visit.visit_type in params.code_list("visit.inpatient_types", at)
    cls = "inpatient" if inpatient else "outpatient"
    route_rate = getattr(routes[visit.route_code], cls)
    if route_rate is None:
        raise PolicyInputError("route_code", visit.route_code, f"this route code does not apply to {cls} visits")
    areas = params.code_list("benefit.living_area_codes", at)
    if visit.living_area and visit.living_area not in areas:
        raise PolicyInputError("living_area", visit.living_area, f"expected one of {', '.join(areas)}")

    level = levels[visit.benefit_digit]
    use("benefit.level_rate", f"card benefit digit {visit.benefit_digit}: level {level}%")
    use("route.rates", f"route {visit.route_code}, {cls} (MA_LOAI_KCB {visit.visit_type}): {route_rate}%")
    self_referral = visit.route_code in params.code_list("route.self_referral_codes", at)
    if visit.living_area and inpatient and self_referral and route_rate < HUNDRED:
        use("benefit.living_area_codes", f"living area {visit.living_area}, self-referred inpatient: route rate 100%")
        route_rate = HUNDRED

    reasons = []
    threshold = small_visit_threshold(params, at)
    if visit.in_scope_total < threshold:
        reasons.append("small_visit")
        use("general.reference_amount", f"reference amount {params.money('general.reference_amount', at):,}")
        use("benefit.small_visit_threshold", f"in-scope {visit.in_scope_total:,} < {threshold:,}: level 100%")
    if (
        visit.facility_level is FacilityLevel.PRIMARY
        and params.flag("benefit.primary_level_full_rate", at)
        and visit.visit_type not in params.code_list("benefit.primary_level_excluded_visit_types", at)
    ):
        reasons.append("primary_level")
        use("benefit.primary_level_full_rate", "primary (commune) level: level 100%")
    if visit.copay_exempt:
        if self_referral:
            use("route.self_referral_codes", "co-payment exemption: not on self-referral")
        else:
            reasons.append("copay_exemption")
            steps.append(Step("5-year co-payment exemption in force: level 100%"))
    effective = HUNDRED if reasons else level
    rate = effective * route_rate / HUNDRED
    steps.append(Step(f"MUC_HUONG = {effective}% × {route_rate}% = {rate}%"))
    return BenefitRate(rate, level, effective, route_rate, inpatient, tuple(reasons), tuple(steps))


def small_visit_threshold(params: ParameterSet, at: date) -> Decimal:
    """In-scope cost below which (strictly) a visit is paid at 100% of entitlement.

    >>> from bhyt.policy.params import default_parameters
    >>> small_visit_threshold(default_parameters(), date(2026, 7, 1))
    Decimal('379500')
    """
    return params.money("general.reference_amount", at) * params.percent("benefit.small_visit_threshold", at) / HUNDRED


def five_year_date(params: ParameterSet, continuous_since: date, at: date) -> date:
    """The date a person reaches the continuous-participation years (NAM_NAM_LIEN_TUC)."""
    years = params.integer("benefit.copay_exemption_years", at)
    try:
        return continuous_since.replace(year=continuous_since.year + years)
    except ValueError:  # 29 February
        return continuous_since.replace(year=continuous_since.year + years, day=28)


def copay_exemption_threshold(params: ParameterSet, at: date) -> int:
    """Co-payment in a calendar year above which the 5-year exemption starts (6 × reference)."""
    return params.integer("benefit.copay_exemption_threshold_months", at) * params.money("general.reference_amount", at)


def copay_exemption_applies(params: ParameterSet, at: date, five_year: date | None, copay_this_year: Decimal) -> bool:
    """Whether the co-payment exemption is in force on ``at``: the 5-year date is reached and the
    year's co-payment so far is strictly above the threshold. (ND 188 Art. 18(2)(c)'s conversion
    of the running total when the base salary changes mid-year is the registry's job.)"""
    return five_year is not None and five_year <= at and copay_this_year > copay_exemption_threshold(params, at)


def _lookup(keys: list[str], values: pa.Array, col: pa.Array) -> pa.Array:
    return pc.take(values, pc.index_in(col, value_set=pa.array(keys, pa.string())))


def _first_bad(mask: np.ndarray, col: pa.Array, field: str, message: str) -> None:
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        raise PolicyInputError(field, col[i].as_py(), f"row {i}: {message}")


PERCENT = pa.decimal256(12, 6)


def benefit_rates(
    params: ParameterSet,
    *,
    benefit_digit: object,
    visit_type: object,
    route_code: object,
    facility_level: object,
    dates: object,
    in_scope_total: object,
    copay_exempt: object | None = None,
    living_area: object | None = None,
) -> pa.Table:
    """Vectorised :func:`benefit_rate`: one row per visit, columns ``rate``, ``level_rate``,
    ``effective_level``, ``route_rate`` (exact decimals), ``inpatient``, ``small_visit``,
    ``primary_level``, ``copay_exemption``. Bad input raises the same error as the scalar form,
    naming the first bad row."""
    digit = _vector.strings(benefit_digit)  # Arrow strings: the lookups below are Arrow kernels
    n = len(digit)
    vtype, route, level_col = (
        _vector.strings(visit_type),
        _vector.strings(route_code),
        _vector.strings(facility_level),
    )
    total = _vector.decimals(in_scope_total, _vector.MONEY)
    exempt = np.zeros(n, bool) if copay_exempt is None else np.asarray(copay_exempt, bool)
    area = _vector.strings(living_area if living_area is not None else pa.nulls(n, pa.string()))
    days = _vector.as_days(dates, n)

    parts: dict[str, list[pa.Array]] = {"level": [], "route": [], "effective": []}
    order: list[np.ndarray] = []
    flags = {k: np.zeros(n, bool) for k in ("inpatient", "small_visit", "primary_level", "copay_exemption")}
    _first_bad(
        ~np.isin(np.asarray(level_col), [lv.value for lv in FacilityLevel]),
        level_col,
        "facility_level",
        "expected primary, basic or specialised",
    )
    for at, rows in _vector.by_epoch(params, RATE_PARAMETERS, days):
        take = pa.array(rows)
        d, vt, rc, ar = (pc.take(c, take) for c in (digit, vtype, route, area))
        _first_bad(
            ~np.asarray(pc.fill_null(pc.is_in(vt, pa.array(params.code_list("visit.types", at))), False)),
            vt,
            "visit_type",
            f"not a MA_LOAI_KCB code in force on {at}",
        )
        _first_bad(
            np.asarray(pc.fill_null(pc.equal(rc, WITHDRAWAL_ROUTE), False)),
            rc,
            "route_code",
            "code 8 withdraws a claim; it has no rate",
        )
        levels = params.percent_by_code("benefit.level_rate", at)
        level = _lookup(list(levels), pa.array(list(levels.values()), PERCENT), d)
        _first_bad(np.asarray(level.is_null()), d, "benefit_digit", "the benefit digit must be 1–5")
        routes = params.route_rates("route.rates", at)
        codes = list(routes)
        known = np.asarray(pc.fill_null(pc.is_in(rc, pa.array(codes)), False))
        _first_bad(~known, rc, "route_code", f"not in the MA_DOITUONG_KCB list in force on {at}")
        inpatient = np.asarray(
            pc.fill_null(pc.is_in(vt, pa.array(params.code_list("visit.inpatient_types", at))), False)
        )
        ip = _lookup(codes, pa.array([r.inpatient for r in routes.values()], PERCENT), rc)
        op = _lookup(codes, pa.array([r.outpatient for r in routes.values()], PERCENT), rc)
        rr = pc.if_else(pa.array(inpatient), ip, op)
        for cls, mask in (("inpatient", inpatient), ("outpatient", ~inpatient)):
            _first_bad(
                np.asarray(rr.is_null()) & mask,
                rc,
                "route_code",
                f"this route code does not apply to {cls} visits",
            )
        areas = params.code_list("benefit.living_area_codes", at)
        has_area = np.asarray(pc.fill_null(pc.not_equal(ar, ""), False))
        _first_bad(
            has_area & ~np.asarray(pc.fill_null(pc.is_in(ar, pa.array(areas)), False)),
            ar,
            "living_area",
            f"expected one of {', '.join(areas)}",
        )
        self_referral = np.asarray(pc.is_in(rc, pa.array(params.code_list("route.self_referral_codes", at))))
        raise_route = has_area & inpatient & self_referral & np.asarray(pc.less(rr, Decimal(100)))
        rr = pc.if_else(pa.array(raise_route), pa.scalar(Decimal(100), PERCENT), rr)

        threshold = small_visit_threshold(params, at)
        small = np.asarray(pc.less(pc.take(total, take), pa.scalar(threshold, pa.decimal256(40, 8))))
        primary = (
            np.asarray(pc.equal(pc.take(level_col, take), FacilityLevel.PRIMARY.value))
            & params.flag("benefit.primary_level_full_rate", at)
            & ~np.asarray(pc.is_in(vt, pa.array(params.code_list("benefit.primary_level_excluded_visit_types", at))))
        )
        exempt_ok = exempt[rows] & ~self_referral
        full = small | primary | exempt_ok
        effective = pc.if_else(pa.array(full), pa.scalar(Decimal(100), PERCENT), level)
        for key, col in (("level", level), ("route", rr), ("effective", effective)):
            parts[key].append(col.cast(PERCENT))
        order.append(rows)
        for key, val in (
            ("inpatient", inpatient),
            ("small_visit", small),
            ("primary_level", primary),
            ("copay_exemption", exempt_ok),
        ):
            flags[key][rows] = val
    # Back to input order: row order[i] holds the i-th computed value.
    inverse = np.empty(n, np.intp)
    inverse[np.concatenate(order) if order else np.empty(0, np.intp)] = np.arange(n)
    out = {k: pa.concat_arrays(v).take(pa.array(inverse)) if v else pa.array([], PERCENT) for k, v in parts.items()}
    effective_col, route_col = out["effective"], out["route"]
    rate = pc.multiply(pc.multiply(effective_col, route_col), pa.scalar(Decimal("0.01"), pa.decimal256(3, 2)))
    return pa.table(
        {
            "rate": rate,
            "level_rate": out["level"],
            "effective_level": effective_col,
            "route_rate": route_col,
            **{k: pa.array(v) for k, v in flags.items()},
        }
    )
