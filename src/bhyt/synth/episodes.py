"""Episodes of care and their lines: who goes where, for what, and what is billed.

A visit's date falls inside the person's coverage; its care profile (a condition with its usual
exams, tests, imaging, drugs, beds and surgery) fits the person's age and sex; its facility follows
registration, referral, self-referral or emergency, and its route code (MA_DOITUONG_KCB) follows
from that, the facility's level and the list in force (QĐ 824 to 2024, QĐ 3276 from 2025).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bhyt.policy.route import PRIMARY_KINDS
from bhyt.synth import reference as ref
from bhyt.synth.nation import Facilities, Frame

I = npt.NDArray[np.intp]  # noqa: E741

# Situations of a visit.
REG, PRIM_OTHER, REFERRAL, SELF, OUT_PROV, EMERG = range(6)
OUT_SITUATIONS = [0.62, 0.05, 0.14, 0.12, 0.05, 0.02]
IN_SITUATIONS = [0.20, 0.0, 0.45, 0.15, 0.05, 0.15]
LEVEL_RANK = {"primary": 0, "basic": 1, "specialised": 2}
NONE = np.array(None, dtype=object)
LOS_LIFT = 0.15  # calibration: shift of the log length of stay against the profiles' typical values
HOSPITAL_KINDS = ["district", "private", "provincial_basic", "provincial", "central"]


@dataclass
class Lines:
    """Billed lines of a chunk, as parallel arrays (one row per line)."""

    claim: list[I]
    item: list[I]
    quantity_milli: list[npt.NDArray[np.int64]]
    day: list[npt.NDArray[np.int64]]  # day offset from admission
    package: list[npt.NDArray[np.object_]]
    service_rate: list[npt.NDArray[np.int64]]

    def add(
        self, claim: I, item: I, qty_milli: object, day: object = 0, package: object = None, service_rate: object = 100
    ) -> None:
        n = claim.size
        self.claim.append(claim)
        self.item.append(item)
        self.quantity_milli.append(np.broadcast_to(np.asarray(qty_milli, np.int64), n).copy())
        self.day.append(np.broadcast_to(np.asarray(day, np.int64), n).copy())
        self.package.append(np.broadcast_to(np.asarray(package, dtype=object), n).copy())
        self.service_rate.append(np.broadcast_to(np.asarray(service_rate, np.int64), n).copy())

    def frame(self) -> Frame:
        return {
            "claim": np.concatenate(self.claim),
            "item": np.concatenate(self.item),
            "quantity_milli": np.concatenate(self.quantity_milli),
            "day": np.concatenate(self.day),
            "package": np.concatenate(self.package),
            "service_rate": np.concatenate(self.service_rate),
        }


def _categorical(rng: np.random.Generator, weights: npt.NDArray[np.float64]) -> I:
    """One column index per row of a non-negative weight matrix."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * cum[:, -1]
    return np.asarray((cum < u[:, None]).sum(axis=1), dtype=np.intp)


def _visits(rng: np.random.Generator, people: Frame, cards: Frame, year: int) -> Frame:
    """Visit rows: the person, the card row in force and the day."""
    person = cards["person_index"]
    first = np.r_[0, np.flatnonzero(np.diff(person)) + 1]
    owners = person[first]
    count = np.diff(np.r_[first, person.size])
    band = people["age_band"][owners]
    users = rng.random(owners.size) < np.array(ref.USERS_BY_BAND)[band]
    mean_extra = np.array(ref.VISITS_PER_USER_BY_BAND)[band] - 1
    r = 1.2
    n_visits = np.where(users, 1 + rng.negative_binomial(r, r / (r + mean_extra)), 0)
    visit_of = np.repeat(np.arange(owners.size), n_visits)
    length = (cards["valid_to"] - cards["valid_from"]).astype(np.int64) + 1
    row0 = first[visit_of]
    len0 = length[row0]
    two = count[visit_of] == 2
    total = np.where(two, len0 + length[np.minimum(row0 + 1, length.size - 1)], len0)
    u = (rng.random(visit_of.size) * total).astype(np.int64)
    second = two & (u >= len0)
    row = row0 + second
    offset = np.where(second, u - len0, u)
    day = cards["valid_from"][row] + offset.astype("timedelta64[D]")
    return {"person": owners[visit_of], "card_row": row, "date": day}


def _catastrophic(rng: np.random.Generator, cards: Frame) -> Frame:
    """The few patients whose care costs hundreds of millions a year (haemophilia and the like,
    calibration.md §9): about 25 per million insured, each with 3 + Poisson(4) long stays."""
    first = np.flatnonzero(np.r_[True, np.diff(cards["person_index"]) != 0])
    chosen = first[rng.random(first.size) < ref.CATASTROPHIC_PER_INSURED]
    stays = 3 + rng.poisson(4, chosen.size)
    rows = np.repeat(chosen, stays)
    span = (cards["valid_to"][rows] - cards["valid_from"][rows]).astype(np.int64) - 14
    day = cards["valid_from"][rows] + (rng.random(rows.size) * np.maximum(span, 1)).astype("timedelta64[D]")
    return {"person": cards["person_index"][rows], "card_row": rows.astype(np.intp), "date": day}


TRANSFER_SHARE = 0.03  # stays at a non-central hospital that end in a transfer up [B]


def _transfers(
    rng: np.random.Generator,
    facilities: Facilities,
    rows_for: dict[str, I],
    province: npt.NDArray[np.object_],
    facility: I,
    visit_type: npt.NDArray[np.object_],
) -> Frame:
    """MA_LOAI_RV and MA_NOI_DEN: a few inpatient stays end with a transfer for professional
    reasons to a higher-level hospital; the sending hospital issues the referral paper (XML13)."""
    n = facility.size
    kind = facilities.frame["kind"][facility]
    out = np.flatnonzero((visit_type == "03") & (kind != "central") & (rng.random(n) < TRANSFER_SHARE))
    target = np.full(n, -1, np.intp)
    _pick(rng, facilities, rows_for, province, ["provincial", "central"], out, target)
    moved = out[target[out] != facility[out]]
    discharge_type = np.ones(n, np.int8)
    discharge_type[moved] = 2
    referred_to = np.full(n, None, dtype=object)
    referred_to[moved] = facilities.frame["code"][target[moved]]
    return {"discharge_type": discharge_type, "referred_to": referred_to}


def _deconflict(person: I, admitted: npt.NDArray[np.datetime64], discharged: npt.NDArray[np.datetime64],
                card_end: npt.NDArray[np.datetime64]) -> npt.NDArray[np.bool_]:  # fmt: skip
    """Shift, in place, each of a person's visits that starts before the day after the previous one
    ends; the visits to keep (those still inside their card)."""
    day = np.timedelta64(1, "D")
    for _ in range(12):  # each pass settles one more visit of every chain
        order = np.lexsort((admitted, person))
        p, a, d = person[order], admitted[order], discharged[order]
        prev_end = (d[:-1].astype("datetime64[D]") + day).astype("datetime64[m]")
        clash = np.flatnonzero((p[1:] == p[:-1]) & (a[1:] < prev_end)) + 1
        if clash.size == 0:
            break
        clash = clash[np.r_[True, np.diff(clash) > 1]]  # the first of each run; the rest wait a pass
        rows = order[clash]
        shift = prev_end[clash - 1] + (a[clash] - a[clash].astype("datetime64[D]").astype("datetime64[m]")) - a[clash]
        admitted[rows] += shift
        discharged[rows] += shift
    order = np.lexsort((admitted, person))
    p, a, d = person[order], admitted[order], discharged[order]
    still = np.zeros(person.size, bool)
    still[order[np.flatnonzero((p[1:] == p[:-1]) & (a[1:] < d[:-1])) + 1]] = True
    return np.asarray((discharged.astype("datetime64[D]") <= card_end) & ~still)


def _profiles(rng: np.random.Generator, people: Frame, person: I, inpatient: npt.NDArray[np.bool_]) -> I:
    cat = ref.catalogue()
    age, sex = people["age"][person], people["sex"][person]
    weights = np.zeros((person.size, len(cat.profiles)))
    for j, p in enumerate(cat.profiles):
        ok = (age >= p.min_age) & (age <= p.max_age) & ((inpatient) == (p.cls == "inpatient"))
        if p.sex:
            ok &= sex == p.sex
        weights[:, j] = np.where(ok, p.weight, 0.0)
    return _categorical(rng, weights)


def _pick(
    rng: np.random.Generator,
    facilities: Facilities,
    rows_for: dict[str, I],
    province: npt.NDArray[np.object_],
    kinds: Sequence[str],
    sel: I,
    out: I,
) -> None:
    """Fill ``out[sel]`` with facilities of ``kinds`` in each visit's province (falling back to any
    hospital of the province, then to any facility of the run)."""
    u = rng.random(sel.size)
    for prov in np.unique(province[sel]):
        at = province[sel] == prov
        rows = facilities.rows(str(prov), kinds)
        if rows.size == 0:
            rows = facilities.rows(str(prov), HOSPITAL_KINDS)
        if rows.size == 0:
            rows = rows_for["any_hospital"]
        out[sel[at]] = rows[(u[at] * rows.size).astype(np.intp)]


def route_codes(
    year: int,
    situation: I,
    kind: npt.NDArray[np.object_],
    points: npt.NDArray[np.object_],
    inpatient: npt.NDArray[np.bool_],
    living: npt.NDArray[np.object_],
) -> npt.NDArray[np.object_]:
    """MA_DOITUONG_KCB for each visit, by the list in force in ``year``."""
    n = situation.size
    out = np.full(n, "1.1", dtype=object)
    out[situation == PRIM_OTHER] = "1.2"
    out[situation == REFERRAL] = "1.3"
    out[situation == EMERG] = "2"
    self_ref = (situation == SELF) | (situation == OUT_PROV)
    station = np.isin(kind, PRIMARY_KINDS)
    district = kind == "district"
    central = kind == "central"
    provincial = kind == "provincial"
    basic = np.isin(kind, ["private", "provincial_basic"])
    if year < 2025:  # QĐ 824
        out[self_ref & station] = "1.2"
        out[self_ref & (district | basic)] = "3.3"
        out[self_ref & provincial & inpatient] = "3.2"
        out[self_ref & provincial & ~inpatient] = "3.5"
        out[self_ref & central] = "3.1"
    else:  # QĐ 3276
        out[self_ref & station] = "1.11"
        out[self_ref & district] = "3.3"
        out[self_ref & basic & ~inpatient & (points == "lt50")] = "1.12"
        out[self_ref & basic & ~inpatient & (points == "50to70")] = "1.13"
        out[self_ref & basic & ~inpatient & (points == "former")] = "1.14"
        out[self_ref & basic & inpatient] = "1.15"
        out[self_ref & provincial & ~inpatient] = "1.18"
        out[self_ref & provincial & inpatient] = "3.2"
        out[self_ref & central] = "3.1"
    has_area = np.array([v is not None for v in living])
    out[self_ref & inpatient & has_area & (central | provincial)] = "3.6"
    return out


def episodes_chunk(
    rng: np.random.Generator, people: Frame, cards: Frame, facilities: Facilities, year: int
) -> tuple[Frame, Frame]:
    """Claims (one per episode) and their lines for one chunk of people."""
    cat = ref.catalogue()
    items = list(cat.items.values())
    item_index = {it.key: i for i, it in enumerate(items)}
    v = _visits(rng, people, cards, year)
    catastrophic = _catastrophic(rng, cards)
    person = np.concatenate([v["person"], catastrophic["person"]])
    row = np.concatenate([v["card_row"], catastrophic["card_row"]])
    v["date"] = np.concatenate([v["date"], catastrophic["date"]])
    n = person.size
    band = people["age_band"][person]
    inpatient = rng.random(n) < np.array(ref.INPATIENT_BY_BAND)[band]
    inpatient[v["person"].size :] = True
    profile = _profiles(rng, people, person, inpatient)
    profile[v["person"].size :] = next(i for i, p in enumerate(cat.profiles) if p.key == "haemophilia")
    prof = cat.profiles
    min_level = np.array([LEVEL_RANK[p.min_level] for p in prof])[profile]

    # Where: the situation, then a facility that fits it.
    situation = np.where(
        inpatient, rng.choice(6, size=n, p=IN_SITUATIONS), rng.choice(6, size=n, p=OUT_SITUATIONS)
    ).astype(np.intp)
    code_index = {c: i for i, c in enumerate(facilities.frame["code"])}
    registered = cards["registered_facility"][row]
    reg_row = np.array([code_index.get(c, -1) for c in registered], np.intp)
    fkind = facilities.frame["kind"]
    reg_kind = np.where(reg_row >= 0, fkind[np.maximum(reg_row, 0)], "none")
    # A registered station cannot take an inpatient stay or a profile needing a hospital.
    reg_ok = (reg_row >= 0) & ~(inpatient & np.isin(reg_kind, PRIMARY_KINDS))
    reg_ok &= (
        np.array(
            [
                LEVEL_RANK[x]
                for x in np.where(reg_row >= 0, facilities.frame["level"][np.maximum(reg_row, 0)], "primary")
            ]
        )
        >= min_level
    )
    situation[(situation == REG) & ~reg_ok] = REFERRAL
    situation[(situation == PRIM_OTHER) & (min_level > 0)] = REFERRAL
    province = people["province"][person]
    others = np.array(sorted(set(facilities.frame["province"])), dtype=object)
    away = others[rng.integers(others.size, size=n)]
    treat_province = np.where(situation == OUT_PROV, away, province)
    facility = np.full(n, -1, np.intp)
    facility[situation == REG] = reg_row[situation == REG]
    rows_for = {"any_hospital": np.flatnonzero(np.isin(fkind, HOSPITAL_KINDS))}
    if rows_for["any_hospital"].size == 0:
        rows_for["any_hospital"] = np.arange(fkind.size)
    _pick(
        rng,
        facilities,
        rows_for,
        treat_province,
        PRIMARY_KINDS,
        np.flatnonzero(situation == PRIM_OTHER),
        facility,
    )
    referral_kind = rng.choice(3, size=n, p=[0.5, 0.42, 0.08])
    for k, kinds in enumerate((["district", "private", "provincial_basic"], ["provincial"], ["central"])):
        sel = np.flatnonzero((situation == REFERRAL) & (referral_kind == k))
        if k == 2:
            central_rows = np.flatnonzero(fkind == "central")
            if central_rows.size:
                facility[sel] = central_rows[rng.integers(central_rows.size, size=sel.size)]
                continue
            kinds = ["provincial"]
        _pick(rng, facilities, rows_for, treat_province, kinds, sel, facility)
    self_kind = rng.choice(4, size=n, p=[0.4, 0.2, 0.35, 0.05])
    for k, kinds in enumerate((["district"], ["private", "provincial_basic"], ["provincial"], ["central"])):
        sel = np.flatnonzero(np.isin(situation, [SELF, OUT_PROV]) & (self_kind == k))
        _pick(rng, facilities, rows_for, treat_province, kinds, sel, facility)
    _pick(
        rng,
        facilities,
        rows_for,
        treat_province,
        ["district", "provincial"],
        np.flatnonzero(situation == EMERG),
        facility,
    )
    # A facility below the profile's level sends the patient up: a referral to the provincial hospital.
    level = np.array([LEVEL_RANK[x] for x in facilities.frame["level"][facility]])
    low = np.flatnonzero(level < min_level)
    situation[low] = REFERRAL
    _pick(rng, facilities, rows_for, province, ["provincial", "central"], low, facility)
    # A referral goes elsewhere than the registered facility; if it cannot, the visit is at home.
    own = np.flatnonzero((situation == REFERRAL) & (facility == reg_row))
    _pick(rng, facilities, rows_for, province, ["provincial", "central"], own, facility)
    situation[(situation == REFERRAL) & (facility == reg_row)] = REG
    # The sending facility (MA_NOI_DI): the registered one, or a primary facility of the province
    # for a temporary registration.
    sender = np.full(n, -1, np.intp)
    sender[reg_row >= 0] = reg_row[reg_row >= 0]
    no_sender = np.flatnonzero((situation == REFERRAL) & (sender < 0))
    _pick(rng, facilities, rows_for, province, PRIMARY_KINDS, no_sender, sender)

    fk = fkind[facility]
    station = np.isin(fk, PRIMARY_KINDS)
    chronic = np.array([p.chronic for p in prof])[profile]
    u = rng.random(n)
    visit_type = np.where(
        chronic, np.select([u < 0.6, u < 0.75, u < 0.9], ["01", "05", "08"], "07"), np.where(u < 0.93, "01", "02")
    ).astype(object)
    visit_type[inpatient] = np.where(u[inpatient] < 0.85, "03", np.where(u[inpatient] < 0.95, "04", "09"))
    visit_type[inpatient & station] = "06"
    los_mean = np.array([max(p.los, 1.0) for p in prof])[profile]
    los = np.maximum(1, np.round(rng.lognormal(np.log(los_mean) - 0.125 + LOS_LIFT, 0.5))).astype(np.int64)
    los = np.where(visit_type == "04", rng.integers(1, 4, n), los)
    los = np.where(visit_type == "09", 0, los)
    los = np.where(visit_type == "02", rng.integers(3, 11, n), los)
    los = np.where(np.isin(visit_type, ["01", "05", "07", "08"]), 0, los)
    hour = rng.integers(7, 17, n)
    admitted = v["date"].astype("datetime64[m]") + (hour * 60 + rng.integers(0, 60, n)).astype("timedelta64[m]")
    minutes = np.where(los > 0, los * 1440 + rng.integers(-240, 240, n), rng.integers(30, 230, n))
    discharged = admitted + minutes.astype("timedelta64[m]")
    # One person is in one place at a time: a visit that would overlap the previous one moves to the
    # next free day, and is dropped if that falls after the card. (Overlaps are left to the abuse.)
    keep = _deconflict(person, admitted, discharged, cards["valid_to"][row])
    if not keep.all():
        person, row, inpatient, profile, situation, facility, sender, visit_type, los, admitted, discharged = (
            a[keep]
            for a in (person, row, inpatient, profile, situation, facility, sender, visit_type, los, admitted,
                      discharged)
        )  # fmt: skip
        n = person.size
        fk = fkind[facility]

    # Diagnoses: the profile's codes, sometimes with a secondary one.
    main = np.empty(n, dtype=object)
    for j, p in enumerate(prof):
        sel = np.flatnonzero(profile == j)
        codes = np.array(list(p.icd), dtype=object)
        w = np.array(list(p.icd.values()))
        main[sel] = codes[rng.choice(codes.size, size=sel.size, p=w / w.sum())]
    other = np.full(n, "", dtype=object)
    chronic_codes = np.array(["I10", "E11.9", "K29.7", "M54.5"], dtype=object)
    extra = (rng.random(n) < 0.3) & (people["age"][person] >= 30)
    other[extra] = chronic_codes[rng.integers(chronic_codes.size, size=int(extra.sum()))]
    other[other == main] = ""

    # Tablets and sachets are dispensed by the dose; vials, ampoules and bags by the administration.
    unit_kind = np.array(
        [3 if it.per_stay else 0 if it.unit in ("Viên", "Gói") else 1 if it.unit == "Bút tiêm" else 2 for it in items]
    )
    lines = Lines([], [], [], [], [], [])
    claim_ix = np.arange(n)
    exam_keys = [p.exam for p in prof]
    has_exam = (~inpatient & (visit_type != "07")) | (inpatient & (rng.random(n) < 0.7))
    for j, key in enumerate(exam_keys):
        sel = claim_ix[has_exam & (profile == j)]
        ek = item_index[key or "exam.internal"]
        lines.add(sel, np.full(sel.size, ek), 1000)
    second = claim_ix[has_exam & ~inpatient & (rng.random(n) < 0.08)]
    # A second specialty the same day at 30%: the eye clinic, or internal medicine after an eye visit.
    eye_first = np.array([exam_keys[j] == "exam.eye" for j in profile[second]], bool)
    second_exam = np.where(eye_first, item_index["exam.internal"], item_index["exam.eye"])
    lines.add(second, second_exam.astype(np.intp), 1000, 0, None, 30)
    for j, p in enumerate(prof):
        sel = claim_ix[profile == j]
        if not sel.size:
            continue
        days = np.maximum(los[sel], 1)
        for c in p.components:
            keys = np.array([item_index[k] for k in c.items], np.intp)
            if c.kind in ("labs", "drugs"):
                mean = c.mean * (1 + los[sel] / 5 if p.cls == "inpatient" and c.kind == "labs" else 1)
                count = np.minimum(rng.poisson(np.broadcast_to(mean, sel.size)), keys.size)
                shuffled = np.argsort(rng.random((sel.size, keys.size)), axis=1)  # k distinct items a claim
                ci, pos = np.nonzero(np.arange(keys.size)[None, :] < count[:, None])
                claims_of, chosen = sel[ci], keys[shuffled[ci, pos]]
                if c.kind == "labs":
                    lines.add(claims_of, chosen, 1000, rng.integers(0, days[ci]))
                else:
                    qty = _drug_quantity(
                        rng, c.per_day, c.days, days[ci], visit_type[claims_of], inpatient[claims_of], unit_kind[chosen]
                    )
                    lines.add(claims_of, chosen, qty * 1000)
            else:
                hit = rng.random(sel.size) < c.p
                claims_of = sel[hit]
                if c.kind in ("imaging", "functional", "procedures"):
                    pick = np.where(rng.random(claims_of.size) < 0.75, 0, rng.integers(keys.size, size=claims_of.size))
                    qty = days[hit] if c.per_day else np.full(claims_of.size, c.quantity)
                    lines.add(claims_of, keys[pick], (qty * 1000).astype(np.int64), rng.integers(0, days[hit]))
                elif c.kind == "surgery":
                    day = rng.integers(0, np.maximum(days[hit] // 2, 1))
                    lines.add(claims_of, np.full(claims_of.size, keys[0]), 1000, day, "G1")
                    for s in c.supplies:
                        lines.add(claims_of, np.full(claims_of.size, item_index[s]), 1000, day, "G1")
                else:  # supplies
                    for kk in keys:
                        lines.add(claims_of, np.full(claims_of.size, kk), int(c.quantity * 1000))
        if p.bed:
            stay = sel[np.isin(visit_type[sel], ["03", "06"])]
            icu = stay[rng.random(stay.size) < p.icu_p]
            icu_days = np.minimum(los[icu], 1 + rng.poisson(2, icu.size))
            lines.add(icu, np.full(icu.size, item_index["bed.icu"]), icu_days * 1000)
            ward_days = los[stay].copy()
            ward_days[np.searchsorted(stay, icu)] -= icu_days
            keep = ward_days > 0
            lines.add(
                stay[keep],
                np.full(int(keep.sum()), item_index[p.bed]),
                ward_days[keep] * 1000,
                np.isin(stay[keep], icu) * 2,
            )
            day_stay = sel[visit_type[sel] == "04"]
            lines.add(day_stay, np.full(day_stay.size, item_index["day" + p.bed]), los[day_stay] * 1000)
    # Every episode bills something: a collection visit its main drug, any other visit an exam.
    billed = np.zeros(n, bool)
    billed[np.concatenate(lines.claim)] = True
    for j, p in enumerate(prof):
        empty = claim_ix[~billed & (profile == j)]
        drugs = [c for c in p.components if c.kind == "drugs"]
        collect = empty[visit_type[empty] == "07"]
        if drugs and collect.size:
            lines.add(collect, np.full(collect.size, item_index[drugs[0].items[0]]), 60_000)
            empty = empty[visit_type[empty] != "07"]
        lines.add(empty, np.full(empty.size, item_index[p.exam or "exam.internal"]), 1000)
    line_frame = lines.frame()
    # Drop lines a facility of that level cannot bill (imaging it does not have, …).
    item_level = np.array([LEVEL_RANK[it.min_level] for it in items])
    fac_level = np.array([LEVEL_RANK[x] for x in facilities.frame["level"]])
    allowed = item_level[line_frame["item"]] <= fac_level[facility[line_frame["claim"]]]
    line_frame = {k: a[allowed] for k, a in line_frame.items()}
    order = np.lexsort((line_frame["day"], line_frame["claim"]))
    line_frame = {k: a[order] for k, a in line_frame.items()}
    claims: Frame = {
        "person": person,
        "card_row": row,
        "facility_row": facility,
        "situation": situation,
        "profile": profile,
        "inpatient": inpatient,
        "visit_type": visit_type,
        "admitted": admitted,
        "discharged": discharged,
        "los": los,
        "main_diagnosis": main,
        "other_diagnoses": other,
        "route": route_codes(
            year, situation, fk, facilities.frame["points"][facility], inpatient, cards["living_area"][row]
        ),
        "referred_from": np.where(situation == REFERRAL, facilities.frame["code"][np.maximum(sender, 0)], NONE),
        **_transfers(rng, facilities, rows_for, province, facility, visit_type),
    }
    return claims, line_frame


def _drug_quantity(
    rng: np.random.Generator,
    per_day: float,
    days: int,
    stay_days: npt.NDArray[np.int64],
    visit_type: npt.NDArray[np.object_],
    inpatient: npt.NDArray[np.bool_],
    unit_kind: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Units dispensed. Tablets: doses a day × days (30 for chronic refills); pens: one or two a
    month; vials and bags outpatient: one to three. Inpatient: doses a day × length of stay."""
    doses = rng.integers(2, 5, stay_days.size)
    course = np.where(np.isin(visit_type, ["05", "07", "08"]), 30, max(days, 1))
    qty = np.where(
        unit_kind == 0,
        doses * course,
        np.where(unit_kind == 1, rng.integers(1, 3, stay_days.size), rng.integers(1, 4, stay_days.size)),
    )
    if per_day:
        qty = np.where(inpatient, np.maximum(1, np.round(per_day)).astype(np.int64) * np.maximum(stay_days, 1), qty)
    return np.asarray(np.where(unit_kind == 3, 1, qty), np.int64)
