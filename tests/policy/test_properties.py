"""Invariants of the policy core, and the scalar and vectorised forms agreeing on random inputs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bhyt.errors import PolicyInputError
from bhyt.policy.benefit import FacilityLevel, Visit, benefit_rate, benefit_rates
from bhyt.policy.card import check_card, check_cards
from bhyt.policy.citizen_id import check_citizen_id, check_citizen_ids
from bhyt.policy.contribution import monthly_contribution, monthly_contributions
from bhyt.policy.params import ParameterSet, default_parameters
from bhyt.policy.split import Line, price_visit, split_line, split_lines

PARAMS = default_parameters()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decimals(places: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(0, high * 10**places).map(lambda n: Decimal(n).scaleb(-places))


quantities = decimals(3, 10_000)
prices = decimals(3, 50_000_000)
percents = decimals(2, 100)
dates = st.dates(date(2023, 2, 15), date(2027, 12, 31))


@st.composite
def lines(draw: st.DrawFn) -> dict[str, object]:
    price = draw(prices)
    quantity = draw(quantities)
    line: dict[str, object] = {
        "quantity": quantity,
        "unit_price": price,
        "insured_price": draw(st.one_of(st.just(price), decimals(3, 1).map(lambda _: price))),
        "benefit_rate": draw(percents),
        "item_rate": draw(st.sampled_from([Decimal(100), Decimal(50), Decimal(30)])),
        "service_rate": draw(st.sampled_from([Decimal(100), Decimal(50), Decimal(30), Decimal(10)])),
        "in_scope": draw(st.booleans()),
    }
    cheaper = draw(st.integers(0, 100))
    line["insured_price"] = (price * cheaper / 100).quantize(Decimal("0.001"))
    total = quantity * price * line["service_rate"] / 100  # type: ignore[operator]
    line["other_sources"] = (total * draw(st.integers(0, 100)) / 100).quantize(Decimal("0.01"), "ROUND_DOWN")
    return line


@SETTINGS
@given(lines())
def test_every_dong_is_paid_by_someone(line: dict[str, object]) -> None:
    a = split_line(**line)  # type: ignore[arg-type]
    assert a.total == a.outside + a.copay + a.fund + a.other_sources
    assert 0 <= a.fund <= a.insured
    assert a.outside >= 0
    assert a.copay >= 0


@SETTINGS
@given(lines(), percents)
def test_a_higher_benefit_rate_never_pays_less(line: dict[str, object], other: Decimal) -> None:
    low, high = sorted([line["benefit_rate"], other])  # type: ignore[type-var]
    assert split_line(**{**line, "benefit_rate": high}).fund >= split_line(**{**line, "benefit_rate": low}).fund  # type: ignore[arg-type]


@SETTINGS
@given(st.lists(lines(), min_size=1, max_size=30))
def test_split_scalar_equals_vectorised(batch: list[dict[str, object]]) -> None:
    table = split_lines(**{k: pa.array([ln[k] for ln in batch]) for k in batch[0]})
    for i, line in enumerate(batch):
        a = split_line(**line)  # type: ignore[arg-type]
        got = {k: table[k][i].as_py() for k in table.column_names}
        assert got == a.__dict__


TIES = [  # amounts that land exactly on half a cent: half up, never half even or half down
    {
        "quantity": Decimal("0.001"),
        "unit_price": Decimal(5),
        "insured_price": Decimal(5),
        "benefit_rate": Decimal(100),
    },
    {
        "quantity": Decimal(1),
        "unit_price": Decimal("0.01"),
        "insured_price": Decimal("0.01"),
        "benefit_rate": Decimal(50),
    },
    {
        "quantity": Decimal("0.333"),
        "unit_price": Decimal(100005),
        "insured_price": Decimal(100005),
        "benefit_rate": Decimal(95),
    },
    {
        "quantity": Decimal(1),
        "unit_price": Decimal("0.025"),
        "insured_price": Decimal("0.025"),
        "benefit_rate": Decimal(100),
    },
]


def test_split_rounds_ties_half_up_in_both_forms() -> None:
    expected_totals = [Decimal("0.01"), Decimal("0.01"), Decimal("33301.67"), Decimal("0.03")]
    table = split_lines(**{k: pa.array([t[k] for t in TIES]) for k in TIES[0]})
    for i, tie in enumerate(TIES):
        a = split_line(**tie)
        assert a.total == expected_totals[i] == table["total"][i].as_py()
        assert a.fund == table["fund"][i].as_py()
    assert split_line(**TIES[1]).fund == Decimal("0.01")  # 0.005 rounds up


def test_split_beyond_int64_takes_the_decimal_path_with_the_same_result() -> None:
    # quantity × price × rates overflows int64 here, so the exact decimal256 path is used.
    big = {
        "quantity": Decimal("9999999.999"),
        "unit_price": Decimal("999999999999.999"),
        "insured_price": Decimal("999999999999.999"),
        "benefit_rate": Decimal("47.5"),
        "item_rate": Decimal(50),
        "service_rate": Decimal(30),
        "other_sources": Decimal("12345.67"),
    }
    small = {
        **big,
        "quantity": Decimal(1),
        "unit_price": Decimal(3),
        "insured_price": Decimal(2),
        "other_sources": Decimal("0.25"),
    }
    table = split_lines(**{k: pa.array([big[k], small[k]]) for k in big})
    for i, line in enumerate((big, small)):
        scalar = split_line(**line)  # type: ignore[arg-type]
        assert {k: table[k][i].as_py() for k in table.column_names} == scalar.__dict__


def test_split_vectorised_refuses_floats() -> None:
    with pytest.raises(TypeError, match="not float"):
        split_lines(quantity=[1.5], unit_price=[Decimal(1)], insured_price=[Decimal(1)], benefit_rate=[Decimal(80)])


def test_split_vectorised_names_the_bad_row() -> None:
    with pytest.raises(PolicyInputError, match="row 1: insured amount exceeds"):
        split_lines(
            quantity=pa.array([Decimal(1), Decimal(1)]),
            unit_price=pa.array([Decimal(100), Decimal(100)]),
            insured_price=pa.array([Decimal(100), Decimal(120)]),
            benefit_rate=pa.array([Decimal(80), Decimal(80)]),
        )


def route_codes(at: date) -> list[str]:
    return sorted(PARAMS.route_rates("route.rates", at))


@st.composite
def visits(draw: st.DrawFn, valid_only: bool = False) -> Visit:
    at = draw(dates)
    return Visit(
        benefit_digit=draw(st.sampled_from("12345" if valid_only else "123456")),
        visit_type=draw(st.sampled_from(["01", "02", "03", "04", "05", "07", "09"])),
        route_code=draw(st.sampled_from(route_codes(at) + ([] if valid_only else ["8", "3.9"]))),
        facility_level=draw(st.sampled_from(list(FacilityLevel))),
        date=at,
        in_scope_total=draw(decimals(2, 3_000_000)),
        copay_exempt=draw(st.booleans()),
        living_area=draw(st.sampled_from([None, "K1", "K2", "K3"])),
    )


def _vector_rates(params: ParameterSet, batch: list[Visit]) -> pa.Table:
    return benefit_rates(
        params,
        benefit_digit=[v.benefit_digit for v in batch],
        visit_type=[v.visit_type for v in batch],
        route_code=[v.route_code for v in batch],
        facility_level=[v.facility_level.value for v in batch],
        dates=[v.date for v in batch],
        in_scope_total=pa.array([v.in_scope_total for v in batch]),
        copay_exempt=[v.copay_exempt for v in batch],
        living_area=[v.living_area for v in batch],
    )


@SETTINGS
@given(st.lists(visits(valid_only=True), min_size=1, max_size=40))
def test_benefit_rate_scalar_equals_vectorised(batch: list[Visit]) -> None:
    priced = []
    for v in batch:
        try:
            priced.append((v, benefit_rate(PARAMS, v)))
        except PolicyInputError:
            continue  # a route code that does not apply to the visit class
    assume(priced)
    table = _vector_rates(PARAMS, [v for v, _ in priced])
    for i, (_, r) in enumerate(priced):
        assert table["rate"][i].as_py() == r.rate
        assert table["route_rate"][i].as_py() == r.route_rate
        assert table["effective_level"][i].as_py() == r.effective_level
        reasons = {k for k in ("small_visit", "primary_level", "copay_exemption") if table[k][i].as_py()}
        assert reasons == set(r.reasons)


@SETTINGS
@given(visits())
def test_bad_visits_fail_alike_in_both_forms(v: Visit) -> None:
    scalar_field = vector_field = None
    try:
        benefit_rate(PARAMS, v)
    except PolicyInputError as exc:
        scalar_field = exc.field
    try:
        _vector_rates(PARAMS, [v])
    except PolicyInputError as exc:
        vector_field = exc.field
    assert scalar_field == vector_field


@SETTINGS
@given(visits(valid_only=True), st.sampled_from("12345"), st.sampled_from("12345"))
def test_a_higher_benefit_level_never_pays_less(v: Visit, a: str, b: str) -> None:
    levels = PARAMS.percent_by_code("benefit.level_rate", v.date)
    low, high = sorted([a, b], key=lambda d: levels[d])
    lines = [Line("13", Decimal(1), Decimal(45_000)), Line("4", Decimal(10), v.in_scope_total / 10)]
    try:
        paid_low = price_visit(PARAMS, Visit(**{**v.__dict__, "benefit_digit": low}), lines).totals.fund
    except PolicyInputError:
        return
    paid_high = price_visit(PARAMS, Visit(**{**v.__dict__, "benefit_digit": high}), lines).totals.fund
    assert paid_high >= paid_low


card_numbers = st.one_of(
    st.builds(
        lambda g, d, p, n: f"{g}{d}{p}{n}",
        st.sampled_from(["DN", "HT", "TE", "CN", "LH", "QN", "GD", "ZZ", "dn"]),
        st.sampled_from("0123456789"),
        st.sampled_from(["01", "79", "92", "94", "97", "98", "99", "00"]),
        st.text("0123456789", min_size=10, max_size=10) | st.text(min_size=0, max_size=11),
    ),
    st.text(max_size=20),
    st.none(),
)


@SETTINGS
@given(st.lists(st.tuples(card_numbers, dates, st.sampled_from([None, "79000", "79001"])), min_size=1, max_size=40))
def test_card_check_scalar_equals_vectorised(rows: list[tuple[str | None, date, str | None]]) -> None:
    table = check_cards([r[0] for r in rows], PARAMS, [r[1] for r in rows], [r[2] for r in rows])
    for i, (number, at, reg) in enumerate(rows):
        c = check_card(number, PARAMS, at, reg)
        got = {k: table[k][i].as_py() for k in table.column_names}
        assert got["error"] == c.error
        assert got["portal_code"] == c.portal_code
        assert (got["group"], got["benefit_digit"], got["province"], got["bhxh_number"]) == (
            c.group,
            c.benefit_digit,
            c.province,
            c.bhxh_number,
        )
        assert got["usual_digit"] == c.usual_digit
        assert got["temporary"] == c.temporary
        assert got["unusual_benefit"] == c.unusual_benefit


citizen_ids = st.one_of(
    st.builds(
        lambda p, d, y, s: f"0{p}{d}{y}{s}",
        st.sampled_from(["01", "79", "99", "00"]),
        st.sampled_from("0123456789"),
        st.text("0123456789", min_size=2, max_size=2),
        st.text("0123456789", min_size=6, max_size=6),
    ),
    st.text("0123456789", min_size=11, max_size=13),
    st.none(),
)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            citizen_ids,
            st.dates(date(2016, 7, 1), date(2030, 1, 1)),
            st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2030, 1, 1))),
            st.sampled_from([None, "M", "F"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_citizen_id_scalar_equals_vectorised(
    rows: list[tuple[str | None, date, date | None, str | None]],
) -> None:
    births = [r[2] for r in rows]
    table = check_citizen_ids(
        [r[0] for r in rows],
        PARAMS,
        [r[1] for r in rows],
        births if all(b is not None for b in births) else None,
        [r[3] for r in rows],
    )
    use_births = all(b is not None for b in births)
    for i, (number, at, born, sex) in enumerate(rows):
        c = check_citizen_id(number, PARAMS, at, born if use_births else None, sex)
        assert table["error"][i].as_py() == c.error
        assert table["birth_year"][i].as_py() == c.birth_year
        assert table["sex"][i].as_py() == c.sex


@st.composite
def people(draw: st.DrawFn) -> tuple[str, date, int | None, int | None, str | None]:
    group = draw(st.sampled_from(["DN", "HC", "HT", "TN", "TE", "QN", "CN", "HS", "SV", "GB", "GD"]))
    month = draw(st.dates(date(2018, 12, 1), date(2027, 12, 1))).replace(day=1)
    income = draw(st.integers(0, 80_000_000)) if group in ("DN", "HC", "HT", "TN") else None
    position = draw(st.integers(1, 8)) if group == "GD" else None
    key = "CN.30a" if group == "CN" and draw(st.booleans()) else None
    return group, month, income, position, key


@SETTINGS
@given(st.lists(people(), min_size=1, max_size=40))
def test_contribution_scalar_equals_vectorised(
    rows: list[tuple[str, date, int | None, int | None, str | None]],
) -> None:
    table = monthly_contributions(
        PARAMS,
        groups=[r[0] for r in rows],
        months=[r[1] for r in rows],
        incomes=[r[2] for r in rows],
        household_positions=[r[3] for r in rows],
        subsidy_keys=[r[4] for r in rows],
    )
    for i, (group, month, income, position, key) in enumerate(rows):
        c = monthly_contribution(
            PARAMS, group=group, month=month, income=income, household_position=position, subsidy_key=key
        )
        assert {k: table[k][i].as_py() for k in table.column_names} == c.__dict__
        assert c.total == c.employer + c.person + c.state + c.social_insurance


@SETTINGS
@given(st.integers(0, 200_000_000), st.integers(0, 200_000_000), st.dates(date(2018, 12, 1), date(2027, 12, 1)))
def test_contribution_is_monotone_in_salary(a: int, b: int, month: date) -> None:
    low, high = sorted([a, b])
    month = month.replace(day=1)
    assert (
        monthly_contribution(PARAMS, group="DN", month=month, income=high).total
        >= monthly_contribution(PARAMS, group="DN", month=month, income=low).total
    )


def test_vectorised_forms_segment_rows_by_parameter_epoch() -> None:
    # Rows either side of 2026-07-01 read different base salaries in one call.
    days = [date(2026, 6, 30), date(2026, 7, 1), date(2026, 6, 30) - timedelta(days=400)]
    table = benefit_rates(
        PARAMS,
        benefit_digit=["4"] * 3,
        visit_type=["01"] * 3,
        route_code=["1.1"] * 3,
        facility_level=["basic"] * 3,
        dates=days,
        in_scope_total=pa.array([Decimal(379_000)] * 3),
    )
    assert table["small_visit"].to_pylist() == [False, True, False]


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["4", "6", "9", "11", "13"]),
            st.sampled_from([100, 70, 50, 30]),
            st.sampled_from("12345"),
            dates,
        ),
        min_size=1,
        max_size=30,
    )
)
def test_item_rate_scalar_equals_vectorised(rows: list[tuple[str, int, str, date]]) -> None:
    from bhyt.policy.split import item_rate, item_rates

    vector = item_rates(
        PARAMS,
        cost_groups=[r[0] for r in rows],
        listed_rates=[r[1] for r in rows],
        benefit_digits=[r[2] for r in rows],
        dates=[r[3] for r in rows],
    )
    for i, (group, listed, digit, at) in enumerate(rows):
        visit = Visit(digit, "01", "1.1", FacilityLevel.BASIC, at, Decimal(0))
        assert vector[i].as_py() == item_rate(
            PARAMS, Line(group, Decimal(1), Decimal(1), listed_item_rate=Decimal(listed)), digit, visit
        )


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from("123"), st.sampled_from("12345"), dates), min_size=1, max_size=30))
def test_in_scope_scalar_equals_vectorised(rows: list[tuple[str, str, date]]) -> None:
    from bhyt.policy.split import in_scope, in_scope_flags

    vector = in_scope_flags(
        PARAMS, scopes=[r[0] for r in rows], benefit_digits=[r[1] for r in rows], dates=[r[2] for r in rows]
    )
    for i, (scope, digit, at) in enumerate(rows):
        visit = Visit(digit, "01", "1.1", FacilityLevel.BASIC, at, Decimal(0))
        assert bool(vector[i]) == in_scope(PARAMS, Line("4", Decimal(1), Decimal(1), scope=scope), visit)
