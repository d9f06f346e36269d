"""Prices and amounts: each facility's approved price list, and every line split by the policy core.

The amounts are not invented here: the in-scope total of a claim decides its benefit rate
(``policy.benefit.benefit_rates``) and each line is split by ``policy.split.split_lines``, exactly
as the assessment will recompute them.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from bhyt.policy._vector import decimal_from_int64
from bhyt.policy.benefit import benefit_rates, copay_exemption_threshold
from bhyt.policy.params import ParameterSet
from bhyt.policy.split import SUPPLY_GROUPS, in_scope_flags, item_rates, split_cents
from bhyt.synth import reference as ref
from bhyt.synth.episodes import LEVEL_RANK
from bhyt.synth.nation import Facilities, Frame


@cache
def item_arrays() -> dict[str, npt.NDArray[np.generic]]:
    """The catalogue as arrays indexed like ``Lines.item``."""
    cat = ref.catalogue().items
    items = list(cat.values())
    return {
        "code": np.array([it.code for it in items], dtype=object),
        "name": np.array([it.name for it in items], dtype=object),
        "table": np.array([it.table for it in items], dtype=object),
        "group": np.array([it.group for it in items], dtype=object),
        "unit": np.array([it.unit for it in items], dtype=object),
        "price": np.array([it.price for it in items], np.int64),
        "route": np.array([it.route for it in items], dtype=object),
        "item_rate": np.array([it.item_rate for it in items], np.int64),
        "min_level": np.array([it.min_level for it in items], dtype=object),
        "kind": np.array([it.key.split(".")[0] for it in items], dtype=object),
        "key": np.array([it.key for it in items], dtype=object),
        "scope": np.array([it.scope for it in items], dtype=object),
        "sex": np.array([it.sex for it in items], dtype=object),
        "min_age": np.array([it.min_age for it in items], np.int64),
        "max_age": np.array([it.max_age for it in items], np.int64),
        "part_of": np.array([cat[it.part_of].code if it.part_of else None for it in items], dtype=object),
    }


def approved_prices(
    facilities: Facilities, item_rows: npt.NDArray[np.intp], facility_rows: npt.NDArray[np.intp]
) -> npt.NDArray[np.int64]:
    """The approved (BHYT) unit price of items at facilities: services, exams and beds scale with
    the facility's level and are rounded to 100 đồng; drugs and supplies are tender prices."""
    it = item_arrays()
    factor_by_level = ref.catalogue().price_factor
    level = facilities.frame["level"][facility_rows]
    level_factor = np.array([factor_by_level[x] for x in level])
    factor = facilities.frame["factor"][facility_rows].astype(np.float64)
    base = it["price"][item_rows].astype(np.float64)
    tender = np.isin(it["kind"][item_rows], ["drug", "sup"])
    service = np.round(base * level_factor * factor, -2)
    return np.where(tender, np.round(base * factor), service).astype(np.int64)


def price_list(facilities: Facilities) -> pa.Table:
    """Every facility's approved prices for the items its level may bill."""
    it = item_arrays()
    f_rows, i_rows = [], []
    for f, level in enumerate(facilities.frame["level"]):
        ok = np.flatnonzero(np.array([LEVEL_RANK[m] <= LEVEL_RANK[level] for m in it["min_level"]]))
        f_rows.append(np.full(ok.size, f))
        i_rows.append(ok)
    fr, ir = np.concatenate(f_rows), np.concatenate(i_rows)
    return pa.table(
        {
            "facility": pa.array(facilities.frame["code"][fr], pa.string()),
            "item_code": pa.array(it["code"][ir], pa.string()),
            "table": pa.array(it["table"][ir], pa.string()),
            "cost_group": pa.array(it["group"][ir], pa.string()),
            "name": pa.array(it["name"][ir], pa.string()),
            "price": pa.array(approved_prices(facilities, ir, fr), pa.int64()),
        }
    )


def compute_amounts(params: ParameterSet, claims: Frame, lines: Frame, cards: Frame, facilities: Facilities) -> None:
    """Fill prices, rates and amounts on ``lines`` and totals and MUC_HUONG on ``claims``, in place.
    ``lines["unit_price"]`` may be set beforehand (a price above the list); otherwise the list price."""
    it = item_arrays()
    claim = lines["claim"]
    f_row = claims["facility_row"][claim]
    approved = approved_prices(facilities, lines["item"], f_row)
    lines["approved_price"] = approved
    # -1: bill at the list price; -2: an abusive price 35% above it (synth.abuse.price_above_list).
    marked = lines.get("unit_price", np.full(claim.size, -1, np.int64))
    above = np.round(approved * 1.35, -2).astype(np.int64)
    lines["unit_price"] = np.where(marked == -2, above, np.where(marked < 0, approved, marked))
    digit = cards["benefit_digit"][claims["card_row"]]
    dates = claims["admitted"].astype("datetime64[D]")
    lines["item_rate"] = np.asarray(
        item_rates(
            params,
            cost_groups=it["group"][lines["item"]],
            listed_rates=it["item_rate"][lines["item"]],
            benefit_digits=digit[claim],
            dates=dates[claim],
        )
    )
    lines["scope"] = it["scope"][lines["item"]]
    scope = in_scope_flags(params, scopes=lines["scope"], benefit_digits=digit[claim], dates=dates[claim])
    quantity = decimal_from_int64(lines["quantity_milli"], 3)
    price_ = pa.array(lines["unit_price"], pa.int64())
    insured_price = price_  # the facility claims its billed price (above the list for the abusive lines)
    first = split_cents(
        quantity=quantity,
        unit_price=price_,
        insured_price=insured_price,
        benefit_rate=np.full(claim.size, 100),
        item_rate=lines["item_rate"],
        service_rate=lines["service_rate"],
        in_scope=scope,
    )
    insured_cents = first["insured"]
    in_scope = np.zeros(claims["person"].size, np.int64)
    np.add.at(in_scope, claim, insured_cents)
    facility_level = facilities.frame["level"][claims["facility_row"]]

    def price(exempt: npt.NDArray[np.bool_], only: npt.NDArray[np.intp] | None = None
              ) -> tuple[pa.Array, dict[str, np.ndarray]]:  # fmt: skip
        """MUC_HUONG of every claim, and the split of the lines ``only`` (default: all)."""
        rates = benefit_rates(
            params,
            benefit_digit=digit,
            visit_type=claims["visit_type"],
            route_code=claims["route"],
            facility_level=facility_level,
            dates=dates,
            in_scope_total=decimal_from_int64(in_scope, 2),
            copay_exempt=exempt,
            living_area=cards["living_area"][claims["card_row"]],
        )
        rate = rates["rate"].cast(pa.decimal128(12, 4))  # MUC_HUONG has at most 4 characters
        sel = pa.array(np.arange(claim.size) if only is None else only)
        amounts = split_cents(
            quantity=quantity.take(sel),
            unit_price=price_.take(sel),
            insured_price=insured_price.take(sel),
            benefit_rate=rate.take(pa.array(claim[np.asarray(sel)])),
            item_rate=lines["item_rate"][np.asarray(sel)],
            service_rate=lines["service_rate"][np.asarray(sel)],
            in_scope=scope[np.asarray(sel)],
        )
        return rate, amounts

    rate, amounts = price(np.zeros(claims["person"].size, bool))
    copay = np.zeros(claims["person"].size, np.int64)
    np.add.at(copay, claim, np.asarray(amounts["copay"], np.int64))
    exempt = exempt_claims(params, claims, cards, copay, dates)
    if exempt.any():  # the 5-year exemption reached during the year: later visits are priced again
        again = np.flatnonzero(exempt[claim])
        rate, patch = price(exempt, again)
        for name in amounts:
            amounts[name] = np.asarray(amounts[name], np.int64).copy()
            amounts[name][again] = np.asarray(patch[name], np.int64)
    claims["benefit_rate"] = rate
    claims["copay_exempt"] = exempt
    # NGAY_MIEN_CCT: the day the exemption started for the person, on each of their exempt claims.
    start = np.full(claims["person"].size, np.datetime64("NaT"), "datetime64[D]")
    rows = np.flatnonzero(exempt)
    if rows.size:
        first_day: dict[int, np.datetime64] = {}
        for r in rows[np.argsort(dates[rows], kind="stable")]:
            first_day.setdefault(int(claims["person"][r]), dates[r])
        start[rows] = [first_day[int(claims["person"][r])] for r in rows]
    claims["copay_exempt_from"] = start
    for name in ("total", "insured", "outside", "copay", "fund", "other_sources"):
        lines[name] = np.asarray(amounts[name], np.int64)
        total = np.zeros(claims["person"].size, np.int64)
        np.add.at(total, claim, lines[name])
        claims[name] = total
    drug = it["table"][lines["item"]] == "XML2"
    supply = np.isin(it["group"][lines["item"]], list(SUPPLY_GROUPS))
    for name, mask in (("drug_total", drug), ("supply_total", supply)):
        total = np.zeros(claims["person"].size, np.int64)
        np.add.at(total, claim[mask], lines["total"][mask])
        claims[name] = total


def exempt_claims(params: ParameterSet, claims: Frame, cards: Frame, copay_cents: npt.NDArray[np.int64],
                  dates: npt.NDArray[np.datetime64]) -> npt.NDArray[np.bool_]:  # fmt: skip
    """Claims of people for whom the 5-year co-payment exemption is in force: the 5-year date is
    reached and the co-payment of their earlier visits this year is above the threshold in force
    (policy.benefit.copay_exemption_threshold, read on each visit's date)."""
    n = claims["person"].size
    order = np.lexsort((claims["admitted"], claims["person"]))
    person = claims["person"][order]
    paid = copay_cents[order]
    new_person = np.r_[True, person[1:] != person[:-1]]
    running = np.cumsum(paid)
    start = np.maximum.accumulate(np.where(new_person, np.arange(n), 0))
    before = running - paid - np.where(start > 0, running[start - 1], 0)  # co-payment of earlier visits
    days = dates[order]
    thresholds = {d: copay_exemption_threshold(params, d.astype(date)) * 100 for d in np.unique(days)}
    threshold = np.array([thresholds[d] for d in days], np.int64)
    five = cards["five_year_date"][claims["card_row"]][order]
    reached = ~np.isnat(five) & (five <= days)
    exempt = np.zeros(n, bool)
    exempt[order] = reached & (before > threshold)
    return exempt
