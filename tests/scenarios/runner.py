"""Runs the worked-example scenario files (``tests/scenarios/*.yaml``) through the policy core.

Each file is a list of cases::

    - name: small visit below 15% of 2,530,000 is paid in full
      kind: rate            # rate | visit | line | contribution | card | citizen_id | parameter | …
      input: {date: 2026-07-01, ...}
      expect: {rate: 100}   # or {error: "text the error message contains"}

Only the keys under ``expect`` are compared; amounts compare as exact decimals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from bhyt.errors import BhytError
from bhyt.policy.benefit import (
    FacilityLevel,
    Visit,
    benefit_rate,
    copay_exemption_applies,
    copay_exemption_threshold,
    five_year_date,
    small_visit_threshold,
)
from bhyt.policy.card import check_card
from bhyt.policy.citizen_id import check_citizen_id
from bhyt.policy.contribution import contribution
from bhyt.policy.display import format_value
from bhyt.policy.params import Entry, Kind, ParameterSet, Value
from bhyt.policy.split import Line, price_visit, split_line, supply_package_ceiling
from bhyt.registry.dues import month_end
from bhyt.registry.lifecycle import Current, check_change_window, continuity


class RecordingParameters(ParameterSet):
    """A parameter set that remembers which parameter was read on which date."""

    def __init__(self, base: ParameterSet) -> None:
        super().__init__(base.parameter(n) for n in base.names())
        self.reads: set[tuple[str, date]] = set()

    def entry(self, name: str, at: date) -> Entry:
        self.reads.add((name, at))
        return super().entry(name, at)

    def _typed(self, name: str, at: date, kind: Kind) -> Value:
        self.reads.add((name, at))
        return super()._typed(name, at, kind)


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _visit(i: dict[str, Any], total: Any = 0) -> Visit:
    return Visit(
        benefit_digit=str(i["benefit_digit"]),
        visit_type=str(i.get("visit_type", "01")),
        route_code=str(i.get("route", "1.1")),
        facility_level=FacilityLevel(i.get("level", "basic")),
        date=_day(i["date"]),
        in_scope_total=_d(i.get("in_scope", total)),
        copay_exempt=bool(i.get("exempt", False)),
        living_area=i.get("living_area"),
    )


def run_rate(p: ParameterSet, i: dict[str, Any]) -> dict[str, Any]:
    r = benefit_rate(p, _visit(i))
    return {
        "rate": r.rate,
        "level_rate": r.level_rate,
        "route_rate": r.route_rate,
        "reasons": list(r.reasons),
    }


def run_visit(p: ParameterSet, i: dict[str, Any]) -> dict[str, Any]:
    lines = [
        Line(
            cost_group=str(ln["group"]),
            quantity=_d(ln["quantity"]),
            unit_price=_d(ln["price"]),
            insured_price=_d(ln["insured_price"]) if "insured_price" in ln else None,
            scope=str(ln.get("scope", "1")),
            listed_item_rate=_d(ln.get("item_rate", 100)),
            service_rate=_d(ln.get("service_rate", 100)),
            other_sources=_d(ln.get("other_sources", 0)),
            supply_package=ln.get("package"),
        )
        for ln in i["lines"]
    ]
    priced = price_visit(p, _visit(i), lines)
    t = priced.totals
    return {
        "rate": priced.rate.rate,
        "total": t.total,
        "insured": t.insured,
        "outside": t.outside,
        "copay": t.copay,
        "fund": t.fund,
        "reasons": list(priced.rate.reasons),
    }


def run_line(p: ParameterSet, i: dict[str, Any]) -> dict[str, Any]:
    a = split_line(
        quantity=_d(i["quantity"]),
        unit_price=_d(i["price"]),
        insured_price=_d(i.get("insured_price", i["price"])),
        benefit_rate=_d(i["benefit_rate"]),
        item_rate=_d(i.get("item_rate", 100)),
        service_rate=_d(i.get("service_rate", 100)),
        in_scope=bool(i.get("in_scope", True)),
        other_sources=_d(i.get("other_sources", 0)),
    )
    return dict(a.__dict__)


def run_contribution(p: ParameterSet, i: dict[str, Any]) -> dict[str, Any]:
    c = contribution(
        p,
        group=str(i["group"]),
        start=_day(i["date"]),
        months=int(i.get("months", 1)),
        income=i.get("income"),
        household_position=i.get("position"),
        subsidy_key=i.get("subsidy_key"),
        local_top_up=_d(i.get("local_top_up", 0)),
    )
    return dict(c.__dict__)


def run_card(p: ParameterSet, i: dict[str, Any]) -> dict[str, Any]:
    c = check_card(str(i["number"]), p, _day(i["date"]), i.get("registered"))
    return {
        "error": c.error,
        "valid": c.valid,
        "group": c.group,
        "benefit_digit": c.benefit_digit,
        "province": c.province,
        "unusual_benefit": c.unusual_benefit,
        "temporary": c.temporary,
        "portal_code": c.portal_code,
    }


def run_citizen_id(p: ParameterSet, i: dict[str, Any]) -> dict[str, Any]:
    c = check_citizen_id(
        str(i["number"]),
        p,
        _day(i["date"]),
        _day(i["birth_date"]) if "birth_date" in i else None,
        i.get("sex"),
    )
    return {
        "error": c.error,
        "valid": c.valid,
        "birth_year": c.birth_year,
        "sex": c.sex,
        "province": c.province,
    }


def run_thresholds(p: ParameterSet, i: dict[str, Any]) -> dict[str, Any]:
    at = _day(i["date"])
    return {
        "small_visit": small_visit_threshold(p, at),
        "copay_exemption": copay_exemption_threshold(p, at),
        "supply_ceiling": supply_package_ceiling(p, _visit({"route": "1.1", **i})),
    }


def run_exemption(p: ParameterSet, i: dict[str, Any]) -> dict[str, Any]:
    at = _day(i["date"])
    five = _day(i["five_year_date"]) if "five_year_date" in i else five_year_date(p, _day(i["since"]), at)
    return {
        "five_year_date": five.isoformat(),
        "applies": copay_exemption_applies(p, at, five, _d(i["copay"])),
    }


def run_parameter(p: ParameterSet, i: dict[str, Any]) -> dict[str, Any]:
    e = p.entry(str(i["name"]), _day(i["date"]))
    return {"value": format_value(e.value), "status": e.status.value}


def run_facility_change(p: ParameterSet, i: dict[str, Any]) -> dict[str, Any]:
    check_change_window(p, _day(i["date"]))
    return {"allowed": True}


def run_continuity(p: ParameterSet, i: dict[str, Any]) -> dict[str, Any]:
    before = [Current(1, 1, "GD4010000000001", "GD", "4", _day(i["previous_from"]), _day(i["previous_to"]), "01001",
                      _day(i["since"]), None, None)]  # fmt: skip
    since, five = continuity(p, before, _day(i["start"]))
    return {"since": since.isoformat(), "five_year_date": five.isoformat()}


def run_deadline(p: ParameterSet, i: dict[str, Any]) -> dict[str, Any]:
    month = _day(i["month"])
    return {"deadline": month_end(month, p.integer("contribution.payment_deadline_months", month)).isoformat()}


RUNNERS: dict[str, Callable[[ParameterSet, dict[str, Any]], dict[str, Any]]] = {
    "facility_change": run_facility_change,
    "continuity": run_continuity,
    "deadline": run_deadline,
    "rate": run_rate,
    "visit": run_visit,
    "line": run_line,
    "contribution": run_contribution,
    "card": run_card,
    "citizen_id": run_citizen_id,
    "parameter": run_parameter,
    "thresholds": run_thresholds,
    "exemption": run_exemption,
}


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(actual, Decimal) or (isinstance(actual, int) and not isinstance(actual, bool)):
        return not isinstance(expected, bool) and _d(expected) == _d(actual)
    return bool(expected == actual)


def check(params: ParameterSet, case: dict[str, Any]) -> list[str]:
    """Run one case; the list of mismatches (empty when it passes)."""
    expect: dict[str, Any] = case["expect"]
    try:
        actual = RUNNERS[case["kind"]](params, case["input"])
    except BhytError as exc:
        if "error" in expect and str(expect["error"]).lower() in str(exc).lower():
            return []
        return [f"raised {type(exc).__name__}: {exc}"]
    if "error" in expect and case["kind"] not in ("card", "citizen_id"):
        return [f"expected an error containing {expect['error']!r}, got {actual}"]
    return [
        f"{key}: expected {want!r}, got {actual.get(key, '<missing>')!r}"
        for key, want in expect.items()
        if not _same(want, actual.get(key))
    ]
