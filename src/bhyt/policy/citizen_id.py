"""The 12-digit citizen ID (số định danh cá nhân / CCCD), which now stands in for the card.

Digits 1–3: province of birth registration ("0" + the 2-digit province code); digit 4: century
of birth and sex (parameter ``identity.citizen_id_century_sex``, unverified); digits 5–6: the last
two digits of the birth year; digits 7–12: a serial. The check is structural: it cannot tell
whether the number was ever issued, only whether it could have been, and whether it agrees with a
birth date and sex when they are given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bhyt.errors import PolicyInputError
from bhyt.policy import _vector
from bhyt.policy.params import ParameterSet
from bhyt.policy.provinces import province_codes

PARAMETER = "identity.citizen_id_century_sex"

CITIZEN_ID_ERRORS = {
    "citizen_id.missing": "no citizen ID",
    "citizen_id.format": "a citizen ID is exactly 12 digits",
    "citizen_id.province": "digits 1–3 are not a province of birth registration",
    "citizen_id.birth_year": "the birth year (digits 4–6) is after the date of the check",
    "citizen_id.birth_mismatch": "the birth year does not match the birth date given",
    "citizen_id.sex_mismatch": "digit 4 does not match the sex given",
}
CITIZEN_ID_ERRORS_VI = {
    "citizen_id.missing": "không có số định danh cá nhân",
    "citizen_id.format": "số định danh cá nhân có đúng 12 chữ số",
    "citizen_id.province": "chữ số 1–3 không phải mã tỉnh nơi đăng ký khai sinh",
    "citizen_id.birth_year": "năm sinh (chữ số 4–6) sau ngày kiểm tra",
    "citizen_id.birth_mismatch": "năm sinh không khớp ngày sinh đã cho",
    "citizen_id.sex_mismatch": "chữ số thứ 4 không khớp giới tính đã cho",
}
_ORDER = tuple(CITIZEN_ID_ERRORS)
_TWELVE = re.compile(r"^[0-9]{12}$")


@dataclass(frozen=True)
class CitizenIdCheck:
    number: str | None
    error: str | None
    birth_year: int | None = None
    sex: str | None = None  # "M" or "F"
    province: str | None = None

    @property
    def valid(self) -> bool:
        return self.error is None


def _decode(number: str, table: dict[str, str]) -> tuple[int, str]:
    century_sex = table[number[3]]
    return int(century_sex[:2]) * 100 + int(number[4:6]), century_sex[2]


def check_citizen_id(
    number: str | None,
    params: ParameterSet,
    at: date,
    birth_date: date | None = None,
    sex: str | None = None,
) -> CitizenIdCheck:
    """Check a citizen ID as at ``at``; ``sex`` is "M" or "F" (GIOI_TINH 1 / 2) when known.

    >>> from bhyt.policy.params import default_parameters
    >>> check_citizen_id("079203001234", default_parameters(), date(2026, 1, 1))
    CitizenIdCheck(number='079203001234', error=None, birth_year=2003, sex='M', province='79')
    """
    if not number:
        return CitizenIdCheck(number, "citizen_id.missing")
    if not _TWELVE.match(number):
        return CitizenIdCheck(number, "citizen_id.format")
    if number[0] != "0" or number[1:3] not in province_codes():
        return CitizenIdCheck(number, "citizen_id.province")
    year, id_sex = _decode(number, dict(params.code_by_code(PARAMETER, at)))
    if year > at.year:
        return CitizenIdCheck(number, "citizen_id.birth_year")
    if birth_date is not None and birth_date.year != year:
        return CitizenIdCheck(number, "citizen_id.birth_mismatch")
    if sex is not None and sex != id_sex:
        return CitizenIdCheck(number, "citizen_id.sex_mismatch")
    return CitizenIdCheck(number, None, year, id_sex, number[1:3])


def parse_citizen_id(number: str, params: ParameterSet, at: date) -> CitizenIdCheck:
    """A valid citizen ID's parts; raises :class:`PolicyInputError` naming what is wrong."""
    check = check_citizen_id(number, params, at)
    if check.error is not None:
        raise PolicyInputError("citizen_id", number, CITIZEN_ID_ERRORS[check.error])
    return check


def check_citizen_ids(
    numbers: object,
    params: ParameterSet,
    at: object,
    birth_dates: object | None = None,
    sexes: object | None = None,
) -> pa.Table:
    """Vectorised :func:`check_citizen_id`: columns ``error``, ``birth_year``, ``sex``, ``province``."""
    arr = _vector.strings(numbers)
    n = len(arr)
    days = _vector.as_days(at, n)
    fmt_ok = np.asarray(pc.fill_null(pc.match_substring_regex(arr, "^[0-9]{12}$"), False))
    missing = np.asarray(pc.fill_null(pc.equal(pc.utf8_length(arr), 0), True))
    prov = pc.utf8_slice_codeunits(arr, 1, 3)
    prov_ok = np.asarray(
        pc.fill_null(pc.and_(pc.starts_with(arr, "0"), pc.is_in(prov, pa.array(sorted(province_codes())))), False)
    )
    safe = pc.if_else(pa.array(fmt_ok), arr, pa.scalar("0" * 12))
    digit = np.asarray(pc.cast(pc.utf8_slice_codeunits(safe, 3, 4), pa.int64()))
    yy = np.asarray(pc.cast(pc.utf8_slice_codeunits(safe, 4, 6), pa.int64()))
    year = np.zeros(n, np.int64)
    sex = np.full(n, None, dtype=object)
    for when, rows in _vector.by_epoch(params, (PARAMETER,), days):
        table = params.code_by_code(PARAMETER, when)
        century = np.array([int(table[str(d)][:2]) * 100 for d in range(10)])
        sex_of = np.array([table[str(d)][2] for d in range(10)], dtype=object)
        year[rows] = century[digit[rows]] + yy[rows]
        sex[rows] = sex_of[digit[rows]]
    at_year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    checks = {
        "citizen_id.missing": missing,
        "citizen_id.format": ~fmt_ok,
        "citizen_id.province": ~prov_ok,
        "citizen_id.birth_year": year > at_year,
        "citizen_id.birth_mismatch": np.zeros(n, bool),
        "citizen_id.sex_mismatch": np.zeros(n, bool),
    }
    if birth_dates is not None:
        born = _vector.as_days(birth_dates, n)
        born_year = born.astype("datetime64[Y]").astype(np.int64) + 1970
        checks["citizen_id.birth_mismatch"] = ~np.isnat(born) & (born_year != year)  # unknown birth: no check
    if sexes is not None:
        given = np.asarray(_vector.strings(sexes).to_pylist(), dtype=object)
        checks["citizen_id.sex_mismatch"] = np.array(
            [g is not None and g != s for g, s in zip(given, sex, strict=True)], bool
        )
    error = np.full(n, None, dtype=object)
    for code in reversed(_ORDER):
        error[checks[code]] = code
    valid = error == None  # noqa: E711
    return pa.table(
        {
            "error": pa.array(error, pa.string()),
            "birth_year": pa.array([int(y) if v else None for y, v in zip(year, valid, strict=True)], pa.int32()),
            "sex": pa.array([s if v else None for s, v in zip(sex, valid, strict=True)], pa.string()),
            "province": pc.if_else(pa.array(valid), prov, pa.nulls(n, pa.string())),
        }
    )
