"""Contributions due from each paying unit for a month, from the participations in force in it.

Pure (Arrow in, Arrow out), so the registry's collection report and the synthetic nation's payments
use one computation. A paying unit (an employer, the household, the state budget for a province, the
social insurance fund, …) pays the whole contribution of the people on its list: an employer
withholds the employee's share, so what it owes is the total.

A participation counts for a month when it is in force on any day of it; a person listed twice in
a month (a change of group within it) counts once, under the participation begun last. Household
members insured through the household take their place in the reduction schedule by their position
in the household. A participation whose funding needs an income (salary, pension) and has none is
not priced: it is counted as ``unpriced`` under its unit, for the record to be completed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bhyt.policy.contribution import Funding, monthly_contributions
from bhyt.policy.params import ParameterSet

COLUMNS = ("person_id", "group", "payer", "funding", "province", "valid_from", "valid_to", "income", "household_id",
           "household_position")  # fmt: skip
AMOUNTS = ("total", "employer", "person", "state", "social_insurance")
NEEDS_INCOME = (Funding.EMPLOYER.value, Funding.BHXH.value)


def payer_of(funding: str, group: str, province: str, household_id: int | None, employer: str | None = None) -> str:
    """The paying unit a participation is listed under (lists and payments are per unit)."""
    if funding == Funding.HOUSEHOLD:
        return f"household:{household_id}"
    if funding == Funding.EMPLOYER:
        return f"employer:{employer}" if employer else f"employer:{province}:{group}"  # no register entry
    return f"{funding}:{province}"


def participation_terms(
    params: ParameterSet, group: str, start: date, province: str, household_id: int | None, employer: str | None = None
) -> dict[str, Any]:
    """Who pays for a participation in ``group`` from ``start``, and the state's subsidy share."""
    funding = params.code_by_code("contribution.funding_by_group", start).get(group, "unknown")
    share = params.percent_by_code("contribution.state_subsidy_share", start)
    subsidy = {"state": 100, "subsidised": int(share.get(group, 0))}.get(funding, 0)
    return {"funding": funding, "payer": payer_of(funding, group, province, household_id, employer),
            "subsidy_percent": subsidy}  # fmt: skip


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_end(month: date, later: int = 0) -> date:
    """The last day of the month ``later`` months after ``month``'s (a payment deadline)."""
    m = month.replace(day=1)
    for _ in range(later + 1):
        m = next_month(m)
    return m - timedelta(days=1)


def in_force(parts: pa.Table, month: date) -> pa.Table:
    """The participations in force on some day of ``month``, one per person (the one begun last)."""
    first, nxt = month.replace(day=1), next_month(month)
    t = parts.select(list(COLUMNS))
    keep = pc.and_(
        pc.less(t["valid_from"], pa.scalar(nxt, pa.date32())),
        pc.or_kleene(pc.is_null(t["valid_to"]), pc.greater_equal(t["valid_to"], pa.scalar(first, pa.date32()))),
    )
    t = t.filter(keep)
    if t.num_rows == 0:
        return t
    order = np.lexsort((t["valid_from"].to_numpy(zero_copy_only=False), t["person_id"].to_numpy()))
    person = t["person_id"].to_numpy()[order]
    last = np.r_[person[1:] != person[:-1], True]
    return t.take(pa.array(order[last]))


def household_positions(t: pa.Table) -> np.ndarray:
    """Each household-funded member's place (1, 2, …) among those of their household in the month;
    0 for everyone else."""
    n = t.num_rows
    out = np.zeros(n, np.int64)
    mine = np.flatnonzero(t["funding"].to_numpy(zero_copy_only=False) == Funding.HOUSEHOLD.value)
    if mine.size == 0:
        return out
    # Someone with no household on record is a household of one: each gets place 1.
    household = pc.fill_null(t["household_id"], -1).to_numpy()[mine]
    household = np.where(household < 0, -1 - t["person_id"].to_numpy()[mine], household)
    position = pc.fill_null(t["household_position"], 0).to_numpy()[mine]
    order = np.lexsort((t["person_id"].to_numpy()[mine], position, household))
    h = household[order]
    start = np.r_[True, h[1:] != h[:-1]]
    run = np.arange(h.size) - np.maximum.accumulate(np.where(start, np.arange(h.size), 0))
    out[mine[order]] = run + 1
    return out


def dues_by_payer(params: ParameterSet, parts: pa.Table, month: date) -> pa.Table:
    """Per paying unit: ``payer``, ``funding``, ``province`` (its people's, the first), ``people``,
    ``unpriced`` and the amounts due for ``month`` (``total`` and its split by who bears it), in đồng."""
    first = month.replace(day=1)
    t = in_force(parts, first)
    schema = pa.schema([("payer", pa.string()), ("funding", pa.string()), ("province", pa.string()),
                        ("people", pa.int64()), ("unpriced", pa.int64()),
                        *((k, pa.int64()) for k in AMOUNTS)])  # fmt: skip
    if t.num_rows == 0:
        return schema.empty_table()
    funding = t["funding"].to_numpy(zero_copy_only=False)
    income = t["income"]
    unpriced = np.isin(funding, NEEDS_INCOME) & pc.is_null(income).to_numpy(zero_copy_only=False)
    unpriced |= ~np.isin(funding, [f.value for f in Funding])
    priced = t.filter(pa.array(~unpriced))
    amounts = monthly_contributions(params, groups=priced["group"], months=[first] * priced.num_rows,
                                    incomes=priced["income"],
                                    household_positions=household_positions(priced))  # fmt: skip
    rows = priced.select(["payer", "funding", "province"]).append_column("people", pa.array(np.ones(priced.num_rows,
                                                                                             np.int64)))  # fmt: skip
    rows = rows.append_column("unpriced", pa.array(np.zeros(priced.num_rows, np.int64)))
    for k in AMOUNTS:
        rows = rows.append_column(k, amounts[k])
    gaps = t.filter(pa.array(unpriced)).select(["payer", "funding", "province"])
    gaps = gaps.append_column("people", pa.array(np.ones(gaps.num_rows, np.int64)))
    gaps = gaps.append_column("unpriced", pa.array(np.ones(gaps.num_rows, np.int64)))
    for k in AMOUNTS:
        gaps = gaps.append_column(k, pa.array(np.zeros(gaps.num_rows, np.int64)))
    both = pa.concat_tables([rows.cast(schema), gaps.cast(schema)])
    grouped = both.group_by("payer").aggregate(
        [
            ("funding", "min"),
            ("province", "min"),
            ("people", "sum"),
            ("unpriced", "sum"),
            *((k, "sum") for k in AMOUNTS),
        ]
    )
    grouped = grouped.rename_columns([c.removesuffix("_min").removesuffix("_sum") for c in grouped.column_names])
    return grouped.select(schema.names).cast(schema).sort_by("payer")
