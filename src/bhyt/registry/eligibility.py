"""The card check at the counter: is this person covered on this date, on which card, at what
benefit, registered where, exempt from co-payment, and which route code the visit gets here.

Looked up by card number or by the 12-digit citizen ID (the chip ID card and VNeID replace the paper
card). :class:`CardIndex` holds every card period in sorted NumPy arrays, so one lookup is two binary
searches and a few array reads: microseconds, with no database round trip at the counter.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bhyt.policy.benefit import copay_exemption_applies
from bhyt.policy.card import CARD_ERRORS, CARD_ERRORS_VI, check_card
from bhyt.policy.citizen_id import CITIZEN_ID_ERRORS, CITIZEN_ID_ERRORS_VI, check_citizen_id
from bhyt.policy.params import ParameterNotFoundError, ParameterSet
from bhyt.policy.periods import covers, in_force
from bhyt.policy.route import walk_in_route

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
    contract_from: date | None = None  # the contract with the fund (hợp đồng KCB BHYT); None: none on record
    contract_to: date | None = None

    def contracted(self, at: date) -> bool:
        """Whether the facility holds a contract with the fund on ``at``."""
        return contract_in_force(self.contract_from, self.contract_to, at)


def contract_in_force(start: date | None, end: date | None, at: date) -> bool:
    """A contract from ``start`` to ``end`` (None: open-ended) holds on ``at``; no start: no contract."""
    return start is not None and in_force(start, end, at)


class Period(NamedTuple):
    """One card period of one person: the row the counter answers from. (A tuple: the counter builds
    one or two per lookup, and a frozen dataclass costs twice as much to make.)"""

    person_id: int
    citizen_id: str | None
    card: str
    group: str
    benefit_digit: str
    valid_from: date
    valid_to: date | None
    registered_facility: str
    five_year_date: date | None
    living_area: str | None
    province: str  # the holder's
    only_card: bool = False  # the holder has no other card number: no second lookup for ``cards``


@dataclass(frozen=True)
class Eligibility:
    """The answer at the counter (``outcome``: covered, not_covered, not_found, malformed), its
    message in English (``message``) and Vietnamese (``message_vi``); :meth:`as_json` gives one."""

    outcome: str
    message: str
    message_vi: str
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
    facility_contracted: bool | None = None  # None when no facility was given

    def as_json(self, lang: str = "vi") -> dict[str, Any]:
        out = dict(self.__dict__)
        vi = out.pop("message_vi")
        if lang == "vi":
            out["message"] = vi
        out["cards"] = list(self.cards)
        for k in ("valid_from", "valid_to", "five_year_date"):
            out[k] = out[k].isoformat() if out[k] is not None else None
        return out


# A period's text packed into one fixed-width record (ASCII codes, space-padded): a lookup reads one
# array element, not a value per column. Dates are int32 days since 1970 in their own arrays.
FIELDS = (("card", 15), ("citizen_id", 12), ("group", 2), ("benefit_digit", 1), ("registered_facility", 5),
          ("living_area", 2), ("province", 2))  # fmt: skip
RECORD = sum(width for _, width in FIELDS)
_AT = [sum(w for _, w in FIELDS[:k]) for k in range(len(FIELDS) + 1)]
CARD, CID, GROUP, DIGIT, REGISTERED, AREA, PROVINCE = (slice(a, b) for a, b in itertools.pairwise(_AT))
EPOCH = date(1970, 1, 1).toordinal()
NO_DAY = int(np.iinfo(np.int32).max)


class CardIndex:
    """Card periods sorted by card number and by citizen ID; ``copay`` is the co-payment each person
    has paid in each year (đồng, from assessed claims), for the 5-year exemption's threshold.

    Changes recorded after the index was built (a card issued, renewed, lapsed, a new registered
    facility) are an overlay: :meth:`with_person` returns a new index in which one person's periods
    replace theirs in the arrays, so the service swaps indexes without rebuilding ten million rows."""

    def __init__(self, periods: pa.Table, facilities: list[Facility], copay: dict[tuple[int, int], int]) -> None:
        t = periods.select(list(COLUMNS))
        self.size = t.num_rows
        self._person = t.column("person_id").to_numpy(zero_copy_only=False).astype(np.int64)
        self._from = _days(t.column("valid_from"), 0)
        self._to = _days(t.column("valid_to"), NO_DAY)
        self._five = _days(t.column("five_year_date"), NO_DAY)
        raw = _records(t)
        self._rec = raw.view(f"S{RECORD}").ravel()
        card, cid = np.ascontiguousarray(raw[:, CARD]), np.ascontiguousarray(raw[:, CID])
        self._card, self._cid = card.view("S15").ravel(), cid.view("S12").ravel()
        self._by_card = np.lexsort((self._from, self._card))
        self._by_cid = np.lexsort((self._from, self._cid))
        self._cards_sorted = self._card[self._by_card]
        self._cids_sorted = self._cid[self._by_cid]
        self._only_card = _only_card(self._cids_sorted, self._card[self._by_cid], self._by_cid)
        self.facilities = {f.code: f for f in facilities}
        self.copay = copay
        self._replaced: frozenset[int] = frozenset()
        self._extra_card: dict[str, tuple[Period, ...]] = {}
        self._extra_cid: dict[str, tuple[Period, ...]] = {}
        self._rates: dict[date, Mapping[str, Decimal]] = {}

    def with_person(self, person_id: int, periods: list[Period]) -> CardIndex:
        """A copy in which ``periods`` are all of ``person_id``'s card periods (the arrays are shared)."""
        new = copy.copy(self)
        new._replaced = self._replaced | {person_id}
        new._extra_card = _without(self._extra_card, person_id)
        new._extra_cid = _without(self._extra_cid, person_id)
        only = len({p.card for p in periods}) == 1
        for p in periods:
            p = p._replace(only_card=only)
            new._extra_card[p.card] = (*new._extra_card.get(p.card, ()), p)
            if p.citizen_id:
                new._extra_cid[p.citizen_id] = (*new._extra_cid.get(p.citizen_id, ()), p)
        new._rates = {}
        return new

    @property
    def overlaid(self) -> int:
        """People whose periods come from the overlay (changed since the arrays were built)."""
        return len(self._replaced)

    def _period(self, i: int) -> Period:
        r = self._rec[i].decode()
        return Period(
            person_id=int(self._person[i]),
            citizen_id=r[CID].rstrip() or None,
            card=r[CARD].rstrip(),
            group=r[GROUP].rstrip(),
            benefit_digit=r[DIGIT],
            valid_from=_date(int(self._from[i])) or date.min,
            valid_to=_date(int(self._to[i])),
            registered_facility=r[REGISTERED].rstrip(),
            five_year_date=_date(int(self._five[i])),
            living_area=r[AREA].rstrip() or None,
            province=r[PROVINCE].rstrip(),
            only_card=bool(self._only_card[i]),
        )

    def _lookup(self, sorted_keys: np.ndarray, order: np.ndarray, key: str,
                extra: dict[str, tuple[Period, ...]]) -> list[Period]:  # fmt: skip
        k = key.encode()
        rows = order[sorted_keys.searchsorted(k, "left") : sorted_keys.searchsorted(k, "right")]
        found = [self._period(int(i)) for i in rows]
        if self._replaced:
            found = [p for p in found if p.person_id not in self._replaced]
        if key in extra:
            found = sorted((*found, *extra[key]), key=lambda p: p.valid_from)
        return found

    def periods_for_card(self, number: str) -> list[Period]:
        """Every period on this card number, oldest first."""
        return self._lookup(self._cards_sorted, self._by_card, number, self._extra_card)

    def periods_for_citizen(self, citizen_id: str) -> list[Period]:
        """Every period of the holder of this citizen ID, oldest first."""
        return self._lookup(self._cids_sorted, self._by_cid, citizen_id, self._extra_cid)

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
        try:
            return self._check(params, at, card, citizen_id, facility, inpatient)
        except ParameterNotFoundError as exc:  # a date before (or after) the rules the registry holds
            return Eligibility(
                "malformed",
                f"date {at}: no rules of cover in force then ({exc})",
                f"ngày {at}: chưa có quy định về thẻ BHYT có hiệu lực ({exc})",
            )

    def _check(self, params: ParameterSet, at: date, card: str | None, citizen_id: str | None, facility: str | None,
               inpatient: bool) -> Eligibility:  # fmt: skip
        if card:
            checked = check_card(card, params, at)
            if checked.error is not None:
                return Eligibility(
                    "malformed",
                    f"card {card!r}: {CARD_ERRORS[checked.error][1]}",
                    f"thẻ {card!r}: {CARD_ERRORS_VI[checked.error]}",
                )
            periods = self.periods_for_card(card)
        elif citizen_id:
            cid = check_citizen_id(citizen_id, params, at)
            if cid.error is not None:
                return Eligibility(
                    "malformed",
                    f"citizen ID {citizen_id!r}: {CITIZEN_ID_ERRORS[cid.error]}",
                    f"số định danh {citizen_id!r}: {CITIZEN_ID_ERRORS_VI[cid.error]}",
                )
            periods = self.periods_for_citizen(citizen_id)
        else:
            return Eligibility(
                "malformed",
                "give a card number or a 12-digit citizen ID",
                "nhập mã thẻ BHYT hoặc số định danh cá nhân 12 chữ số",
            )
        if facility is not None and facility not in self.facilities:
            return Eligibility(
                "malformed",
                f"facility {facility!r} is not a facility in the registry",
                f"cơ sở {facility!r} không có trong danh mục cơ sở KCB",
            )
        if not periods:
            return Eligibility(
                "not_found",
                "no card or person with this number in the registry",
                "không tìm thấy thẻ hoặc người có số này",
            )
        valid = [p for p in periods if covers(p, at)]
        if valid:
            return self._answer(
                "covered", ("covered", "thẻ còn giá trị sử dụng"), valid[-1], params, at, facility, inpatient
            )
        started = [p for p in periods if p.valid_from <= at]  # the last period before the date, else the next one
        nearest = started[-1] if started else periods[0]
        return self._answer(
            "not_covered",
            ("no card valid on this date", "không có thẻ còn giá trị vào ngày này"),
            nearest,
            params,
            at,
            facility,
            inpatient,
        )

    def _level_rates(self, params: ParameterSet, at: date) -> Mapping[str, Decimal]:
        if at not in self._rates:  # the same few dates all day at the counter
            self._rates[at] = params.percent_by_code("benefit.level_rate", at)
        return self._rates[at]

    def _answer(self, outcome: str, messages: tuple[str, str], p: Period, params: ParameterSet, at: date,
                facility: str | None, inpatient: bool) -> Eligibility:  # fmt: skip
        if p.only_card or not p.citizen_id:
            cards: tuple[str, ...] = (p.card,)
        else:
            cards = tuple(dict.fromkeys(q.card for q in self.periods_for_citizen(p.citizen_id)))
        rates = self._level_rates(params, at)
        paid = self.copay.get((p.person_id, at.year), 0)
        covered = outcome == "covered"
        route, contracted = None, None
        if facility is not None:
            f = self.facilities[facility]
            contracted = f.contracted(at)
            if covered and not contracted:
                messages = (
                    f"covered, but facility {facility} holds no contract with the fund on {at}: emergencies only",
                    f"thẻ còn giá trị, nhưng cơ sở {facility} không có hợp đồng KCB BHYT ngày {at}: chỉ cấp cứu",
                )
            elif covered:
                home = self.facilities.get(p.registered_facility)
                route = walk_in_route(params, at, f.kind, f.points, inpatient, p.living_area is not None,
                                      registered_here=p.registered_facility == facility,
                                      same_province=home is not None and home.province == f.province)  # fmt: skip
        return Eligibility(
            outcome=outcome,
            message=messages[0],
            message_vi=messages[1],
            covered=covered,
            card=p.card,
            cards=cards,
            citizen_id=p.citizen_id,
            province=p.province,
            group=p.group,
            benefit_digit=p.benefit_digit,
            benefit_percent=int(rates[p.benefit_digit]) if p.benefit_digit in rates else None,
            valid_from=p.valid_from,
            valid_to=p.valid_to,
            registered_facility=p.registered_facility,
            five_year_date=p.five_year_date,
            copay_this_year=paid,
            copay_exempt=covered and copay_exemption_applies(params, at, p.five_year_date, Decimal(paid)),
            route_code=route,
            facility_contracted=contracted,
        )


def _only_card(cids: np.ndarray, cards: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Per row (in the table's order): whether every period with its citizen ID has its card number.
    ``cids``, ``cards``: both in citizen-ID order, ``order`` that order's row numbers."""
    out = np.ones(cids.size, bool)
    if cids.size < 2:
        return out
    same = cids[1:] == cids[:-1]
    group = np.concatenate(([0], np.cumsum(~same)))
    several = np.zeros(int(group[-1]) + 1, bool)
    several[group[1:][same & (cards[1:] != cards[:-1])]] = True
    out[order] = ~several[group]
    return out


def _without(extra: dict[str, tuple[Period, ...]], person_id: int) -> dict[str, tuple[Period, ...]]:
    out = {}
    for key, periods in extra.items():
        if kept := tuple(p for p in periods if p.person_id != person_id):
            out[key] = kept
    return out


def _date(days: int) -> date | None:
    return None if days == NO_DAY else date.fromordinal(EPOCH + days)


def _days(column: pa.ChunkedArray, default: int) -> np.ndarray:
    days: pa.ChunkedArray = pc.fill_null(column.cast(pa.date32()).cast(pa.int32()), default)
    return np.asarray(days.to_numpy(), np.int32)


def _records(t: pa.Table) -> np.ndarray:
    """The text columns as one (rows, RECORD) uint8 array; a value wider than its field is an error."""
    parts = []
    for name, width in FIELDS:
        col = pc.fill_null(t.column(name).combine_chunks(), "")
        if len(col) and pc.max(pc.utf8_length(col)).as_py() > width:
            raise ValueError(f"card periods: a {name} longer than {width} characters")
        parts.append(pc.utf8_rpad(col, width, " "))
    if not len(t):
        return np.zeros((0, RECORD), np.uint8)
    joined = pc.binary_join_element_wise(*parts, "")
    fixed = joined.cast(pa.binary()).cast(pa.binary(RECORD))  # fails on non-ASCII text: codes are ASCII
    data = fixed.buffers()[1]
    return np.frombuffer(data, np.uint8, count=len(fixed) * RECORD, offset=fixed.offset * RECORD).reshape(-1, RECORD)
