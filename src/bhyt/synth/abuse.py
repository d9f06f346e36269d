"""Labelled abuse and error, injected into a chunk's episodes before they are priced.

Each kind is made the way it happens (calibration.md §7.2): a borrowed card used at a distant
facility the same day, made-up admissions, a claim sent twice, two inpatient stays that overlap,
a pricier service than the diagnosis needs, a test panel billed as its parts, a stay stretched,
a price above the approved list, a service the patient's sex or age rules out, care outside the
card's validity, a self-referral claimed as right-route, a patient sent back and forth between two
hospitals by referral papers (ping-pong), a patient called back again and again for the same
complaint, a prescription inflated or padded with a costly "tonic", and a facility that from one
month on pads nine in ten of its visits with tests (a sudden change against its own past and its peers).
The truth goes to the labels file, which the assessment never reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bhyt.synth import reference as ref
from bhyt.synth.episodes import HOSPITAL_KINDS, NONE, SELF, route_codes
from bhyt.synth.nation import Facilities, Frame

KINDS = (
    "card_sharing",
    "phantom",
    "duplicate",
    "overlapping_stay",
    "upcoding",
    "unbundling",
    "inflated_los",
    "price_above_list",
    "sex_age_impossible",
    "expired_card",
    "wrong_route",
    "ping_pong",
    "repeat_visits",
    "prescription",
    "facility_surge",
)
# Tests a padding facility adds to every visit once it starts (facility_surge).
SURGE_PADDING = ("svc.us_abdomen", "svc.ecg", "svc.electrolytes", "svc.crp")
I = npt.NDArray[np.intp]  # noqa: E741


class Injector:
    """Applies abuse to one chunk's frames in place and records which claims carry which kind."""

    def __init__(
        self,
        rng: np.random.Generator,
        claims: Frame,
        lines: Frame,
        people: Frame,
        cards: Frame,
        facilities: Facilities,
        year: int,
        self_referral_codes: tuple[str, ...],
        surge: SurgePlan | None = None,
    ) -> None:
        self.rng, self.claims, self.lines = rng, claims, lines
        self.people, self.cards, self.facilities, self.year = people, cards, facilities, year
        self.items = {it.key: i for i, it in enumerate(ref.catalogue().items.values())}
        self.labels: list[tuple[int, str]] = []
        self.self_referral = self_referral_codes
        self.surge = surge
        lines.setdefault("unit_price", np.full(lines["claim"].size, -1, np.int64))

    @property
    def n(self) -> int:
        return int(self.claims["person"].size)

    def run(self, rate: float) -> list[tuple[int, str]]:
        """Abuse about ``rate`` of the chunk's claims, spread evenly over the kinds."""
        total = round(rate * self.n)
        counts = self.rng.multinomial(total, np.full(len(KINDS), 1 / len(KINDS)))
        base = self.n  # only original claims are chosen as sources or targets
        taken = np.zeros(base, bool)
        for kind, count in zip(KINDS, counts, strict=True):
            if count or (kind == "facility_surge" and rate > 0):  # the padding hospital pads every chunk
                getattr(self, kind)(int(count), base, taken)
        return self.labels

    # Choosing claims.

    def _choose(self, mask: npt.NDArray[np.bool_], count: int, taken: npt.NDArray[np.bool_]) -> I:
        pool = np.flatnonzero(mask & ~taken)
        chosen = self.rng.choice(pool, size=min(count, pool.size), replace=False) if pool.size else pool
        taken[chosen] = True
        return np.sort(chosen.astype(np.intp))

    def _label(self, claims: I, kind: str) -> None:
        self.labels += [(int(c), kind) for c in claims]

    def _copy(self, src: I, **changes: npt.NDArray[np.generic]) -> I:
        """Append copies of claims ``src`` (and their lines), with fields changed; the new indices."""
        new = np.arange(self.n, self.n + src.size, dtype=np.intp)
        for k, a in self.claims.items():
            self.claims[k] = np.concatenate([a, changes.get(k, a[src])])
        line_rows = np.flatnonzero(np.isin(self.lines["claim"], src))
        mapping = np.full(new[-1] + 1 if new.size else 0, -1, np.intp)
        mapping[src] = new
        copied = {k: a[line_rows] for k, a in self.lines.items()}
        copied["claim"] = mapping[copied["claim"]]
        self._append_lines(copied)
        return new

    def _append_lines(self, extra: Frame) -> None:
        for k in self.lines:
            self.lines[k] = np.concatenate([self.lines[k], extra[k]])

    def _add_line(self, claims: I, item: str, qty_milli: int = 1000) -> None:
        n = claims.size
        self._append_lines(
            {
                "claim": claims,
                "item": np.full(n, self.items[item], np.intp),
                "quantity_milli": np.full(n, qty_milli, np.int64),
                "day": np.zeros(n, np.int64),
                "package": np.full(n, None, dtype=object),
                "service_rate": np.full(n, 100, np.int64),
                "unit_price": np.full(n, -1, np.int64),
            }
        )

    def _facility_elsewhere(self, rows: I) -> I:
        """For each claim, a hospital in another province when the run has one (else another hospital)."""
        f = self.facilities.frame
        candidates = np.flatnonzero(np.isin(f["kind"], HOSPITAL_KINDS))
        out = np.empty(rows.size, np.intp)
        for i, r in enumerate(rows):
            here = self.claims["facility_row"][r]
            away = candidates[(f["province"][candidates] != f["province"][here])]
            if away.size == 0:
                away = candidates[candidates != here]
            out[i] = away[self.rng.integers(away.size)] if away.size else here
        return out

    def _self_referred_elsewhere(self, rows: I, inpatient: bool) -> tuple[I, npt.NDArray[np.object_]]:
        """A hospital elsewhere for each claim (it may bill whatever the source billed), and the route
        code a self-referred visit gets there."""
        where = self._facility_elsewhere(rows)
        f = self.facilities.frame
        route = route_codes(self.year, np.full(rows.size, SELF), f["kind"][where], f["points"][where],
                            np.full(rows.size, inpatient), np.full(rows.size, None, dtype=object))  # fmt: skip
        return where, route

    def _sender(self, registered: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
        """A referring facility (MA_NOI_DI): the registered one, unless it is a temporary registration."""
        temporary = np.array([str(r).endswith("000") for r in registered])
        return np.where(temporary, NONE, registered)

    # The kinds.

    def card_sharing(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        src = self._choose(~self.claims["inpatient"][:base], count, taken)
        shift = self.rng.integers(60, 240, src.size).astype("timedelta64[m]")
        where, route = self._self_referred_elsewhere(src, inpatient=False)
        new = self._copy(
            src,
            facility_row=where,
            admitted=self.claims["admitted"][src] + shift,
            discharged=self.claims["discharged"][src] + shift,
            situation=np.full(src.size, SELF),
            route=route,
            referred_from=np.full(src.size, None, dtype=object),
        )
        self._label(new, "card_sharing")

    def phantom(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        """Made-up admissions near month end for insured people who never use care otherwise: beds
        and a drug, no test, no imaging."""
        src = self._choose(np.ones(base, bool), count, taken)
        idle = np.flatnonzero(~np.isin(self.cards["person_index"], self.claims["person"]))
        if idle.size == 0:
            return
        rows = self.rng.choice(idle, size=min(src.size, idle.size), replace=False)  # one stay per phantom patient
        src = src[: rows.size]
        pneumonia = next(i for i, p in enumerate(ref.catalogue().profiles) if p.key == "pneumonia")
        # Admitted late in a month inside the patient's card, discharged before it ends.
        los = self.rng.integers(5, 11, src.size)
        first = self.cards["valid_from"][rows]
        last = self.cards["valid_to"][rows] - los.astype("timedelta64[D]") - np.timedelta64(1, "D")
        late = (last.astype("datetime64[M]").astype("datetime64[D]") + np.timedelta64(21, "D")).clip(first, last)
        date = np.where(late >= first, late, first)
        admitted = date.astype("datetime64[m]") + np.timedelta64(9 * 60, "m")
        new = self._copy(
            src,
            inpatient=np.ones(src.size, bool),
            visit_type=np.full(src.size, "03", dtype=object),
            admitted=admitted,
            discharged=admitted + (los * 1440).astype("timedelta64[m]"),
            los=los.astype(np.int64),
            facility_row=self._facility_elsewhere(src),
            route=np.full(src.size, "1.3", dtype=object),
            person=self.cards["person_index"][rows],
            card_row=rows.astype(np.intp),
            profile=np.full(src.size, pneumonia, np.intp),
            main_diagnosis=np.full(src.size, "J18.9", dtype=object),
            other_diagnoses=np.full(src.size, "", dtype=object),
            referred_from=self._sender(self.cards["registered_facility"][rows]),
        )
        drop = np.isin(self.lines["claim"], new)
        for k in self.lines:
            self.lines[k] = self.lines[k][~drop]
        self._add_line(new, "bed.internal", 0)
        self.lines["quantity_milli"][-new.size :] = los * 1000
        self._add_line(new, "drug.vitamin_b", 20_000)
        self._label(new, "phantom")

    def duplicate(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        src = self._choose(np.ones(base, bool), count, taken)
        self._label(self._copy(src), "duplicate")

    def overlapping_stay(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        c = self.claims
        src = self._choose((c["visit_type"][:base] == "03") & (c["los"][:base] >= 3), count, taken)
        start = c["admitted"][src] + (self.rng.integers(1, np.maximum(c["los"][src], 2)) * 1440).astype(
            "timedelta64[m]"
        )
        los = self.rng.integers(3, 7, src.size)
        where, route = self._self_referred_elsewhere(src, inpatient=True)
        new = self._copy(
            src,
            facility_row=where,
            route=route,
            referred_from=np.full(src.size, None, dtype=object),
            admitted=start,
            discharged=start + (los * 1440).astype("timedelta64[m]"),
            los=los.astype(np.int64),
        )
        self._label(new, "overlapping_stay")

    def upcoding(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        """A CT for a condition that needs none (an echocardiogram at a station, which has no CT)."""
        c = self.claims
        src = self._choose(~c["inpatient"][:base] & np.isin(c["visit_type"][:base], ["01", "02"]), count, taken)
        station = self.facilities.frame["level"][c["facility_row"][src]] == "primary"
        self._add_line(src[~station], "svc.ct_chest")
        self._add_line(src[station], "svc.echo_heart")
        self._label(src, "upcoding")

    def unbundling(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        cbc = np.unique(self.lines["claim"][self.lines["item"] == self.items["svc.cbc"]])
        has = np.zeros(base, bool)
        has[cbc[cbc < base]] = True
        src = self._choose(has, count, taken)
        for part in ("svc.hemoglobin", "svc.wbc_count", "svc.platelet_count"):
            self._add_line(src, part)
        self._label(src, "unbundling")

    def inflated_los(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        c = self.claims
        src = self._choose((c["visit_type"][:base] == "03") & (c["los"][:base] >= 2), count, taken)
        factor = self.rng.integers(2, 4, src.size)
        extra = c["los"][src] * (factor - 1)
        c["los"][src] += extra
        c["discharged"][src] += (extra * 1440).astype("timedelta64[m]")
        beds = [self.items[k] for k in self.items if k.startswith("bed.")]
        rows = np.flatnonzero(np.isin(self.lines["claim"], src) & np.isin(self.lines["item"], beds))
        f = np.zeros(self.n, np.int64)
        f[src] = factor
        self.lines["quantity_milli"][rows] *= f[self.lines["claim"][rows]]
        self._label(src, "inflated_los")

    def price_above_list(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        src = self._choose(np.ones(base, bool), count, taken)
        rows = np.flatnonzero(np.isin(self.lines["claim"], src))
        _, first = np.unique(self.lines["claim"][rows], return_index=True)
        rows = rows[first]
        self.lines["unit_price"][rows] = -2  # marked: priced above the list once the list price is known
        self._label(np.unique(self.lines["claim"][rows]), "price_above_list")

    def sex_age_impossible(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        p = self.people
        person = self.claims["person"][:base]
        male_adult = (p["sex"][person] == "M") & (p["age"][person] >= 15)
        src = self._choose(male_adult, count, taken)
        self._add_line(src, "svc.us_pregnancy")
        self._label(src, "sex_age_impossible")

    def expired_card(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        c, k = self.claims, self.cards
        row = c["card_row"][:base]
        year_start, year_end = np.datetime64(f"{self.year}-01-01"), np.datetime64(f"{self.year}-12-31")
        after = k["valid_to"][row] < year_end - np.timedelta64(30, "D")
        before = k["valid_from"][row] > year_start + np.timedelta64(30, "D")
        src = self._choose(after | before, count, taken)
        gap = self.rng.integers(1, 26, src.size).astype("timedelta64[D]")  # inside the lapse, never past it
        day = c["admitted"][src].astype("datetime64[D]")
        target = np.where(after[src], k["valid_to"][row[src]] + gap, k["valid_from"][row[src]] - gap)
        shift = (target - day).astype("timedelta64[m]")
        c["admitted"][src] += shift
        c["discharged"][src] += shift
        self._label(src, "expired_card")

    def wrong_route(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        c = self.claims
        src = self._choose(np.isin(c["route"][:base], self.self_referral), count, taken)
        c["route"][src] = np.where(self.rng.random(src.size) < 0.5, "1.1", "1.3")
        self._label(src, "wrong_route")

    def ping_pong(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        """Outpatient visits at a hospital answered by a referral to another and a referral back, and
        again: two to four more visits, a few days apart, each sent by the other hospital."""
        c, f = self.claims, self.facilities.frame
        hospital = np.isin(f["kind"][c["facility_row"][:base]], HOSPITAL_KINDS)
        early = c["admitted"][:base] < np.datetime64(f"{self.year}-10-01")
        src = self._choose(hospital & ~c["inpatient"][:base] & early, max(count // 3, 1), taken)
        if src.size == 0:
            return
        home = c["facility_row"][src]
        other = self._facility_elsewhere(src)
        rounds = self.rng.integers(2, 5, src.size)
        offset = np.zeros(src.size, np.int64)
        made: list[I] = []
        for r in range(int(rounds.max())):
            go = np.flatnonzero(rounds > r)
            offset[go] += self.rng.integers(3, 9, go.size)
            at, sender = (other, home) if r % 2 == 0 else (home, other)
            shift = (offset[go] * 1440).astype("timedelta64[m]")
            made.append(self._copy(
                src[go],
                facility_row=at[go],
                admitted=c["admitted"][src[go]] + shift,
                discharged=c["discharged"][src[go]] + shift,
                situation=np.full(go.size, 2),  # REFERRAL
                route=np.full(go.size, "1.3", dtype=object),
                referred_from=f["code"][sender[go]].astype(object),
            ))  # fmt: skip
        self._label(np.concatenate(made), "ping_pong")

    def repeat_visits(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        """The same complaint seen again and again at the same facility: three to six more visits
        within a month of the first, each billed in full."""
        c = self.claims
        early = c["admitted"][:base] < np.datetime64(f"{self.year}-11-15")
        src = self._choose((c["visit_type"][:base] == "01") & early, max(count // 4, 1), taken)
        if src.size == 0:
            return
        rounds = self.rng.integers(3, 7, src.size)
        offset = np.zeros(src.size, np.int64)
        made: list[I] = []
        for r in range(int(rounds.max())):
            go = np.flatnonzero(rounds > r)
            offset[go] += self.rng.integers(2, 6, go.size)
            shift = (offset[go] * 1440).astype("timedelta64[m]")
            made.append(self._copy(src[go], admitted=c["admitted"][src[go]] + shift,
                                   discharged=c["discharged"][src[go]] + shift))  # fmt: skip
        self._label(np.concatenate(made), "repeat_visits")

    def prescription(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        """A prescription inflated (one drug's quantity five to ten times) or padded with a costly
        glutathione infusion the diagnosis does not call for."""
        drug_items = [i for k, i in self.items.items() if k.startswith("drug.")]
        with_drug = np.unique(self.lines["claim"][np.isin(self.lines["item"], drug_items)])
        has = np.zeros(base, bool)
        has[with_drug[with_drug < base]] = True
        src = self._choose(has, count, taken)
        inflate = self.rng.random(src.size) < 0.5
        rows = np.flatnonzero(np.isin(self.lines["claim"], src[inflate]) & np.isin(self.lines["item"], drug_items))
        _, first = np.unique(self.lines["claim"][rows], return_index=True)
        rows = rows[first]
        self.lines["quantity_milli"][rows] *= self.rng.integers(5, 11, rows.size)
        self._add_line(src[~inflate], "drug.glutathione", 10_000)
        self._label(src, "prescription")

    def facility_surge(self, count: int, base: int, taken: npt.NDArray[np.bool_]) -> None:
        """The nation's padding hospital adds the same tests to nine in ten of its visits from the
        plan's month on, in every chunk: a facility-wide change. The first chunk picks the hospital
        whose visits from that month number closest to its share of the abuse (chunks are alike, so
        the share holds for the nation)."""
        if self.surge is None:
            return
        c, f = self.claims, self.facilities.frame
        late = c["admitted"][:base] >= self.surge.start
        if self.surge.facility is None:
            hospital = np.isin(f["kind"][c["facility_row"][:base]], HOSPITAL_KINDS) & late
            busy = np.bincount(c["facility_row"][:base][hospital], minlength=f["code"].size)
            if busy.max() == 0:
                return
            gap = np.where(busy > 0, np.abs(busy * 0.9 - max(count, 1)), np.iinfo(np.int64).max)
            self.surge.facility = int(np.argmin(gap))
        pool = (c["facility_row"][:base] == self.surge.facility) & late
        src = self._choose(pool & (self.rng.random(base) < 0.9), base, taken)
        for item in SURGE_PADDING:
            self._add_line(src, item)
        self._label(src, "facility_surge")


@dataclass
class SurgePlan:
    """The nation's padding hospital (picked by the first chunk) and the month it starts padding."""

    start: np.datetime64
    facility: int | None = None

    @classmethod
    def draw(cls, rng: np.random.Generator, year: int) -> SurgePlan:
        return cls(np.datetime64(f"{year}-{int(rng.integers(4, 10)):02d}-01T00:00", "m"))
