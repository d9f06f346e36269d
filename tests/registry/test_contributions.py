"""Contributions due per paying unit and collected against them: the vectorised dues agree with the
policy's worked examples and its scalar rule; on SQLite and PostgreSQL, the registry's dues for the
synthetic nation are exactly what its units were billed, and collection sorts them into paid, late
and in arrears."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from bhyt.api.app import create_app
from bhyt.policy.contribution import monthly_contribution
from bhyt.policy.params import ParameterSet, default_parameters
from bhyt.registry.dues import COLUMNS, dues_by_payer, in_force, participation_terms
from bhyt.registry.service import collection
from bhyt.security.roles import Role
from bhyt.synth.run import SynthConfig, synthesize
from tests.api_support import SETTINGS, bearer

PARAMS = default_parameters()
JULY = date(2026, 7, 1)  # base salary 2,530,000: 4.5% is 113,850 a month


def _parts(rows: list[dict[str, Any]]) -> pa.Table:
    base = {"province": "01", "valid_to": None, "income": None, "household_id": None, "household_position": None}
    types = {"person_id": pa.int64(), "valid_from": pa.date32(), "valid_to": pa.date32(), "income": pa.int64(),
             "household_id": pa.int64(), "household_position": pa.int64()}  # fmt: skip
    full = [base | r for r in rows]
    for r in full:
        terms = participation_terms(PARAMS, r["group"], r["valid_from"], r["province"], r["household_id"],
                                    r.get("employer"))  # fmt: skip
        r.setdefault("payer", terms["payer"])
        r.setdefault("funding", terms["funding"])
    return pa.table({k: pa.array([r[k] for r in full], types.get(k, pa.string())) for k in COLUMNS})


@pytest.mark.parametrize("members", range(1, 7))
def test_a_household_pays_the_schedule(members: int) -> None:
    parts = _parts([{"person_id": i, "group": "GD", "valid_from": date(2026, 1, 1), "household_id": 9,
                     "household_position": 7 - i} for i in range(members)])  # fmt: skip
    [due] = dues_by_payer(PARAMS, parts, JULY).to_pylist()
    schedule = [113_850, 79_695, 68_310, 56_925, 45_540, 45_540][:members]  # 100, 70, 60, 50, 40, 40 %
    assert (due["payer"], due["people"], due["total"], due["person"]) == ("household:9", members, sum(schedule),
                                                                          sum(schedule))  # fmt: skip


def test_people_without_a_household_each_pay_as_the_first_member() -> None:
    parts = _parts([{"person_id": i, "group": "GD", "valid_from": date(2026, 1, 1)} for i in range(3)])
    [due] = dues_by_payer(PARAMS, parts, JULY).to_pylist()
    assert (due["people"], due["total"]) == (3, 3 * 113_850)


def test_employers_subsidies_and_gaps() -> None:
    parts = _parts([
        {"person_id": 1, "group": "DN", "valid_from": date(2026, 1, 1), "employer": "01DN00001", "income": 10_000_000},
        {"person_id": 2, "group": "DN", "valid_from": date(2026, 1, 1), "employer": "01DN00001",
         "income": 90_000_000},  # above the cap: 20 × 2,530,000
        {"person_id": 3, "group": "DN", "valid_from": date(2026, 1, 1), "employer": "01DN00001"},  # no salary
        {"person_id": 4, "group": "HS", "valid_from": date(2026, 1, 1)},
        {"person_id": 5, "group": "CN", "valid_from": date(2026, 1, 1)},
        {"person_id": 6, "group": "HT", "valid_from": date(2026, 1, 1), "income": 6_000_000},
        {"person_id": 7, "group": "QN", "valid_from": date(2026, 1, 1), "valid_to": date(2026, 6, 30)},  # ended
        {"person_id": 8, "group": "QN", "valid_from": date(2026, 7, 31)},  # from the month's last day
    ])  # fmt: skip
    due = {r["payer"]: r for r in dues_by_payer(PARAMS, parts, JULY).to_pylist()}
    employer = due["employer:01DN00001"]
    assert (employer["people"], employer["unpriced"]) == (3, 1)
    assert employer["total"] == 450_000 + 2_277_000  # 4.5% of 10M, and of the 50.6M cap
    assert employer["employer"] == 300_000 + 1_518_000  # two thirds
    subsidised = due["subsidised:01"]
    assert subsidised["people"] == 2
    assert subsidised["total"] == 2 * 113_850
    assert subsidised["state"] == sum(monthly_contribution(PARAMS, group=g, month=JULY).state for g in ("HS", "CN"))
    assert due["bhxh:01"]["social_insurance"] == 270_000
    assert due["state:01"]["people"] == 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["GD", "DN", "HT", "HS", "CN", "QN", "TE", "BT", "HC"]),
                          st.integers(1, 12), st.integers(0, 3), st.integers(1_000_000, 60_000_000)),
                min_size=1, max_size=25))  # fmt: skip
def test_dues_agree_with_the_scalar_rule(rows: list[tuple[str, int, int, int]]) -> None:
    """Whatever the mix, each unit's total is the sum of each member's monthly_contribution (household
    members by their place in the household)."""
    parts = _parts([{"person_id": i, "group": g, "valid_from": date(2026, start, 1), "household_id": hh,
                     "household_position": i, "income": income, "employer": "01DN00001" if g in ("DN", "HC") else None}
                    for i, (g, start, hh, income) in enumerate(rows)])  # fmt: skip
    month = date(2026, 9, 1)
    due = {r["payer"]: r["total"] for r in dues_by_payer(PARAMS, parts, month).to_pylist()}
    expected: dict[str, int] = {}
    places: dict[int, int] = {}
    for r in in_force(parts, month).sort_by([("household_id", "ascending"), ("household_position", "ascending")]) \
            .to_pylist():  # fmt: skip
        position = None
        if r["funding"] == "household":
            places[r["household_id"]] = position = places.get(r["household_id"], 0) + 1
        c = monthly_contribution(PARAMS, group=r["group"], month=month, income=r["income"], household_position=position)
        expected[r["payer"]] = expected.get(r["payer"], 0) + c.total
    assert due == expected


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dues") / "nation"
    synthesize(SynthConfig(people=6000, year=2025, seed=5, out=out, provinces=["01", "79"]))
    return out


def test_collection_against_what_the_nation_billed(engine: Engine, nation: Path, params: ParameterSet) -> None:
    summary = json.loads((nation / "summary.json").read_text())
    months = [date(2025, m, 1) for m in range(1, 13)]
    rows = {m: collection(engine, params, m) for m in months}
    assert sum(r["total"] for m in months for r in rows[m]) == summary["contributions_due_vnd"]
    assert sum(r["paid"] for m in months for r in rows[m]) == summary["contributions_paid_vnd"]
    every = [r for m in months for r in rows[m]]
    for r in every:
        if r["funding"] != "employer":  # the state, the fund and households pay in full, on time
            assert (r["status"], r["paid"]) == ("paid", r["total"]), r
        assert r["outstanding"] == max(r["total"] - r["paid"], 0)
        assert r["overpaid"] == 0
        assert r["unpriced"] == 0
    employers = [r for r in every if r["funding"] == "employer"]
    assert {r["status"] for r in employers} >= {"paid", "late", "partial"}
    assert all(r["name"] for r in employers)
    late = next(r for r in employers if r["status"] == "late")
    assert late["paid"] == late["total"]
    assert late["last_paid_on"] > late["deadline"]
    assert rows[date(2025, 6, 1)][0]["deadline"] == "2025-06-30"
    assert rows[date(2025, 7, 1)][0]["deadline"] == "2025-08-31"  # a month later from July 2025


def test_collection_over_http_and_the_shell(engine: Engine, db_url: str) -> None:
    with TestClient(create_app(engine, SETTINGS), raise_server_exceptions=False) as client:
        q = {"month": "2025-03"}
        everything = client.get("/registry/contributions", params=q, headers=bearer(Role.AUDITOR)).json()
        hanoi = client.get("/registry/contributions", params=q, headers=bearer(Role.PROVINCE, province="01")).json()
        assert {u["province"] for u in hanoi["units"]} == {"01"}
        assert 0 < len(hanoi["units"]) < len(everything["units"])
        assert everything["due"] == sum(u["total"] for u in everything["units"])
        assert 0.9 < everything["collection_rate"] <= 1
        partial = client.get("/registry/contributions", params=q | {"status": "partial"},
                             headers=bearer(Role.AUDITOR)).json()  # fmt: skip
        assert all(u["status"] == "partial" for u in partial["units"])
        assert client.get("/registry/contributions", params=q, headers=bearer(Role.FACILITY, facility="01001")
                          ).status_code == 403  # fmt: skip
        assert client.get("/registry/contributions", params={"month": "2025-3"},
                          headers=bearer(Role.AUDITOR)).status_code == 422  # fmt: skip
    if db_url.startswith("sqlite"):
        done = subprocess.run([Path(sys.executable).parent / "bhyt", "registry", "contributions", "--month", "2025-03",
                               "--json", "--db", db_url], capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        units = [json.loads(line) for line in done.stdout.splitlines()]
        assert sum(u["total"] for u in units) == everything["due"]
