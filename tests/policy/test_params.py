"""Parameter files are validated strictly, and values are read only as at a date."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bhyt.policy.params import (
    ParameterFileError,
    ParameterNotFoundError,
    ParameterSet,
    ParameterTypeError,
    Status,
    load_parameters,
    parse_parameter,
)
from tests.scenarios.runner import RUNNERS, RecordingParameters, check

BAD = Path(__file__).parent / "bad_parameters"

# file -> (the key the error names, words the message contains)
BROKEN = {
    "unknown_key.yaml": ("values.2020-01-01.valeu", "unknown key"),
    "unknown_top_key.yaml": ("documentation", "unknown key"),
    "bad_date.yaml": ("values.2020-13-01", "not a real date"),
    "not_a_date.yaml": ("values.next year", "expected a date"),
    "wrong_type.yaml": ("values.2020-01-01.value", "whole non-negative number"),
    "float_money.yaml": ("values.2020-01-01.value", "whole non-negative number"),
    "percent_out_of_range.yaml": ("values.2020-01-01.value", "outside 0–100"),
    "overlap.yaml": ("values.2020-01-01.end", "overlaps the value starting 2021-01-01"),
    "duplicate_key.yaml": ("line 5", "duplicate key"),
    "bad_status.yaml": ("metadata.status", "official, secondary, unverified"),
    "missing_reference.yaml": ("metadata.reference", "missing"),
    "unquoted_code.yaml": ("values.2020-01-01.value", "quoted strings"),
    "end_before_start.yaml": ("values.2020-01-01.end", "before it starts"),
    "route_missing_class.yaml": ("values.2020-01-01.value.3.1", "inpatient and outpatient"),
    "bad_fraction.yaml": ("values.2020-01-01.value", "above 1"),
    "not_yaml.yaml": ("line 2", "not valid YAML"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_file_is_refused_naming_file_and_key(name: str) -> None:
    # Given a parameter file broken in one way, when it is loaded, the error names file and key.
    key, words = BROKEN[name]
    with pytest.raises(ParameterFileError) as err:
        parse_parameter("x.y", (BAD / name).read_text(encoding="utf-8"), f"x/{name}")
    assert err.value.file == f"x/{name}"
    assert err.value.key == key
    assert words in str(err.value)
    assert f"'x/{name}'" in str(err.value)


def test_every_broken_fixture_is_listed() -> None:
    assert {p.name for p in BAD.glob("*.yaml")} == set(BROKEN)


def test_loading_a_tree_with_a_broken_file_names_its_relative_path(tmp_path: Path) -> None:
    (tmp_path / "benefit").mkdir()
    (tmp_path / "benefit" / "rate.yaml").write_text((BAD / "overlap.yaml").read_text())
    with pytest.raises(ParameterFileError, match=r"'benefit/rate.yaml'"):
        load_parameters(tmp_path)


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ParameterFileError, match="no parameter files"):
        load_parameters(tmp_path)


def test_the_package_parameters_load_and_carry_sources(params: ParameterSet) -> None:
    assert len(params.names()) >= 25
    for name in params.names():
        p = params.parameter(name)
        assert p.description
        assert p.unit
        for e in p.entries:
            assert e.reference
            assert e.status in Status


def test_values_are_read_as_at_a_date(params: ParameterSet) -> None:
    assert params.money("general.base_salary", date(2026, 6, 30)) == 2_340_000
    assert params.money("general.base_salary", date(2026, 7, 1)) == 2_530_000
    assert params.percent("contribution.rate", date(2026, 7, 1)) == Decimal("4.5")


def test_a_date_before_any_value_names_the_parameter(params: ParameterSet) -> None:
    with pytest.raises(ParameterNotFoundError, match=r"'general.base_salary' has no value on 2013-06-30"):
        params.money("general.base_salary", date(2013, 6, 30))


def test_an_ended_value_is_not_read_after_its_end(params: ParameterSet) -> None:
    p = params.parameter("route.rates")
    assert p.entries[0].end == date(2024, 12, 31)
    assert p.entry_at(date(2024, 12, 31)) is p.entries[0]


def test_reading_a_parameter_as_the_wrong_kind_is_a_type_error(params: ParameterSet) -> None:
    with pytest.raises(ParameterTypeError, match="is money, read as percent"):
        params.percent("general.base_salary", date(2026, 7, 1))


def test_unknown_parameter(params: ParameterSet) -> None:
    with pytest.raises(ParameterNotFoundError, match="no such parameter"):
        params.money("general.nothing", date(2026, 7, 1))


def test_override_replaces_from_a_date_and_keeps_history(params: ParameterSet) -> None:
    what_if = params.with_override("general.reference_amount", 3_000_000, date(2027, 1, 1))
    assert what_if.money("general.reference_amount", date(2026, 12, 31)) == 2_530_000
    assert what_if.money("general.reference_amount", date(2027, 1, 1)) == 3_000_000
    assert what_if.entry("general.reference_amount", date(2027, 1, 1)).status is Status.UNVERIFIED
    assert params.money("general.reference_amount", date(2027, 1, 1)) == 2_530_000  # original untouched


def test_override_is_validated_as_its_kind(params: ParameterSet) -> None:
    with pytest.raises(ParameterFileError, match="whole non-negative number"):
        params.with_override("general.base_salary", "lots")


def test_reference_amount_equals_base_salary_while_the_law_ties_them(params: ParameterSet) -> None:
    # Law 51/2024 Art. 3(5)(b): the reference amount is the base salary until the Government decides.
    day = date(2019, 7, 1)
    while day <= date(2027, 12, 31):
        assert params.money("general.reference_amount", day) == params.money("general.base_salary", day)
        day += timedelta(days=30)


def test_the_spec_thresholds(params: ParameterSet) -> None:
    # bhyt-spec §3.3: 15% / 6 months / 45 months of the base salary.
    from bhyt.policy.benefit import copay_exemption_threshold, small_visit_threshold

    assert small_visit_threshold(params, date(2026, 6, 30)) == 351_000
    assert small_visit_threshold(params, date(2026, 7, 1)) == 379_500
    assert copay_exemption_threshold(params, date(2026, 6, 30)) == 14_040_000
    assert copay_exemption_threshold(params, date(2026, 7, 1)) == 15_180_000


def _scenario_cases() -> list[dict[str, object]]:
    import yaml

    cases = []
    for path in sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml")):
        cases += yaml.safe_load(path.read_text(encoding="utf-8"))
    return cases


def test_at_least_sixty_scenarios_of_every_kind() -> None:
    cases = _scenario_cases()
    assert len(cases) >= 60
    assert {c["kind"] for c in cases} == set(RUNNERS)


def test_scenarios_read_every_parameter_on_both_sides_of_each_effective_date(params: ParameterSet) -> None:
    # Every change of a parameter (a new value, or the end of one) is exercised by a scenario within
    # a month before it and within a month from it (a month: contributions are read on the 1st); the
    # first value by a scenario in its first month.
    recorder = RecordingParameters(params)
    for case in _scenario_cases():
        check(recorder, case)
    month = timedelta(days=31)
    missing = []
    for name in params.names():
        entries = params.parameter(name).entries
        read = sorted(at for n, at in recorder.reads if n == name)
        starts = {e.start for e in entries}
        edges = starts | {e.end + timedelta(days=1) for e in entries if e.end}
        for edge in sorted(edges):
            if edge != entries[0].start and not any(edge - month <= at < edge for at in read):
                missing.append(f"{name} before {edge}")
            if edge in starts and not any(edge <= at < edge + month for at in read):
                missing.append(f"{name} from {edge}")
    assert not missing, f"no scenario reads these parameters there: {missing}"
