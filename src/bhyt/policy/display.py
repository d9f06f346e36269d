"""How parameter values read to a person: one line each, never a Python repr."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction

from bhyt.policy.benefit import copay_exemption_threshold, small_visit_threshold
from bhyt.policy.params import Parameter, ParameterSet, RouteRate, Value


def amount(value: Decimal | int) -> str:
    """An amount in đồng with thousands separators; decimals only when there are any."""
    d = Decimal(value)
    return f"{d:,.2f}" if d != d.to_integral_value() else f"{int(d):,}"


def percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _rate(r: Decimal | None) -> str:
    return "n/a" if r is None else percent(r)


def format_value(value: Value | Mapping[str, object]) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return amount(value)
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, tuple):
        return ", ".join(percent(v) if isinstance(v, Decimal) else str(v) for v in value)
    assert isinstance(value, Mapping)
    parts = []
    for k, v in value.items():
        if isinstance(v, RouteRate):
            parts.append(f"{k}: in {_rate(v.inpatient)} / out {_rate(v.outpatient)}")
        elif isinstance(v, Decimal):
            parts.append(f"{k}: {percent(v)}")
        else:
            parts.append(f"{k}: {v}")
    return "; ".join(parts)


# Amounts derived from a parameter, shown beside it so nobody has to multiply by hand.
DERIVED: dict[str, Callable[[ParameterSet, date], Decimal | int]] = {
    "benefit.small_visit_threshold": small_visit_threshold,
    "benefit.copay_exemption_threshold_months": copay_exemption_threshold,
    "items.supply_package_ceiling_months": lambda p, at: (
        p.integer("items.supply_package_ceiling_months", at) * p.money("general.reference_amount", at)
    ),
}


def describe(params: ParameterSet, p: Parameter, at: date) -> str:
    """The value of ``p`` on ``at`` as shown by ``policy show``, with a derived amount if any."""
    entry = p.entry_at(at)
    text = format_value(entry.value)
    if p.kind == "percent":
        text += "%"
    if p.name in DERIVED:
        text += f" (= {amount(DERIVED[p.name](params, at))} VND)"
    return text
