"""The 15-character health-insurance card number (mã thẻ BHYT), checked as at a date.

Layout (bhyt-spec §2.1): characters 1–2 the participant group code, 3 the benefit digit (1–5),
4–5 the province code of the issuing office (an old or new administrative code, or 97/98 for the
defence and police offices), 6–15 the 10-digit BHXH number (the personal health ID).
A temporary number (TE1 for a child under 6 without a card, HG4 for an organ donor) has the
same layout; its registered facility is the province code followed by "000".

Every failure has a stable error code and the card-check result code (maKetQua) the national
portal gives for it, so the counter screen and the assessment report the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bhyt.errors import PolicyInputError
from bhyt.policy import _vector
from bhyt.policy.params import ParameterSet
from bhyt.policy.provinces import province_codes

CARD_PARAMETERS = (
    "benefit.usual_level_by_group",
    "benefit.level_rate",
    "card.special_province_codes",
    "card.temporary_groups",
)

# error code -> (portal maKetQua, English message)
CARD_ERRORS: dict[str, tuple[str, str]] = {
    "card.missing": ("051", "no card number"),
    "card.length": ("051", "a card number has exactly 15 characters"),
    "card.group": ("051", "characters 1–2 are not a known participant group code"),
    "card.benefit_digit": ("053", "character 3 (benefit digit) must be 1, 2, 3, 4 or 5"),
    "card.province": ("052", "characters 4–5 are not a province code (63/34-province lists, 97, 98)"),
    "card.bhxh_number": ("051", "characters 6–15 (BHXH number) must be 10 digits"),
    "card.temporary": ("051", "a temporary registration (province + '000') needs a TE1 or HG4 number"),
}
# The same reasons in Vietnamese (the counter's language), by error code.
CARD_ERRORS_VI: dict[str, str] = {
    "card.missing": "không có mã thẻ",
    "card.length": "mã thẻ phải có đúng 15 ký tự",
    "card.group": "ký tự 1–2 không phải mã đối tượng tham gia",
    "card.benefit_digit": "ký tự 3 (mức hưởng) phải là 1, 2, 3, 4 hoặc 5",
    "card.province": "ký tự 4–5 không phải mã tỉnh (danh mục 63/34 tỉnh, 97, 98)",
    "card.bhxh_number": "ký tự 6–15 (mã số BHXH) phải là 10 chữ số",
    "card.temporary": "mã tạm (mã tỉnh + '000') chỉ dùng cho thẻ TE1 hoặc HG4",
}
_ORDER = tuple(CARD_ERRORS)


@dataclass(frozen=True)
class CardCheck:
    """The outcome of checking one card number; ``error`` is None when it is valid."""

    number: str | None
    error: str | None
    group: str | None = None
    benefit_digit: str | None = None
    province: str | None = None
    bhxh_number: str | None = None
    usual_digit: str | None = None
    temporary: bool = False

    @property
    def valid(self) -> bool:
        return self.error is None

    @property
    def unusual_benefit(self) -> bool:
        """The digit differs from the group's usual one: worth a look, never a reason to refuse."""
        return self.valid and self.usual_digit != self.benefit_digit

    @property
    def portal_code(self) -> str:
        """The portal's maKetQua for this outcome ("000" when valid)."""
        return "000" if self.error is None else CARD_ERRORS[self.error][0]

    @property
    def message(self) -> str:
        if self.error is None:
            return "valid"
        return f"card {self.number!r}: {CARD_ERRORS[self.error][1]}"


class CardError(PolicyInputError):
    """A card number that fails its check."""

    code = "policy.card"

    def __init__(self, check: CardCheck) -> None:
        self.check = check
        assert check.error is not None
        PolicyInputError.__init__(self, "card", check.number, CARD_ERRORS[check.error][1])


@dataclass(frozen=True)
class _Lists:
    usual: dict[str, str]
    digits: frozenset[str]
    provinces: frozenset[str]
    temporary: frozenset[str]


@lru_cache(maxsize=1024)
def _lists(params: ParameterSet, at: date) -> _Lists:
    """The lists a card is checked against on ``at`` (parameter sets are immutable: cached)."""
    return _Lists(
        usual=dict(params.code_by_code("benefit.usual_level_by_group", at)),
        digits=frozenset(params.percent_by_code("benefit.level_rate", at)),
        provinces=province_codes() | frozenset(params.code_list("card.special_province_codes", at)),
        temporary=frozenset(params.code_list("card.temporary_groups", at)),
    )


_TEN_DIGITS = re.compile(r"^[0-9]{10}$")


def check_card(number: str | None, params: ParameterSet, at: date, registered_facility: str | None = None) -> CardCheck:
    """Check one card number as at ``at``; with ``registered_facility`` (MA_DKBD) also whether a
    temporary registration carries a temporary number.

    >>> from bhyt.policy.params import default_parameters
    >>> c = check_card("DN4797912345678", default_parameters(), date(2026, 7, 1))
    >>> c.valid, c.group, c.benefit_digit, c.province, c.bhxh_number
    (True, 'DN', '4', '79', '7912345678')
    >>> check_card("DN9797912345678", default_parameters(), date(2026, 7, 1)).error
    'card.benefit_digit'
    """
    if not number:
        return CardCheck(number, "card.missing")
    if len(number) != 15:
        return CardCheck(number, "card.length")
    lists = _lists(params, at)
    group, digit, province, bhxh = number[:2], number[2], number[3:5], number[5:]
    if group not in lists.usual:
        return CardCheck(number, "card.group")
    if digit not in lists.digits:
        return CardCheck(number, "card.benefit_digit")
    if province not in lists.provinces:
        return CardCheck(number, "card.province")
    if not _TEN_DIGITS.match(bhxh):
        return CardCheck(number, "card.bhxh_number")
    temporary = registered_facility is not None and registered_facility.endswith("000")
    if temporary and number[:3] not in lists.temporary:
        return CardCheck(number, "card.temporary")
    return CardCheck(number, None, group, digit, province, bhxh, lists.usual[group], temporary)


def parse_card(number: str, params: ParameterSet, at: date) -> CardCheck:
    """A valid card's parts; raises :class:`CardError` naming what is wrong otherwise."""
    check = check_card(number, params, at)
    if check.error is not None:
        raise CardError(check)
    return check


def check_cards(
    numbers: object, params: ParameterSet, at: object, registered_facilities: object | None = None
) -> pa.Table:
    """Vectorised :func:`check_card` over Arrow/numpy/list columns; ``at`` is one date or one per row.

    Returns a table with columns ``error`` (null when valid), ``group``, ``benefit_digit``,
    ``province``, ``bhxh_number`` and ``usual_digit`` (null when invalid), ``temporary``,
    ``unusual_benefit``, ``portal_code``.
    """
    arr = _vector.strings(numbers)
    n = len(arr)
    days = _vector.as_days(at, n)
    regs = _vector.strings(registered_facilities) if registered_facilities is not None else None
    group = pc.utf8_slice_codeunits(arr, 0, 2)
    digit = pc.utf8_slice_codeunits(arr, 2, 3)
    province = pc.utf8_slice_codeunits(arr, 3, 5)
    bhxh = pc.utf8_slice_codeunits(arr, 5, 15)
    prefix = pc.utf8_slice_codeunits(arr, 0, 3)
    missing = pc.fill_null(pc.equal(pc.utf8_length(arr), 0), True)
    bad_length = pc.fill_null(pc.not_equal(pc.utf8_length(arr), 15), True)
    bad_bhxh = pc.invert(pc.fill_null(pc.match_substring_regex(bhxh, "^[0-9]{10}$"), False))
    temporary = pc.fill_null(pc.ends_with(regs, "000"), False) if regs is not None else pa.repeat(False, n)
    checks = {
        "card.missing": np.asarray(missing),
        "card.length": np.asarray(bad_length),
        "card.bhxh_number": np.asarray(bad_bhxh),
        "card.group": np.zeros(n, bool),
        "card.benefit_digit": np.zeros(n, bool),
        "card.province": np.zeros(n, bool),
        "card.temporary": np.zeros(n, bool),
    }
    usual = np.empty(n, dtype=object)
    for when, rows in _vector.by_epoch(params, CARD_PARAMETERS, days):
        lists = _lists(params, when)
        take = pa.array(rows)
        g = pc.take(group, take)
        checks["card.group"][rows] = ~np.asarray(pc.fill_null(pc.is_in(g, pa.array(list(lists.usual))), False))
        checks["card.benefit_digit"][rows] = ~np.asarray(
            pc.fill_null(pc.is_in(pc.take(digit, take), pa.array(sorted(lists.digits))), False)
        )
        checks["card.province"][rows] = ~np.asarray(
            pc.fill_null(pc.is_in(pc.take(province, take), pa.array(sorted(lists.provinces))), False)
        )
        not_temp_prefix = ~np.asarray(
            pc.fill_null(pc.is_in(pc.take(prefix, take), pa.array(sorted(lists.temporary))), False)
        )
        checks["card.temporary"][rows] = np.asarray(pc.take(temporary, take)) & not_temp_prefix
        usual[rows] = [lists.usual.get(x) for x in g.to_pylist()]
    error = np.full(n, None, dtype=object)
    for code in reversed(_ORDER):  # the first failing check in _ORDER wins
        error[checks[code]] = code
    valid = pa.array(error == None)  # noqa: E711 - elementwise on an object array
    usual_col = pc.if_else(valid, pa.array(usual, pa.string()), pa.nulls(n, pa.string()))
    digit_col = pc.if_else(valid, digit, pa.nulls(n, pa.string()))
    return pa.table(
        {
            "error": pa.array(error, pa.string()),
            "group": pc.if_else(valid, group, pa.nulls(n, pa.string())),
            "benefit_digit": digit_col,
            "province": pc.if_else(valid, province, pa.nulls(n, pa.string())),
            "bhxh_number": pc.if_else(valid, bhxh, pa.nulls(n, pa.string())),
            "usual_digit": usual_col,
            "temporary": pc.and_(valid, temporary),
            "unusual_benefit": pc.fill_null(pc.not_equal(usual_col, digit_col), False),
            "portal_code": pa.array(["000" if e is None else CARD_ERRORS[e][0] for e in error], pa.string()),
        }
    )
