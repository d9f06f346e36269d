"""Paying units of the synthetic nation: the employer register, each insured worker's employer and
salary (and each pensioner's pension), and the contributions the units paid month by month.

The figures are background assumptions [B] (calibration.md has none on employers or arrears): about
400 employers per 100,000 people, salaries around 5–15 million đồng a month, and of the employers
90% paying each month in full by the deadline, 6% paying in full but late, 4% paying part (arrears,
nợ đóng). The state budget, the social insurance fund and households pay in full on time. What is due
comes from :func:`bhyt.registry.dues.dues_by_payer`, the registry's own computation.

Drawn from generators of their own, so the rest of the nation is the same with or without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from bhyt.policy.params import ParameterSet
from bhyt.registry.dues import dues_by_payer, month_end, next_month, participation_terms, payer_of
from bhyt.synth import reference as ref

Arr = npt.NDArray[Any]

# Employer-funded group -> (kind of unit, name prefix, units per 100,000 people) [B]
UNIT_KINDS = {
    "DN": ("enterprise", "Công ty TNHH", 300),
    "HX": ("cooperative", "Hợp tác xã", 20),
    "CH": ("state_agency", "Cơ quan", 25),
    "NN": ("foreign_org", "Văn phòng đại diện", 3),
    "TK": ("other_org", "Tổ chức", 10),
    "HC": ("public_unit", "Đơn vị sự nghiệp", 40),
    "XK": ("commune", "Ủy ban nhân dân xã", 8),
}
BEHAVIOURS = ("on_time", "late", "arrears")
BEHAVIOUR_SHARES = (0.90, 0.06, 0.04)  # [B]
# Monthly income (đồng): lognormal median and spread by group [B]; civil servants by salary coefficient.
SALARY = {"DN": (8_500_000, 0.45), "HX": (5_500_000, 0.35), "NN": (15_000_000, 0.5), "TK": (6_000_000, 0.4)}
COEFFICIENT = {"CH": (2.34, 6.2), "HC": (2.1, 6.0), "XK": (1.0, 1.5)}  # × base salary
PENSION = {"HT": (6_000_000, 0.4)}
BENEFIT = (3_500_000, 0.35)  # other bhxh-funded groups: allowances and benefits


@dataclass
class Employers:
    frame: dict[str, Arr]  # code, name, province, kind, group, behaviour, weight
    index: dict[tuple[str, str], npt.NDArray[np.intp]]  # (province, group) -> rows

    def table(self) -> pa.Table:
        return pa.table({k: pa.array(self.frame[k], pa.string()) for k in ("code", "name", "province", "kind")})


def build_employers(rng: np.random.Generator, selected: Sequence[str], people: int) -> Employers:
    """The employers of the selected provinces, in proportion to their population (at least one of
    each kind per province), each with a size weight (a few large ones) and a payment behaviour."""
    shares = np.array([ref.PROVINCE_SHARES[p] for p in selected])
    pops = people * shares / shares.sum()
    cols: dict[str, list[object]] = {k: [] for k in ("code", "name", "province", "kind", "group")}
    for province, pop in zip(selected, pops, strict=True):
        for group, (kind, prefix, per_100k) in UNIT_KINDS.items():
            for i in range(max(1, round(pop * per_100k / 100_000))):
                cols["code"].append(f"{province}{group}{i + 1:05d}")
                cols["name"].append(f"{prefix} {province}-{group}-{i + 1:05d}")
                cols["province"].append(province)
                cols["kind"].append(kind)
                cols["group"].append(group)
    frame = {k: np.array(v, dtype=object) for k, v in cols.items()}
    n = frame["code"].size
    frame["weight"] = rng.pareto(1.2, n) + 1.0
    frame["behaviour"] = np.array(BEHAVIOURS, dtype=object)[rng.choice(3, size=n, p=BEHAVIOUR_SHARES)]
    index: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(zip(frame["province"], frame["group"], strict=True)):
        index.setdefault((str(key[0]), str(key[1])), []).append(i)
    return Employers(frame, {k: np.array(v, np.intp) for k, v in index.items()})


def employment(
    rng: np.random.Generator, people: dict[str, Arr], cards: dict[str, Arr], employers: Employers, year: int,
    params: ParameterSet,
) -> tuple[Arr, Arr]:  # fmt: skip
    """Per card row: the employer's code (employer-funded groups) and the monthly income the
    contribution is assessed on (salary, pension or benefit; None where the base salary is)."""
    n = cards["group"].size
    employer = np.full(n, None, dtype=object)
    income = np.full(n, None, dtype=object)
    if n == 0:
        return employer, income
    # One draw per person: a person's periods in the year share their group.
    _, first, owner = np.unique(cards["person_id"], return_index=True, return_inverse=True)
    group = cards["group"][first]
    province = people["province"][cards["person_index"][first]]
    funding_table = params.code_by_code("contribution.funding_by_group", date(year, 1, 1))
    funding = np.array([funding_table.get(g) for g in group], dtype=object)
    base = params.money("general.base_salary", date(year, 1, 1))
    pick, spread = rng.random(group.size), rng.standard_normal(group.size)
    coefficient = rng.random(group.size)
    who_employer = np.full(group.size, None, dtype=object)
    amount = np.full(group.size, None, dtype=object)
    for g in np.unique(group[funding == "employer"]):
        for prov in np.unique(province[group == g]):
            sel = np.flatnonzero((group == g) & (province == prov))
            rows = employers.index.get((str(prov), str(g)))
            if rows is None:
                continue
            cumulative = np.cumsum(employers.frame["weight"][rows])
            at = np.searchsorted(cumulative, pick[sel] * cumulative[-1])
            who_employer[sel] = employers.frame["code"][rows[np.minimum(at, rows.size - 1)]]
    for g in np.unique(group[np.isin(funding, ["employer", "bhxh"])]):
        sel = group == g
        if g in COEFFICIENT:
            lo, hi = COEFFICIENT[str(g)]
            values = base * (lo + (hi - lo) * coefficient[sel])
        else:
            median, sigma = SALARY.get(str(g)) or PENSION.get(str(g)) or BENEFIT
            values = median * np.exp(sigma * spread[sel])
        amount[sel] = [int(round(v, -3)) for v in values]
    return who_employer[owner], amount[owner]


def participations(params: ParameterSet, people: dict[str, Arr], cards: dict[str, Arr], employer: Arr,
                   income: Arr) -> pa.Table:  # fmt: skip
    """The chunk's participations as the registry holds them (paying unit by the registry's rule)."""
    rows = cards["person_index"]
    province = people["province"][rows]
    household = people["household_id"][rows]
    starts = cards["valid_from"].astype("datetime64[D]").astype(object)
    terms: dict[tuple[Any, ...], str] = {}  # funding by (group, start): the few distinct ones
    payer, funding = [], []
    for g, s, p, h, e in zip(cards["group"], starts, province, household, employer, strict=True):
        if (g, s) not in terms:
            terms[(g, s)] = participation_terms(params, str(g), s, str(p), None)["funding"]
        funding.append(terms[(g, s)])
        payer.append(payer_of(terms[(g, s)], str(g), str(p), int(h), e))
    return pa.table({
        "person_id": pa.array(cards["person_id"], pa.int64()),
        "group": pa.array(cards["group"], pa.string()),
        "payer": pa.array(payer, pa.string()),
        "funding": pa.array(funding, pa.string()),
        "province": pa.array(province, pa.string()),
        "valid_from": pa.array(cards["valid_from"], pa.date32()),
        "valid_to": pa.array(cards["valid_to"], pa.date32()),
        "income": pa.array(income, pa.int64()),
        "household_id": pa.array(household, pa.int64()),
        "household_position": pa.array(people["household_position"][rows], pa.int64()),
    })  # fmt: skip


@dataclass
class Ledger:
    """Contributions due per (paying unit, month), summed over chunks."""

    due: dict[tuple[str, date], int] = field(default_factory=dict)

    def add(self, params: ParameterSet, parts: pa.Table, year: int) -> None:
        month = date(year, 1, 1)
        while month.year == year:
            for payer, total in zip(*(dues_by_payer(params, parts, month).column(k).to_pylist()
                                      for k in ("payer", "total")), strict=True):  # fmt: skip
                self.due[(payer, month)] = self.due.get((payer, month), 0) + total
            month = next_month(month)

    def payments(self, rng: np.random.Generator, employers: Employers, params: ParameterSet) -> pa.Table:
        """What each unit paid for each month, by its behaviour (employers) or in full on time."""
        behaviour = dict(zip(employers.frame["code"], employers.frame["behaviour"], strict=True))
        out: dict[str, list[Any]] = {k: [] for k in ("payer", "month", "amount", "paid_on", "reference")}
        for i, ((payer, month), due) in enumerate(sorted(self.due.items())):
            if due <= 0:
                continue
            months = params.integer("contribution.payment_deadline_months", month)
            deadline = month_end(month, months)
            kind = behaviour.get(payer.removeprefix("employer:"), "on_time")
            amount, paid_on = due, deadline - timedelta(days=int(rng.integers(0, 20)))
            if kind == "late":
                paid_on = deadline + timedelta(days=int(rng.integers(5, 76)))
            elif kind == "arrears":
                amount = int(due * rng.uniform(0.0, 0.8)) // 1000 * 1000
            if amount <= 0:
                continue
            out["payer"].append(payer)
            out["month"].append(month)
            out["amount"].append(amount)
            out["paid_on"].append(paid_on)
            out["reference"].append(f"UNC{month:%Y%m}{i:08d}")
        types = {"month": pa.date32(), "paid_on": pa.date32(), "amount": pa.int64()}
        return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in out.items()})
