"""Scopes name what exists: the 34 provinces since 2025-07-01, facility codes, citizen IDs; a facility's
province is the merged one (issue 22: 74001 was refused to the province-79 assessor, open to a "74" token)."""

from __future__ import annotations

import pytest

from bhyt.security.roles import Principal, Role, facility_province, may_read_claim


def test_a_facility_is_in_its_merged_province() -> None:
    assessor_79 = Principal("a", Role.ASSESSOR, province="79")
    assert facility_province("74001") == "79"
    assert may_read_claim(assessor_79, "74001")
    assert may_read_claim(assessor_79, "79001")
    assert not may_read_claim(assessor_79, "01001")


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ({"role": Role.ASSESSOR, "province": "74"}, "part of 79"),
        ({"role": Role.PROVINCE, "province": "99"}, "not one of the 34 provinces"),
        ({"role": Role.FACILITY, "facility": "9X001"}, "not a facility code"),
        ({"role": Role.FACILITY, "facility": "790011"}, "not a facility code"),
        ({"role": Role.CITIZEN, "citizen_id": "12345"}, "not 12 digits"),
    ],
)
def test_tokens_name_only_what_exists(scope: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Principal("s", **scope)  # type: ignore[arg-type]
