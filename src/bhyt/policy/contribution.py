"""Contributions: what a person or household owes the fund for a period, and who pays it.

The group code decides the funding (parameter ``contribution.funding_by_group``):

- ``employer``: 4.5% of the monthly salary (capped at 20 × base salary), the employer 2/3, the
  employee 1/3;
- ``bhxh``: 4.5% of the pension or benefit, paid by the social insurance fund;
- ``state``: 4.5% of the base salary, paid by the state budget;
- ``subsidised``: 4.5% of the base salary, the state pays its share (at least 70% for the near-poor,
  50% for pupils and students from 2025-07-01, …, plus any provincial top-up), the person the rest;
- ``household``: 4.5% of the base salary for the first member, then 70%, 60%, 50% and 40% of that.

Amounts are whole đồng, rounded half up per month; a period is the sum of its months, each at the
parameters in force on its first day (a base-salary change mid-period is honoured month by month).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

import numpy as np
import pyarrow as pa

from bhyt.errors import PolicyInputError
from bhyt.policy import _vector
from bhyt.policy.params import ParameterSet

PARAMETERS = (
    "contribution.rate",
    "contribution.employer_share",
    "contribution.salary_cap_multiple",
    "contribution.household_schedule",
    "contribution.funding_by_group",
    "contribution.state_subsidy_share",
    "general.base_salary",
)


class Funding(StrEnum):
    EMPLOYER = "employer"
    BHXH = "bhxh"
    STATE = "state"
    SUBSIDISED = "subsidised"
    HOUSEHOLD = "household"


@dataclass(frozen=True)
class Contribution:
    """Amounts due, in whole đồng, split by payer."""

    total: int
    employer: int = 0
    person: int = 0  # the employee, the subsidised person or the household
    state: int = 0
    social_insurance: int = 0  # paid from the social insurance fund (pensions, benefits)

    def __add__(self, other: Contribution) -> Contribution:
        return Contribution(*(getattr(self, f) + getattr(other, f) for f in Contribution.__dataclass_fields__))


def half_up(value: Fraction) -> int:
    """Round a non-negative exact amount half up to whole đồng.

    >>> half_up(Fraction(5, 2)), half_up(Fraction(7, 3))
    (3, 2)
    """
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def monthly_contribution(
    params: ParameterSet,
    *,
    group: str,
    month: date,
    income: int | None = None,
    household_position: int | None = None,
    subsidy_key: str | None = None,
    local_top_up: Decimal = Decimal(0),
) -> Contribution:
    """One month's contribution of one person, at the parameters in force on ``month``.

    ``income``: monthly salary (employer-funded groups) or pension/benefit (bhxh-funded groups).
    ``household_position``: 1 for the first member of a household, 2 for the second, …
    ``subsidy_key``: a qualified subsidy key such as ``CN.30a`` (default: the group code).

    >>> from bhyt.policy.params import default_parameters
    >>> monthly_contribution(default_parameters(), group="GD", month=date(2026, 7, 1), household_position=2)
    Contribution(total=79695, employer=0, person=79695, state=0, social_insurance=0)
    """
    funding_table = params.code_by_code("contribution.funding_by_group", month)
    if group not in funding_table:
        raise PolicyInputError("group", group, f"not a participant group code with a funding rule on {month}")
    funding = Funding(funding_table[group])
    rate = Fraction(params.percent("contribution.rate", month)) / 100
    base_salary = params.money("general.base_salary", month)
    if funding in (Funding.EMPLOYER, Funding.BHXH):
        if income is None or income < 0:
            what = "monthly salary" if funding is Funding.EMPLOYER else "monthly pension or benefit"
            raise PolicyInputError("income", income, f"group {group} contributes on the {what}: give it")
        base = income
        if funding is Funding.EMPLOYER:
            base = min(income, params.integer("contribution.salary_cap_multiple", month) * base_salary)
        total = half_up(base * rate)
        if funding is Funding.BHXH:
            return Contribution(total, social_insurance=total)
        employer = half_up(total * params.fraction("contribution.employer_share", month))
        return Contribution(total, employer=employer, person=total - employer)
    if funding is Funding.STATE:
        total = half_up(base_salary * rate)
        return Contribution(total, state=total)
    if funding is Funding.SUBSIDISED:
        shares = params.percent_by_code("contribution.state_subsidy_share", month)
        key = subsidy_key or group
        if key not in shares:
            raise PolicyInputError("subsidy_key", key, f"no state subsidy share for it on {month}")
        share = min(shares[key] + local_top_up, Decimal(100))
        total = half_up(base_salary * rate)
        state = half_up(total * Fraction(share) / 100)
        return Contribution(total, state=state, person=total - state)
    if household_position is None or household_position < 1:
        raise PolicyInputError("household_position", household_position, "household members need their order, from 1")
    schedule = params.percent_list("contribution.household_schedule", month)
    step = schedule[min(household_position, len(schedule)) - 1]
    total = half_up(base_salary * rate * Fraction(step) / 100)
    return Contribution(total, person=total)


def months_of(start: date, months: int) -> list[date]:
    """First days of ``months`` consecutive months from ``start``'s month."""
    if months < 1:
        raise PolicyInputError("months", months, "a period has at least one month")
    first = start.year * 12 + start.month - 1
    return [date((first + i) // 12, (first + i) % 12 + 1, 1) for i in range(months)]


def contribution(
    params: ParameterSet,
    *,
    group: str,
    start: date,
    months: int,
    income: int | None = None,
    household_position: int | None = None,
    subsidy_key: str | None = None,
    local_top_up: Decimal = Decimal(0),
) -> Contribution:
    """A person's contribution for ``months`` months from ``start``'s month, month by month."""
    total = Contribution(0)
    for month in months_of(start, months):
        total = total + monthly_contribution(
            params,
            group=group,
            month=month,
            income=income,
            household_position=household_position,
            subsidy_key=subsidy_key,
            local_top_up=local_top_up,
        )
    return total


def household_contributions(
    params: ParameterSet, *, groups: Sequence[str], start: date, months: int
) -> list[Contribution]:
    """Contributions of a household's members, in the order given. Only members insured through
    the household (group GD) count towards the schedule; members whose contribution the state pays
    or subsidises (or who are insured through work) keep their own rule and take no place in it.
    Members needing an income (employer- or bhxh-funded) cannot be priced here."""
    position, out = 0, []
    for group in groups:
        funding = params.code_by_code("contribution.funding_by_group", start).get(group)
        if funding == Funding.HOUSEHOLD:
            position += 1
            out.append(contribution(params, group=group, start=start, months=months, household_position=position))
        else:
            out.append(contribution(params, group=group, start=start, months=months))
    return out


def monthly_contributions(
    params: ParameterSet,
    *,
    groups: object,
    months: object,
    incomes: object | None = None,
    household_positions: object | None = None,
    subsidy_keys: object | None = None,
) -> pa.Table:
    """Vectorised :func:`monthly_contribution`, one row per person-month; columns ``total``,
    ``employer``, ``person``, ``state``, ``social_insurance`` (int64 đồng). Incomes and positions
    may be null where the funding does not need them."""
    group = np.asarray(_vector.strings(groups).to_pylist(), dtype=object)
    n = len(group)
    days = _vector.as_days(months, n)
    income = np.asarray(pa.array(incomes if incomes is not None else [None] * n, pa.int64()).fill_null(-1), np.int64)
    position = np.asarray(
        pa.array(household_positions if household_positions is not None else [None] * n, pa.int64()).fill_null(0),
        np.int64,
    )
    keys = np.asarray(
        _vector.strings(subsidy_keys if subsidy_keys is not None else [None] * n).to_pylist(), dtype=object
    )
    out = {k: np.zeros(n, np.int64) for k in Contribution.__dataclass_fields__}

    def rounded(num: np.ndarray, den: int) -> np.ndarray:
        return (2 * num + den) // (2 * den)

    for at, rows in _vector.by_epoch(params, PARAMETERS, days):
        funding_table = params.code_by_code("contribution.funding_by_group", at)
        fund = np.array([funding_table.get(g) for g in group[rows]], dtype=object)
        if (missing := fund == None).any():  # noqa: E711
            g = group[rows][missing][0]
            raise PolicyInputError("group", g, f"not a participant group code with a funding rule on {at}")
        rate = Fraction(params.percent("contribution.rate", at)) / 100
        base_salary = params.money("general.base_salary", at)
        inc, pos = income[rows], position[rows]
        total = np.zeros(rows.size, np.int64)
        for f in Funding:
            m = fund == f.value
            if not m.any():
                continue
            if f in (Funding.EMPLOYER, Funding.BHXH):
                if (inc[m] < 0).any():
                    raise PolicyInputError("income", None, f"{f.value}-funded groups need an income")
                base = inc[m]
                if f is Funding.EMPLOYER:
                    base = np.minimum(base, params.integer("contribution.salary_cap_multiple", at) * base_salary)
                total[m] = rounded(base * rate.numerator, rate.denominator)
            elif f is Funding.HOUSEHOLD:
                if (pos[m] < 1).any():
                    raise PolicyInputError("household_position", None, "household members need their order, from 1")
                schedule = params.percent_list("contribution.household_schedule", at)
                steps = [Fraction(s) / 100 for s in schedule]
                for k, step in enumerate(steps):
                    sel = m & (np.minimum(pos, len(steps)) == k + 1)
                    amount = base_salary * rate * step
                    total[sel] = half_up(amount)
            else:
                total[m] = half_up(base_salary * rate)
            idx = rows[m]
            if f is Funding.EMPLOYER:
                share = params.fraction("contribution.employer_share", at)
                employer = rounded(total[m] * share.numerator, share.denominator)
                out["employer"][idx], out["person"][idx] = employer, total[m] - employer
            elif f is Funding.BHXH:
                out["social_insurance"][idx] = total[m]
            elif f is Funding.STATE:
                out["state"][idx] = total[m]
            elif f is Funding.HOUSEHOLD:
                out["person"][idx] = total[m]
            else:
                shares = params.percent_by_code("contribution.state_subsidy_share", at)
                for i in idx:
                    key = keys[i] or group[i]
                    if key not in shares:
                        raise PolicyInputError("subsidy_key", key, f"no state subsidy share for it on {at}")
                state = np.array(
                    [
                        half_up(int(t) * Fraction(shares[keys[i] or group[i]]) / 100)
                        for i, t in zip(idx, total[m], strict=True)
                    ],
                    np.int64,
                )
                out["state"][idx], out["person"][idx] = state, total[m] - state
        out["total"][rows] = total
    return pa.table({k: pa.array(v, pa.int64()) for k, v in out.items()})
