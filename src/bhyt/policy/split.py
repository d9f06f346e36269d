"""Who pays for each line of a claim: the money formulas of QĐ 130/4750 (bhyt-spec §1.12).

Per line (XML2 drug or XML3 service/supply), with money rounded half up to 2 decimals:

1. total (THANH_TIEN_BV) = quantity × facility price × service rate (TYLE_TT_DV) / 100
2. insured (THANH_TIEN_BH) = quantity × BHYT price × item rate (TYLE_TT_BH) / 100 × service rate / 100;
   0 for a line outside the BHYT scope
3. provisional: outside = total − insured; fund = insured × MUC_HUONG / 100; co-pay = insured − fund
4. other sources (T_NGUONKHAC) are used up first on the outside part, then the co-payment, then the fund.

So total = outside (T_BNTT) + co-payment (T_BNCCT) + fund (T_BHTT) + other sources, exactly.
The English names are used inside BHYT; the XML names appear only at the claim-file boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bhyt.errors import PolicyInputError
from bhyt.policy import _vector
from bhyt.policy.benefit import BenefitRate, Step, Visit, benefit_rate
from bhyt.policy.params import ParameterSet

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def money(value: Decimal) -> Decimal:
    """Round an amount half up to 2 decimals, as the standard requires."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_dong(value: Decimal) -> int:
    """Whole đồng, rounded half up (for reports and JSON)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class LineAmounts:
    total: Decimal  # THANH_TIEN_BV
    insured: Decimal  # THANH_TIEN_BH
    other_sources: Decimal  # T_NGUONKHAC
    outside: Decimal  # T_BNTT: patient, outside scope
    copay: Decimal  # T_BNCCT: patient co-payment
    fund: Decimal  # T_BHTT: claimed from the fund


def split_line(
    *,
    quantity: Decimal,
    unit_price: Decimal,
    insured_price: Decimal,
    benefit_rate: Decimal,
    item_rate: Decimal = HUNDRED,
    service_rate: Decimal = HUNDRED,
    in_scope: bool = True,
    other_sources: Decimal = ZERO,
) -> LineAmounts:
    """Split one line (quantity SO_LUONG, prices DON_GIA_BV/DON_GIA_BH, rates in percent).

    >>> split_line(quantity=Decimal(2), unit_price=Decimal(150_000), insured_price=Decimal(150_000),
    ...            benefit_rate=Decimal(80))
    LineAmounts(total=Decimal('300000.00'), insured=Decimal('300000.00'), other_sources=Decimal('0.00'), \
outside=Decimal('0.00'), copay=Decimal('60000.00'), fund=Decimal('240000.00'))
    """
    with localcontext() as ctx:
        ctx.prec = 80  # exact for every amount the standard's field sizes allow
        return _split_line(
            quantity,
            unit_price,
            insured_price,
            benefit_rate,
            item_rate,
            service_rate,
            in_scope,
            other_sources,
        )


def _split_line(
    quantity: Decimal,
    unit_price: Decimal,
    insured_price: Decimal,
    benefit_rate: Decimal,
    item_rate: Decimal,
    service_rate: Decimal,
    in_scope: bool,
    other_sources: Decimal,
) -> LineAmounts:
    for name, value in (
        ("quantity", quantity),
        ("unit_price", unit_price),
        ("insured_price", insured_price),
        ("other_sources", other_sources),
    ):
        if value < 0:
            raise PolicyInputError(name, value, "must not be negative")
    for name, value in (
        ("benefit_rate", benefit_rate),
        ("item_rate", item_rate),
        ("service_rate", service_rate),
    ):
        if not ZERO <= value <= HUNDRED:
            raise PolicyInputError(name, value, "a percentage must be within 0–100")
    total = money(quantity * unit_price * service_rate / HUNDRED)
    insured = money(quantity * insured_price * item_rate / HUNDRED * service_rate / HUNDRED) if in_scope else ZERO
    if insured > total:
        raise PolicyInputError(
            "insured_price", insured_price, f"insured amount {insured} exceeds the line total {total}"
        )
    other = money(other_sources)
    if other > total:
        raise PolicyInputError("other_sources", other, f"other sources exceed the line total {total}")
    fund0 = money(insured * benefit_rate / HUNDRED)
    copay0 = insured - fund0
    outside0 = total - insured
    outside = max(outside0 - other, ZERO)
    excess = max(other - outside0, ZERO)  # what other sources cover beyond the outside part
    copay = max(copay0 - excess, ZERO)
    fund = fund0 - max(excess - copay0, ZERO)
    return LineAmounts(total, insured, other, outside, copay, fund)


OUTPUTS = ("total", "insured", "other_sources", "outside", "copay", "fund")


def split_lines(
    *,
    quantity: object,
    unit_price: object,
    insured_price: object,
    benefit_rate: object,
    item_rate: object | None = None,
    service_rate: object | None = None,
    in_scope: object | None = None,
    other_sources: object | None = None,
) -> pa.Table:
    """Vectorised :func:`split_line` over exact columns (Arrow decimals, integers or lists of
    Decimals; floats refused).

    Returns columns ``total``, ``insured``, ``other_sources``, ``outside``, ``copay``, ``fund`` of type
    ``decimal128(38, 2)``. Computed in exact int64 arithmetic on scaled integers when the inputs'
    magnitudes allow it (the usual case), otherwise in Arrow decimal256: the same numbers either way."""
    cents = split_cents(
        quantity=quantity, unit_price=unit_price, insured_price=insured_price, benefit_rate=benefit_rate,
        item_rate=item_rate, service_rate=service_rate, in_scope=in_scope, other_sources=other_sources,
    )  # fmt: skip
    return pa.table({k: _cents(cents[k]) for k in OUTPUTS})


def split_cents(
    *,
    quantity: object,
    unit_price: object,
    insured_price: object,
    benefit_rate: object,
    item_rate: object | None = None,
    service_rate: object | None = None,
    in_scope: object | None = None,
    other_sources: object | None = None,
) -> dict[str, np.ndarray]:
    """:func:`split_lines` as whole cents (int64 arrays; Python ints beyond int64), for engines
    that sum and store amounts as integers."""
    inputs = {
        "quantity": quantity,
        "unit_price": unit_price,
        "insured_price": insured_price,
        "benefit_rate": benefit_rate,
        "item_rate": item_rate,
        "service_rate": service_rate,
        "other_sources": other_sources,
    }
    n = len(_vector.exact(quantity))
    scope = np.ones(n, bool) if in_scope is None else np.asarray(in_scope, bool)
    cents = _split_int64(inputs, scope, n)
    return cents if cents is not None else _split_decimal(inputs, scope, n)


def _check(name: str, bad: np.ndarray, values: object, message: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise PolicyInputError(name, _vector.exact(values)[i].as_py(), f"row {i}: {message}")


def _allocate(
    total: np.ndarray, insured: np.ndarray, fund0: np.ndarray, nk: np.ndarray, inputs: dict[str, object]
) -> dict[str, np.ndarray]:
    """Steps 3–4 of the formulas on exact integers (cents, or any one scale)."""
    _check("insured_price", insured > total, inputs["insured_price"], "insured amount exceeds the line total")
    _check("other_sources", nk > total, inputs["other_sources"], "other sources exceed the line total")
    outside0, copay0 = total - insured, insured - fund0
    excess = np.maximum(nk - outside0, 0)
    return {
        "total": total,
        "insured": insured,
        "other_sources": nk,
        "outside": np.maximum(outside0 - nk, 0),
        "copay": np.maximum(copay0 - excess, 0),
        "fund": fund0 - np.maximum(excess - copay0, 0),
    }


_LIMIT = 2**62  # every intermediate product stays below this in the int64 path
_DEFAULTS = {"benefit_rate": 100, "item_rate": 100, "service_rate": 100, "other_sources": 0}


def _half_up(num: np.ndarray, exponent: int) -> np.ndarray:
    """Round non-negative ``num / 10**exponent`` half up (or scale up for a negative exponent)."""
    if exponent <= 0:
        return np.asarray(num * 10 ** (-exponent))
    quotient, remainder = np.divmod(num, 10**exponent)
    return np.asarray(quotient + (2 * remainder >= 10**exponent))


def _split_int64(inputs: dict[str, object], scope: np.ndarray, n: int) -> dict[str, np.ndarray] | None:
    parts: dict[str, tuple[np.ndarray, int]] = {}
    for name, values in inputs.items():
        if values is None:
            parts[name] = (np.full(n, _DEFAULTS[name], np.int64), 0)
            continue
        got = _vector.mantissas(values)
        if got is None:
            return None
        parts[name] = got
    for name, (m, scale) in parts.items():
        _check(name, m < 0, inputs[name], "must not be negative")
        if name.endswith("_rate"):
            _check(name, m > 100 * 10**scale, inputs[name], "a percentage must be within 0–100")
    (mq, sq), (mp, sp), (mb, sb) = parts["quantity"], parts["unit_price"], parts["insured_price"]
    (mm, sm), (mi, si), (ms, ss) = parts["benefit_rate"], parts["item_rate"], parts["service_rate"]
    mk, sk = parts["other_sources"]

    def peak(*cols: np.ndarray) -> float:
        out = 1.0
        for c in cols:
            out *= float(c.max(initial=1))
        return out

    if max(peak(mq, mp, ms), peak(mq, mb, mi, ms), peak(mk) * 100) >= _LIMIT:
        return None
    total = _half_up(mq * mp * ms, sq + sp + ss)  # cents = q·p·sr/100 × 100
    insured = np.where(scope, _half_up(mq * mb * mi * ms, sq + sb + si + ss + 2), 0)
    if peak(insured, mm) >= _LIMIT:
        return None
    fund0 = _half_up(insured * mm, sm + 2)
    return _allocate(total, insured, fund0, _half_up(mk, sk - 2), inputs)


def _split_decimal(inputs: dict[str, object], scope: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """The same formulas in Arrow decimal256, for magnitudes beyond int64; results as Python ints
    of cents, so both paths share one allocation step."""

    def col(name: str, type_: pa.DataType) -> pa.Array:
        values = inputs[name]
        return _vector.decimals(values if values is not None else pa.repeat(_DEFAULTS[name], n), type_)

    q, p, pbh = (
        col("quantity", _vector.QUANTITY),
        col("unit_price", _vector.PRICE),
        col("insured_price", _vector.PRICE),
    )
    rates = {k: col(k, _vector.PERCENT) for k in ("benefit_rate", "item_rate", "service_rate")}
    for name, c in (("quantity", q), ("unit_price", p), ("insured_price", pbh), *rates.items()):
        _check(name, np.asarray(pc.less(c, ZERO)), inputs[name], "must not be negative")
    for name, c in rates.items():
        _check(name, np.asarray(pc.greater(c, HUNDRED)), inputs[name], "a percentage must be within 0–100")
    mh, ir, sr = (pc.multiply(rates[k], pa.scalar(CENT, pa.decimal256(3, 2))) for k in rates)

    def cents(x: pa.Array) -> np.ndarray:
        rounded = pc.round(x, ndigits=2, round_mode="half_up")
        return np.array([int(v.scaleb(2)) for v in rounded.to_pylist()], dtype=object)

    total = cents(pc.multiply(pc.multiply(q, p), sr))
    insured = np.where(scope, cents(pc.multiply(pc.multiply(pc.multiply(q, pbh), ir), sr)), 0)
    fund0 = cents(pc.multiply(pa.array([Decimal(int(v)).scaleb(-2) for v in insured], _vector.MONEY), mh))
    nk = cents(col("other_sources", _vector.MONEY))
    _check("other_sources", nk < 0, inputs["other_sources"], "must not be negative")
    return _allocate(total, insured, fund0, nk, inputs)


def _cents(values: np.ndarray) -> pa.Array:
    """Integer cents (int64 or Python ints) as a decimal128(38, 2) column."""
    if values.dtype == object:
        return pa.array([Decimal(int(v)).scaleb(-2) for v in values], pa.decimal128(38, 2))
    return _vector.decimal_from_int64(values, 2)


# A whole visit: item rates and scope by the card, then MUC_HUONG, then the split of every line.

SUPPLY_GROUPS = frozenset({"10", "11"})  # MA_NHOM of medical supplies (QĐ 5937 Phụ lục 3)


@dataclass(frozen=True)
class Line:
    """One claim line as the visit pricing needs it."""

    cost_group: str  # MA_NHOM
    quantity: Decimal
    unit_price: Decimal
    insured_price: Decimal | None = None  # DON_GIA_BH; the facility price when None (XML2)
    scope: str = "1"  # PHAM_VI: 1 in scope, 2 outside, 3 outside the list but paid for army/police
    listed_item_rate: Decimal = HUNDRED  # TYLE_TT_BH as the Ministry's list sets it
    service_rate: Decimal = HUNDRED  # TYLE_TT_DV
    other_sources: Decimal = ZERO
    supply_package: str | None = None  # GOI_VTYT, e.g. "G1"
    label: str = ""


@dataclass(frozen=True)
class PricedVisit:
    rate: BenefitRate
    lines: tuple[LineAmounts, ...]
    totals: LineAmounts
    steps: tuple[Step, ...] = field(default=())


def item_rate(params: ParameterSet, line: Line, benefit_digit: str, visit: Visit) -> Decimal:
    """The item rate to apply: the listed percentage for a percentage-paid group, except for the
    benefit levels exempt from those limits; 100 otherwise."""
    at = visit.date
    if line.cost_group not in params.code_list("items.percentage_paid_groups", at):
        return HUNDRED
    if benefit_digit in params.code_list("benefit.levels_without_item_limits", at):
        return HUNDRED
    return line.listed_item_rate


def item_rates(
    params: ParameterSet, *, cost_groups: object, listed_rates: object, benefit_digits: object, dates: object
) -> pa.Array:
    """Vectorised :func:`item_rate`: the listed rate for percentage-paid groups, except for the
    exempt benefit levels; 100 otherwise (int64 percents)."""
    groups, digits = _vector.objects(cost_groups), _vector.objects(benefit_digits)
    listed = _vector.mantissas(listed_rates)
    if listed is None or listed[1] != 0:
        raise PolicyInputError("listed_rates", None, "listed item rates must be whole percentages")
    out = np.full(groups.size, 100, np.int64)
    names = ("items.percentage_paid_groups", "benefit.levels_without_item_limits")
    for at, rows in _vector.by_epoch(params, names, _vector.as_days(dates, groups.size)):
        limited = np.isin(groups[rows], params.code_list(names[0], at)) & ~np.isin(
            digits[rows], params.code_list(names[1], at)
        )
        out[rows] = np.where(limited, listed[0][rows], 100)
    return pa.array(out, pa.int64())


def in_scope_flags(params: ParameterSet, *, scopes: object, benefit_digits: object, dates: object) -> np.ndarray:
    """Vectorised :func:`in_scope`: PHAM_VI 1 in scope, 2 outside, 3 in scope only for the benefit
    levels paid outside the list (army, police, cipher)."""
    scope, digits = _vector.objects(scopes), _vector.objects(benefit_digits)
    bad = ~np.isin(scope, ["1", "2", "3"])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise PolicyInputError("scope", scope[i], f"row {i}: PHAM_VI must be 1, 2 or 3")
    out = scope == "1"
    name = "benefit.levels_paying_outside_scope"
    for at, rows in _vector.by_epoch(params, (name,), _vector.as_days(dates, scope.size)):
        out[rows] |= (scope[rows] == "3") & np.isin(digits[rows], params.code_list(name, at))
    return np.asarray(out, bool)


def in_scope(params: ParameterSet, line: Line, visit: Visit) -> bool:
    if line.scope not in ("1", "2", "3"):
        raise PolicyInputError("scope", line.scope, "PHAM_VI must be 1, 2 or 3")
    if line.scope == "3":
        return visit.benefit_digit in params.code_list("benefit.levels_paying_outside_scope", visit.date)
    return line.scope == "1"


def supply_package_ceiling(params: ParameterSet, visit: Visit) -> Decimal:
    """Fund ceiling for the supplies of one service performance: months × reference × card level."""
    at = visit.date
    level = params.percent_by_code("benefit.level_rate", at)[visit.benefit_digit]
    months = params.integer("items.supply_package_ceiling_months", at)
    return money(months * params.money("general.reference_amount", at) * level / HUNDRED)


def price_visit(params: ParameterSet, visit: Visit, lines: Sequence[Line]) -> PricedVisit:
    """Price a visit: the in-scope total of its lines decides MUC_HUONG, which splits every line;
    supplies of one package (GOI_VTYT) beyond the ceiling move from the fund to the patient.
    ``visit.in_scope_total`` is ignored and recomputed from the lines."""
    rates = [item_rate(params, ln, visit.benefit_digit, visit) for ln in lines]
    scopes = [in_scope(params, ln, visit) for ln in lines]
    insured_total = sum(
        (
            money(
                ln.quantity
                * (ln.insured_price if ln.insured_price is not None else ln.unit_price)
                * r
                / HUNDRED
                * ln.service_rate
                / HUNDRED
            )
            if s
            else ZERO
            for ln, r, s in zip(lines, rates, scopes, strict=True)
        ),
        ZERO,
    )
    visit = Visit(**{**visit.__dict__, "in_scope_total": insured_total})
    rate = benefit_rate(params, visit)
    amounts = [
        split_line(
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            insured_price=ln.insured_price if ln.insured_price is not None else ln.unit_price,
            benefit_rate=rate.rate,
            item_rate=r,
            service_rate=ln.service_rate,
            in_scope=s,
            other_sources=ln.other_sources,
        )
        for ln, r, s in zip(lines, rates, scopes, strict=True)
    ]
    steps = list(rate.steps)
    packages = sorted({ln.supply_package for ln in lines if ln.supply_package and ln.cost_group in SUPPLY_GROUPS})
    for package in packages:
        ceiling = supply_package_ceiling(params, visit)
        idx = [i for i, ln in enumerate(lines) if ln.supply_package == package and ln.cost_group in SUPPLY_GROUPS]
        over = sum((amounts[i].fund for i in idx), ZERO) - ceiling
        steps.append(
            Step(
                f"supply package {package}: fund ceiling {ceiling:,}",
                "items.supply_package_ceiling_months",
                params.entry("items.supply_package_ceiling_months", visit.date),
            )
        )
        for i in reversed(idx):  # take the excess back from the last lines first
            if over <= 0:
                break
            cut = min(over, amounts[i].fund)
            a = amounts[i]
            amounts[i] = LineAmounts(a.total, a.insured, a.other_sources, a.outside, a.copay + cut, a.fund - cut)
            over -= cut
    totals = LineAmounts(*(sum((getattr(a, f) for a in amounts), ZERO) for f in LineAmounts.__dataclass_fields__))
    return PricedVisit(rate, tuple(amounts), totals, tuple(steps))
