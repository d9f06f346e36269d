"""The columnar engine equals the per-claim reference on every finding and every amount, and each
rule fires on the case it exists for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bhyt.assessment.backends import Engine, connect
from bhyt.assessment.catalogue import ALL, RULES
from bhyt.assessment.engine import EngineResult, assess
from bhyt.assessment.inputs import HISTORY_COLUMNS, Batch, load
from bhyt.assessment.outcome import status_of
from bhyt.assessment.reference import ReferenceResult, assess_reference
from bhyt.policy.params import ParameterSet
from bhyt.synth.run import SynthConfig, synthesize

Rows = list[dict[str, Any]]


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("assess") / "nation"
    synthesize(SynthConfig(people=1500, year=2025, seed=11, out=out, provinces=["01", "79"], abuse_rate=0.2))
    return out


class Base(tuple[Rows, Rows, Batch]):
    """The province's claims, lines and batch (a short repr for Hypothesis's reports)."""

    def __repr__(self) -> str:
        return f"<{len(self[0])} claims>"


@pytest.fixture(scope="module")
def base(nation: Path) -> Base:
    batch = load([nation])
    assert batch.facilities is not None
    # A facility whose contract with the fund begins only in 2100: the "uncontracted" mutation moves claims there.
    late = {"code": [UNCONTRACTED], "level": ["basic"], "contract_from": [date(2100, 1, 1)], "contract_to": [None]}
    batch.facilities = pa.concat_tables([batch.facilities, pa.table(late, batch.facilities.schema)]).combine_chunks()
    claims = ds.dataset(str(nation / "lake" / "claims"), format="parquet").to_table().to_pylist()
    lines = ds.dataset(str(nation / "lake" / "lines"), format="parquet").to_table().to_pylist()
    return Base((claims, lines, batch))


@pytest.fixture(scope="module")
def spark() -> ibis.BaseBackend:
    """PySpark in local mode (one session per process, as Spark allows)."""
    return connect(Engine.SPARK, "local[2]")


def _compare(e: EngineResult, r: ReferenceResult) -> None:
    ef = sorted((x["seq"], x["rule"], x["table"], x["line"] or 0) for x in e.findings.to_pylist())
    rf = sorted((x.seq, x.rule, x.table, x.line or 0) for x in r.findings)
    assert ef == rf
    engine = {c["seq"]: c for c in e.claims.to_pylist()}
    assert set(engine) == {a.seq for a in r.claims}
    for a in r.claims:
        c = engine[a.seq]
        assert (c["fund"], c["copay"], c["outside"], c["rejected"], c["package_cut"]) == (
            a.fund, a.copay, a.outside, a.rejected, a.package_cut), a.seq  # fmt: skip
        assert c["assessed_rate"] == a.assessed_rate, a.seq


def test_engine_equals_reference_on_a_province_with_abuse(base: tuple[Rows, Rows, Batch], params: ParameterSet) -> None:
    batch = base[2]
    e, r = assess(batch, params), assess_reference(batch, params)
    _compare(e, r)
    fired = {x["rule"] for x in e.findings.to_pylist()}
    # The labelled abuse is caught by the rules made for it.
    for code in ("claim.duplicate", "claim.overlapping_stay", "claim.same_day_facilities", "card.expired",
                 "price.above_approved", "service.sex", "unbundling.part_with_panel"):  # fmt: skip
        assert code in fired


def test_engine_equals_reference_without_catalogue_or_registry(base: tuple[Rows, Rows, Batch],
                                                               params: ParameterSet) -> None:  # fmt: skip
    bare = Batch(base[2].claims, base[2].lines)
    _compare(assess(bare, params), assess_reference(bare, params))


# Mutations: each makes a claim break (or nearly break) some rule. Hypothesis combines them.


def _shift(days: int) -> Callable[[dict[str, Any], Rows], None]:
    def f(c: dict[str, Any], lines: Rows) -> None:
        for k in ("admitted_at", "discharged_at"):
            c[k] = c[k] + timedelta(days=days)

    return f


def _lines(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any], Rows], None]:
    def f(c: dict[str, Any], lines: Rows) -> None:
        for ln in lines[:1]:
            change(ln)

    return f


def _stay_expired(c: dict[str, Any], lines: Rows) -> None:
    """An inpatient stay whose card ends on the first day; a line a month later."""
    c.update(
        visit_type="03", card_valid_to=c["admitted_at"].date(), discharged_at=c["admitted_at"] + timedelta(days=40)
    )
    for ln in lines[:1]:
        ln["ordered_at"] = c["admitted_at"] + timedelta(days=30)


UNCONTRACTED = "98765"


def _uncontracted(c: dict[str, Any], ls: Rows) -> None:
    c.update(facility=UNCONTRACTED)
    for ln in ls:
        ln.update(facility=UNCONTRACTED)


MUTATIONS: dict[str, Callable[[dict[str, Any], Rows], None]] = {
    "uncontracted": _uncontracted,
    "card_bad": lambda c, ls: c.update(card="ZZ" + c["card"][2:]),
    "card_short": lambda c, ls: c.update(card=c["card"][:10]),
    "digit": lambda c, ls: c.update(card=c["card"][:2] + "5" + c["card"][3:]),
    "route_unknown": lambda c, ls: c.update(route_code="9.9"),
    "route_registered": lambda c, ls: c.update(route_code="1.1", registered_facility="99999"),
    "route_referral": lambda c, ls: c.update(route_code="1.3", referred_from=None),
    "visit_type": lambda c, ls: c.update(visit_type="99"),
    "area": lambda c, ls: c.update(living_area="K9"),
    "area_k1": lambda c, ls: c.update(living_area="K1"),
    "icd_unknown": lambda c, ls: c.update(main_diagnosis="Z99.99"),
    "icd_not_main": lambda c, ls: c.update(main_diagnosis="B95.0"),
    "icd_sex": lambda c, ls: c.update(main_diagnosis="N40", sex=2),
    "early": _shift(-400),
    "late": _shift(400),
    "backwards": lambda c, ls: c.update(discharged_at=c["admitted_at"] - timedelta(hours=2)),
    "days": lambda c, ls: c.update(treatment_days=(c["treatment_days"] or 0) + 3),
    "exempt": lambda c, ls: c.update(copay_exempt_from=c["admitted_at"].date(), five_year_date=None),
    "exempt_ok": lambda c, ls: c.update(
        copay_exempt_from=c["admitted_at"].date(), five_year_date=c["admitted_at"].date() - timedelta(days=9)
    ),
    "no_level": lambda c, ls: c.update(facility_level=None),
    "primary": lambda c, ls: c.update(facility_level="primary"),
    "fund": lambda c, ls: c.update(fund=(c["fund"] or Decimal(0)) + Decimal(1)),
    "qty0": _lines(lambda ln: ln.update(quantity=Decimal(0))),
    "price": _lines(lambda ln: ln.update(unit_price=ln["unit_price"] * 2, insured_price=ln["unit_price"] * 2)),
    "rate": _lines(lambda ln: ln.update(item_rate=50, cost_group="8")),
    "scope3": _lines(lambda ln: ln.update(scope=3)),
    "scope2": _lines(lambda ln: ln.update(scope=2)),
    "exam": _lines(lambda ln: ln.update(cost_group="13", service_rate=70)),
    "bed": _lines(lambda ln: ln.update(cost_group="15", quantity=Decimal(40))),
    "outside": _lines(lambda ln: ln.update(ordered_at=ln["ordered_at"] + timedelta(days=90))),
    "unknown_item": _lines(lambda ln: ln.update(item_code="XX.9999")),
    "total": _lines(lambda ln: ln.update(total=ln["total"] + 5)),
    "other": _lines(lambda ln: ln.update(other_sources=ln["total"])),
    "dup_line": lambda c, ls: ls.extend([dict(ln, line_no=ln["line_no"] + 1000) for ln in ls[:1]]),
    "mri": _lines(lambda ln: ln.update(item_code="18.0337.0066")),
    "stay_expired": _stay_expired,
    "package": lambda c, ls: [ln.update(supply_package="G1", cost_group="10", quantity=Decimal(400)) for ln in ls],
}


def _mutated(claims: Rows, lines: Rows, picks: list[tuple[int, str]], copies: list[int]) -> tuple[Rows, Rows]:
    by_key: dict[tuple[str, str], Rows] = {}
    for ln in lines:
        by_key.setdefault((ln["facility"], ln["claim_id"]), []).append(dict(ln))
    chosen = sorted({i % len(claims) for i, _ in picks} | {i % len(claims) for i in copies})
    out_c, out_l = [], []
    for i in chosen:
        c = dict(claims[i])
        own = by_key.get((c["facility"], c["claim_id"]), [])
        for j, name in picks:
            if j % len(claims) == i:
                MUTATIONS[name](c, own)
        out_c.append(c)
        out_l += own
    for i in copies:  # a claim sent twice (the same MA_LK and content)
        out_c.append(dict(out_c[i % len(out_c)]))
    return out_c, out_l


def _history(claims: Rows, picks: list[int]) -> pa.Table:
    """Claims of an earlier run: even picks under another MA_LK (copies), odd ones the same claim."""
    rows = [{k: claims[i % len(claims)][k] for k in HISTORY_COLUMNS} for i in picks]
    for i, r in zip(picks, rows, strict=True):
        if i % 2 == 0:
            r["claim_id"] = f"OLD{r['claim_id']}"
    return pa.Table.from_pylist(rows, pa.schema(HISTORY_COLUMNS))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])  # fmt: skip
@given(
    picks=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(sorted(MUTATIONS))), min_size=1, max_size=40),
    copies=st.lists(st.integers(0, 100), max_size=3),
    catalogue=st.booleans(),
    earlier=st.none() | st.lists(st.integers(0, 60), max_size=6),
)
def test_engine_equals_reference_on_random_batches(base: tuple[Rows, Rows, Batch], params: ParameterSet,
                                                   picks: list[tuple[int, str]], copies: list[int],
                                                   catalogue: bool, earlier: list[int] | None) -> None:  # fmt: skip
    claims, lines, full = base
    c, ls = _mutated(claims, lines, picks, copies)
    batch = Batch(pa.Table.from_pylist(c), pa.Table.from_pylist(ls))
    if earlier is not None:
        batch.history = _history(c, earlier)
    if catalogue:
        batch.items, batch.prices, batch.facilities = full.items, full.prices, full.facilities
    _compare(assess(batch, params), assess_reference(batch, params))


def test_every_rule_fires_on_its_case(base: tuple[Rows, Rows, Batch], params: ParameterSet) -> None:
    claims, lines, full = base
    picks = [(i * 7, name) for i, name in enumerate(sorted(MUTATIONS))]
    c, ls = _mutated(claims, lines, picks, [0])
    batch = Batch(pa.Table.from_pylist(c), pa.Table.from_pylist(ls), items=full.items, prices=full.prices,
                  facilities=full.facilities, history=_history(c, [0, 1, 2]))  # fmt: skip
    e = assess(batch, params)
    fired = {x["rule"] for x in e.findings.to_pylist()} | {x["rule"] for x in assess(full, params).findings.to_pylist()}
    never = {r.code for r in RULES} - fired
    assert never == set(), never
    assert len(ALL) >= 30


def _same(a: EngineResult, b: EngineResult) -> None:
    for part in ("findings", "claims", "lines"):
        assert getattr(a, part).equals(getattr(b, part)), part


def test_spark_equals_duckdb_and_reference(base: Base, params: ParameterSet, spark: ibis.BaseBackend) -> None:
    """The same catalogue on PySpark: the province read from its Parquet lake, then a batch with every
    mutation (in-memory tables), each against DuckDB (every column) and the reference."""
    claims, lines, full = base
    _same(assess(full, params, con=spark), assess(full, params))
    picks = [(i * 5, name) for i, name in enumerate(sorted(MUTATIONS))]
    c, ls = _mutated(claims, lines, picks, [0, 3])
    batch = Batch(pa.Table.from_pylist(c), pa.Table.from_pylist(ls), items=full.items, prices=full.prices,
                  facilities=full.facilities, history=_history(c, [0, 1, 4]))  # fmt: skip
    on_spark = assess(batch, params, con=spark)
    _same(on_spark, assess(batch, params))
    _compare(on_spark, assess_reference(batch, params))


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])  # fmt: skip
@given(
    picks=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(sorted(MUTATIONS))), min_size=1, max_size=40),
    catalogue=st.booleans(),
)
def test_spark_equals_reference_on_random_batches(base: Base, params: ParameterSet, spark: ibis.BaseBackend,
                                                  picks: list[tuple[int, str]], catalogue: bool) -> None:  # fmt: skip
    claims, lines, full = base
    c, ls = _mutated(claims, lines, picks, [1])
    batch = Batch(pa.Table.from_pylist(c), pa.Table.from_pylist(ls))
    if catalogue:
        batch.items, batch.prices, batch.facilities = full.items, full.prices, full.facilities
    on_spark = assess(batch, params, con=spark)
    _compare(on_spark, assess_reference(batch, params))
    _same(on_spark, assess(batch, params))


@pytest.mark.parametrize(
    ("severities", "lines", "rejected", "status"),
    [
        (set(), 3, 0, "accepted"),
        ({"info"}, 3, 0, "accepted"),
        ({"adjust"}, 3, 0, "partial"),
        ({"reject_line"}, 3, 1, "partial"),
        ({"reject_line"}, 3, 3, "rejected"),
        ({"review", "adjust"}, 3, 0, "review"),
        ({"reject_claim", "review"}, 3, 0, "rejected"),
    ],
)
def test_status_follows_the_heaviest_finding(severities: set[str], lines: int, rejected: int, status: str) -> None:
    assert status_of(severities, lines, rejected) == status
