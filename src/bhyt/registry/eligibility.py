"""The card check at the counter: is this person covered on this date, on which card, at what
benefit, registered where, exempt from co-payment, and which route code the visit gets here.

Looked up by card number or by the 12-digit citizen ID (the chip ID card and VNeID replace the paper
card). :class:`CardIndex` holds every card period in sorted NumPy arrays, so one lookup is two binary
searches and a few array reads: microseconds, with no database round trip at the counter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bhyt.policy.benefit import copay_exemption_applies
from bhyt.policy.card import CARD_ERRORS, check_card
from bhyt.policy.citizen_id import CITIZEN_ID_ERRORS, check_citizen_id
from bhyt.policy.params import ParameterSet
from bhyt.policy.route import walk_in_route

NO_END = np.datetime64("9999-12-31", "D")
VIETNAM = timezone(timedelta(hours=7), "ICT")


def today() -> date:
    """The date at the counter (Vietnam's time, whatever the server's zone)."""
    return datetime.now(VIETNAM).date()


# One row per card period; the registry's tables or bhyt synth's registry files give these columns.
COLUMNS = (
    "person_id", "citizen_id", "card", "group", "benefit_digit", "valid_from", "valid_to",
    "registered_facility", "five_year_date", "living_area", "province",
)  # fmt: skip


@dataclass(frozen=True)
class Facility:
    code: str
    province: str
    kind: str
    level: str
    points: str | None


@dataclass(frozen=True)
class Eligibility:
    """The answer at the counter (``outcome``: covered, not_covered, not_found, malformed)."""

    outcome: str
    message: str
    covered: bool = False
    card: str | None = None
    cards: tuple[str, ...] = ()
    citizen_id: str | None = None
    province: str | None = None  # the holder's
    group: str | None = None
    benefit_digit: str | None = None
    benefit_percent: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    registered_facility: str | None = None
    five_year_date: date | None = None
    copay_this_year: int = 0
    copay_exempt: bool = False
    route_code: str | None = None

    def as_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["cards"] = list(self.cards)
        for k in ("valid_from", "valid_to", "five_year_date"):
            out[k] = out[k].isoformat() if out[k] is not None else None
        return out


class CardIndex:
    """Card periods sorted by card number and by citizen ID; ``copay`` is the co-payment each person
    has paid in each year (đồng, from assessed claims), for the 5-year exemption's threshold."""

    def __init__(self, periods: pa.Table, facilities: list[Facility], copay: dict[tuple[int, int], int]) -> None:
        t = periods.select(list(COLUMNS))
        self.size = t.num_rows
        self._person = t.column("person_id").to_numpy(zero_copy_only=False).astype(np.int64)
        self._card = np.array(t.column("card").to_pylist(), dtype="S15")
        self._cid = np.array(pc.fill_null(t.column("citizen_id"), "").to_pylist(), dtype="S12")
        self._from = _days(t.column("valid_from"), np.datetime64("0001-01-01", "D"))
        self._to = _days(t.column("valid_to"), NO_END)
        text = ("group", "benefit_digit", "registered_facility", "living_area", "citizen_id", "card", "province")
        # Arrow columns, read one value at a time: Python objects for ten million people would not fit.
        self._cols = {k: t.column(k).combine_chunks() for k in (*text, "five_year_date", "valid_from", "valid_to")}
        self._by_card = np.lexsort((self._from, self._card))
        self._by_cid = np.lexsort((self._from, self._cid))
        self._cards_sorted = self._card[self._by_card]
        self._cids_sorted = self._cid[self._by_cid]
        self.facilities = {f.code: f for f in facilities}
        self.copay = copay

    def _get(self, column: str, i: int) -> Any:
        return self._cols[column][i].as_py()

    def rows_for_card(self, number: str) -> np.ndarray:
        key = number.encode()
        lo, hi = np.searchsorted(self._cards_sorted, key, "left"), np.searchsorted(self._cards_sorted, key, "right")
        return self._by_card[lo:hi]

    def rows_for_citizen(self, citizen_id: str) -> np.ndarray:
        key = citizen_id.encode()
        lo, hi = np.searchsorted(self._cids_sorted, key, "left"), np.searchsorted(self._cids_sorted, key, "right")
        return self._by_cid[lo:hi]

    def check(
        self,
        params: ParameterSet,
        at: date,
        card: str | None = None,
        citizen_id: str | None = None,
        facility: str | None = None,
        inpatient: bool = False,
    ) -> Eligibility:
        """The answer for one card number or citizen ID on ``at`` (at ``facility`` when given)."""
        if card:
            checked = check_card(card, params, at)
            if checked.error is not None:
                return Eligibility("malformed", f"card {card!r}: {CARD_ERRORS[checked.error][1]}")
            rows = self.rows_for_card(card)
        elif citizen_id:
            cid = check_citizen_id(citizen_id, params, at)
            if cid.error is not None:
                return Eligibility("malformed", f"citizen ID {citizen_id!r}: {CITIZEN_ID_ERRORS[cid.error]}")
            rows = self.rows_for_citizen(citizen_id)
        else:
            return Eligibility("malformed", "give a card number or a 12-digit citizen ID")
        if facility is not None and facility not in self.facilities:
            return Eligibility("malformed", f"facility {facility!r} is not a contracted facility in the registry")
        if rows.size == 0:
            return Eligibility("not_found", "no card or person with this number in the registry")
        day = np.datetime64(at, "D")
        valid = rows[(self._from[rows] <= day) & (day <= self._to[rows])]
        if valid.size:
            return self._answer("covered", "covered", int(valid[-1]), params, at, facility, inpatient)
        started = rows[self._from[rows] <= day]  # the last period before the date, else the next one
        nearest = int(started[-1] if started.size else rows[0])
        return self._answer("not_covered", "no card valid on this date", nearest, params, at, facility, inpatient)

    def _answer(self, outcome: str, message: str, i: int, params: ParameterSet, at: date, facility: str | None,
                inpatient: bool) -> Eligibility:  # fmt: skip
        person = int(self._person[i])
        citizen = self._get("citizen_id", i)
        own = self.rows_for_citizen(citizen) if citizen else np.array([i])
        cards = tuple(dict.fromkeys(self._get("card", j) for j in own))
        digit = self._get("benefit_digit", i)
        rates = params.percent_by_code("benefit.level_rate", at)
        paid = self.copay.get((person, at.year), 0)
        five = self._get("five_year_date", i)
        covered = outcome == "covered"
        route = None
        if covered and facility is not None:
            registered = self._get("registered_facility", i)
            f = self.facilities[facility]
            home = self.facilities.get(registered)
            route = walk_in_route(params, at, f.kind, f.points, inpatient, self._get("living_area", i) is not None,
                                  registered_here=registered == facility,
                                  same_province=home is not None and home.province == f.province)  # fmt: skip
        return Eligibility(
            outcome=outcome,
            message=message,
            covered=covered,
            card=self._get("card", i),
            cards=cards,
            citizen_id=self._get("citizen_id", i),
            province=self._get("province", i),
            group=self._get("group", i),
            benefit_digit=digit,
            benefit_percent=int(rates[digit]) if digit in rates else None,
            valid_from=self._get("valid_from", i),
            valid_to=self._get("valid_to", i),
            registered_facility=self._get("registered_facility", i),
            five_year_date=five,
            copay_this_year=paid,
            copay_exempt=covered and copay_exemption_applies(params, at, five, Decimal(paid)),
            route_code=route,
        )


def _days(column: pa.ChunkedArray, default: np.datetime64) -> np.ndarray:
    values = column.cast(pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[D]")
    return np.where(np.isnat(values), default, values)
