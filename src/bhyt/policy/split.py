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
    insured = (
        money(quantity * insured_price * item_rate / HUNDRED * service_rate / HUNDRED) if in_scope else ZERO
    )
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
    """Vectorised :func:`split_line` over exact decimal columns (Arrow decimal256; floats refused).

    Returns columns ``total``, ``insured``, ``other_sources``, ``outside``, ``copay``, ``fund``."""
    q = _vector.decimals(quantity, _vector.QUANTITY)
    n = len(q)
    p = _vector.decimals(unit_price, _vector.PRICE)
    pbh = _vector.decimals(insured_price, _vector.PRICE)

    def pct(values: object | None, name: str) -> pa.Array:
        col = _vector.decimals(
            values if values is not None else pa.repeat(pa.scalar(HUNDRED), n), _vector.PRICE
        )
        bad = pc.or_(pc.less(col, ZERO), pc.greater(col, HUNDRED))
        if pc.any(bad).as_py():
            i = pc.index(bad, True).as_py()
            raise PolicyInputError(name, col[i].as_py(), f"row {i}: a percentage must be within 0–100")
        return pc.cast(pc.divide(col, pa.scalar(HUNDRED, pa.decimal256(3, 0))), _vector.RATE, safe=False)

    mh, ir, sr = (
        pct(benefit_rate, "benefit_rate"),
        pct(item_rate, "item_rate"),
        pct(service_rate, "service_rate"),
    )
    scope = pa.array([True] * n) if in_scope is None else pa.array(in_scope, pa.bool_())
    nk = _vector.decimals(
        other_sources if other_sources is not None else pa.repeat(pa.scalar(ZERO), n), _vector.MONEY
    )
    nk = _round(nk)
    for name, col in (("quantity", q), ("unit_price", p), ("insured_price", pbh), ("other_sources", nk)):
        neg = pc.less(col, ZERO)
        if pc.any(neg).as_py():
            i = pc.index(neg, True).as_py()
            raise PolicyInputError(name, col[i].as_py(), f"row {i}: must not be negative")

    total = _round(pc.multiply(pc.multiply(q, p), sr))
    insured = _round(pc.multiply(pc.multiply(pc.multiply(q, pbh), ir), sr))
    insured = pc.if_else(scope, insured, pa.scalar(ZERO, _vector.MONEY))
    for name, col, message in (
        ("insured_price", pbh, "insured amount exceeds the line total"),
        ("other_sources", nk, "other sources exceed the line total"),
    ):
        over = pc.greater(insured if name == "insured_price" else nk, total)
        if pc.any(over).as_py():
            i = pc.index(over, True).as_py()
            raise PolicyInputError(name, col[i].as_py(), f"row {i}: {message}")
    fund0 = _round(pc.multiply(insured, mh))
    copay0 = _money(pc.subtract(insured, fund0))
    outside0 = _money(pc.subtract(total, insured))
    zero = pa.scalar(ZERO, _vector.MONEY)
    outside = pc.max_element_wise(_money(pc.subtract(outside0, nk)), zero)
    excess = pc.max_element_wise(_money(pc.subtract(nk, outside0)), zero)
    copay = pc.max_element_wise(_money(pc.subtract(copay0, excess)), zero)
    fund = _money(pc.subtract(fund0, pc.max_element_wise(_money(pc.subtract(excess, copay0)), zero)))
    return pa.table(
        {
            "total": total,
            "insured": insured,
            "other_sources": nk,
            "outside": outside,
            "copay": copay,
            "fund": fund,
        }
    )


def _round(col: pa.Array) -> pa.Array:
    return _money(pc.round(col, ndigits=2, round_mode="half_up"))


def _money(col: pa.Array) -> pa.Array:
    return pc.cast(col, _vector.MONEY)


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
    packages = sorted(
        {ln.supply_package for ln in lines if ln.supply_package and ln.cost_group in SUPPLY_GROUPS}
    )
    for package in packages:
        ceiling = supply_package_ceiling(params, visit)
        idx = [
            i for i, ln in enumerate(lines) if ln.supply_package == package and ln.cost_group in SUPPLY_GROUPS
        ]
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
            amounts[i] = LineAmounts(
                a.total, a.insured, a.other_sources, a.outside, a.copay + cut, a.fund - cut
            )
            over -= cut
    totals = LineAmounts(
        *(sum((getattr(a, f) for a in amounts), ZERO) for f in LineAmounts.__dataclass_fields__)
    )
    return PricedVisit(rate, tuple(amounts), totals, tuple(steps))
