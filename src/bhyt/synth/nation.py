"""Facilities, people and their cards: the registry side of the synthetic nation.

Everything is drawn with numpy from a generator seeded per (seed, chunk), so a run is reproducible
byte for byte and memory stays bounded by the chunk size whatever the number of people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from bhyt.policy.params import ParameterSet
from bhyt.policy.provinces import provinces
from bhyt.refdata import communes
from bhyt.synth import reference as ref

Arr = npt.NDArray[Any]
Frame = dict[str, Arr]

# Facility kinds: (level, former level, ownership), with national counts per 102.5M people [V]/[B]
# (calibration.md §5: ~2,900 hospitals and polyclinics, ~9,400 commune stations; 12,300 contracts).
KINDS = {
    "station": ("primary", "commune", "public", 9_400),
    "polyclinic": ("primary", "district", "public", 1_330),
    "district": ("basic", "district", "public", 700),
    "private": ("basic", "private", "private", 375),
    "provincial_basic": ("basic", "provincial", "public", 90),
    "provincial": ("specialised", "provincial", "public", 360),
    "central": ("specialised", "central", "public", 45),
}
FLOOR = {
    "polyclinic": 0,
    "station": 3,
    "district": 1,
    "private": 0,
    "provincial_basic": 0,
    "provincial": 1,
    "central": 0,
}
KIND_NAMES = {
    "station": "Trạm Y tế",
    "polyclinic": "Phòng khám đa khoa khu vực",
    "district": "Trung tâm Y tế khu vực",
    "private": "Bệnh viện tư nhân",
    "provincial_basic": "Bệnh viện Đa khoa tỉnh",
    "provincial": "Bệnh viện Đa khoa tỉnh",
    "central": "Bệnh viện Trung ương",
}


def predecessors() -> dict[str, list[str]]:
    """New (2025) province code -> old codes merged into it."""
    out: dict[str, list[str]] = {}
    for p in provinces().values():
        out.setdefault(p.code_2025, []).append(p.code)
    return out


@dataclass
class Facilities:
    frame: Frame  # code, name, province, province_old, kind, level, former_level, ownership, points, factor
    index: dict[tuple[str, str], npt.NDArray[np.intp]]  # (province, kind) -> rows

    def rows(self, province: str, kinds: Sequence[str]) -> npt.NDArray[np.intp]:
        parts = [self.index.get((province, k), np.empty(0, np.intp)) for k in kinds]
        return np.concatenate(parts) if parts else np.empty(0, np.intp)


def build_facilities(rng: np.random.Generator, selected: Sequence[str], people: int, year: int) -> Facilities:
    """The contracted facilities of the selected provinces, in proportion to their population. Each
    holds a contract with the fund (hợp đồng KCB BHYT) from the first of January of a year up to ten
    years before ``year``, in force until terminated [B]: no contract ends within the year."""
    shares = np.array([ref.PROVINCE_SHARES[p] for p in selected])
    pops = people * shares / shares.sum()
    pred = predecessors()
    cols: dict[str, list[object]] = {
        k: []
        for k in (
            "code",
            "name",
            "province",
            "province_old",
            "kind",
            "level",
            "former_level",
            "ownership",
            "points",
            "factor",
        )
    }
    serial: dict[str, int] = {}
    for province, pop in zip(selected, pops, strict=True):
        olds = pred[province]
        for kind, (level, former, ownership, national) in KINDS.items():
            count = round(pop * national / 102_500_000)
            if kind == "central" and province not in ref.CENTRAL_HOSPITAL_PROVINCES:
                count = 0
            elif kind == "central":
                count = max(count, 1)
            count = max(count, FLOOR[kind])
            for i in range(count):
                old = olds[i % len(olds)]
                serial[old] = serial.get(old, 0) + 1
                cols["code"].append(f"{old}{serial[old]:03d}")
                cols["name"].append(f"{KIND_NAMES[kind]} {old}-{serial[old]:03d}")
                cols["province"].append(province)
                cols["province_old"].append(old)
                cols["kind"].append(kind)
                cols["level"].append(level)
                cols["former_level"].append(former)
                cols["ownership"].append(ownership)
                points = "" if level != "basic" else ("lt50" if rng.random() < 0.6 else "50to70")
                cols["points"].append("former" if kind == "provincial_basic" else points)
                cols["factor"].append(round(float(rng.uniform(0.96, 1.04)), 3))
    frame = {k: np.array(v, dtype=object if k != "factor" else np.float64) for k, v in cols.items()}
    # Drawn after everything else, so adding contracts left the other draws as they were.
    signed = year - rng.integers(0, 11, frame["code"].size)
    frame["contract_from"] = np.array([date(int(y), 1, 1) for y in signed], dtype=object)
    frame["contract_to"] = np.full(frame["code"].size, None, dtype=object)
    index: dict[tuple[str, str], list[int]] = {}
    for i, (p, k) in enumerate(zip(frame["province"], frame["kind"], strict=True)):
        index.setdefault((str(p), str(k)), []).append(i)
    return Facilities(frame, {k: np.array(v, np.intp) for k, v in index.items()})


def _commune_pools() -> dict[str, npt.NDArray[np.object_]]:
    table = communes()
    pools: dict[str, list[str]] = {}
    for c, p in zip(table["commune"].to_pylist(), table["province"].to_pylist(), strict=True):
        pools.setdefault(p, []).append(c)
    return {p: np.array(v, dtype=object) for p, v in pools.items()}


FAMILY = np.array(
    [
        "Nguyễn",
        "Trần",
        "Lê",
        "Phạm",
        "Hoàng",
        "Huỳnh",
        "Phan",
        "Vũ",
        "Võ",
        "Đặng",
        "Bùi",
        "Đỗ",
        "Hồ",
        "Ngô",
        "Dương",
        "Lý",
    ],
    dtype=object,
)
FAMILY_SHARE = np.array([38, 11, 9.5, 7, 5.1, 4, 4.5, 3.9, 3.9, 2.1, 2, 1.4, 1.3, 1.3, 1, 0.5])
MIDDLE = {
    "M": np.array(["Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Công"], dtype=object),
    "F": np.array(["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Bảo", "Mai"], dtype=object),
}
GIVEN = {
    "M": np.array(
        [
            "An",
            "Bình",
            "Cường",
            "Dũng",
            "Hùng",
            "Hưng",
            "Khánh",
            "Long",
            "Nam",
            "Phong",
            "Quân",
            "Sơn",
            "Tâm",
            "Thắng",
            "Tuấn",
            "Việt",
        ],
        dtype=object,
    ),
    "F": np.array(
        [
            "Anh",
            "Chi",
            "Dung",
            "Hà",
            "Hằng",
            "Hoa",
            "Hương",
            "Lan",
            "Linh",
            "Mai",
            "Nga",
            "Ngọc",
            "Nhung",
            "Phương",
            "Thảo",
            "Trang",
        ],
        dtype=object,
    ),
}


def names(rng: np.random.Generator, sex: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Vietnamese full names: family name by its national frequency, then middle and given names."""
    family = rng.choice(FAMILY, sex.size, p=FAMILY_SHARE / FAMILY_SHARE.sum())
    out = np.empty(sex.size, dtype=object)
    for s in ("M", "F"):
        m = sex == s
        k = int(m.sum())
        out[m] = family[m] + " " + rng.choice(MIDDLE[s], k) + " " + rng.choice(GIVEN[s], k)
    return out


ETHNIC_MINORITIES = np.array(["02", "03", "06", "07", "08", "09", "05", "04"], dtype=object)  # Tày, Thái, …


class IdentityCounters:
    """Serial numbers per citizen-ID prefix, carried across chunks so every ID is unique."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, prefixes: npt.NDArray[np.object_]) -> npt.NDArray[np.int64]:
        out = np.empty(prefixes.size, np.int64)
        for i, p in enumerate(prefixes):
            n = self.next.get(p, 0)
            self.next[p] = n + 1
            out[i] = n
        return (out * 7919 + 104_729) % 1_000_000  # a bijection on 0..999,999, so serials look random


def people_chunk(
    rng: np.random.Generator,
    start: int,
    n: int,
    year: int,
    selected: Sequence[str],
    counters: IdentityCounters,
) -> Frame:
    """``n`` people with ids from ``start``, grouped in households that share a commune."""
    sizes = rng.choice([1, 2, 3, 4, 5, 6], size=n, p=[0.12, 0.20, 0.22, 0.25, 0.13, 0.08])
    household_of = np.repeat(np.arange(n), sizes)[:n]
    first = np.r_[0, np.flatnonzero(np.diff(household_of)) + 1]
    position = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n]))
    households = household_of.max() + 1
    shares = np.array([ref.PROVINCE_SHARES[p] for p in selected])
    hh_province = rng.choice(np.array(selected, dtype=object), size=households, p=shares / shares.sum())
    pred = predecessors()
    pools = _commune_pools()
    hh_old = np.array([pred[p][int(rng.integers(len(pred[p])))] for p in hh_province], dtype=object)
    hh_commune = np.array([pools[o][int(rng.integers(len(pools[o])))] for o in hh_old], dtype=object)
    province, province_old, commune = (
        hh_province[household_of],
        hh_old[household_of],
        hh_commune[household_of],
    )

    band = rng.choice(len(ref.AGE_BANDS), size=n, p=[b[2] for b in ref.AGE_BANDS])
    lo = np.array([b[0] for b in ref.AGE_BANDS])[band]
    hi = np.array([b[1] for b in ref.AGE_BANDS])[band]
    age = rng.integers(lo, hi + 1)
    year_end = np.datetime64(f"{year}-12-31")
    birth = year_end - (age * 365 + rng.integers(0, 365, n)).astype("timedelta64[D]")
    sex = np.where(rng.random(n) < 0.497, "M", "F").astype(object)
    upland = np.isin(province, list(ref.UPLAND))
    minority = rng.random(n) < np.where(upland, 0.55, 0.06)
    ethnicity = np.where(minority, rng.choice(ETHNIC_MINORITIES, n), "01").astype(object)

    birth_year = birth.astype("datetime64[Y]").astype(int) + 1970
    century_digit = (birth_year // 100 - 19) * 2 + (sex == "F")
    prefix = np.array(
        [f"0{o}{c}{y % 100:02d}" for o, c, y in zip(province_old, century_digit, birth_year, strict=True)],
        dtype=object,
    )
    serial = counters.take(prefix)
    citizen_id = np.array([f"{p}{s:06d}" for p, s in zip(prefix, serial, strict=True)], dtype=object)
    person_id = np.arange(start, start + n, dtype=np.int64)
    return {
        "person_id": person_id,
        "name": names(rng, sex),
        "citizen_id": citizen_id,
        "birth_date": birth,
        "age": age,
        "age_band": band,
        "sex": sex,
        "ethnicity": ethnicity,
        "province": province,
        "province_old": province_old,
        "commune": commune,
        "household_id": person_id[first][household_of],
        "household_position": position + 1,
        "upland": upland,
    }


def _month_start(year: int, month: npt.NDArray[np.int64]) -> npt.NDArray[np.datetime64]:
    return (np.datetime64(f"{year}-01", "M") + month.astype("timedelta64[M]")).astype("datetime64[D]")


def cards_chunk(
    rng: np.random.Generator, people: Frame, year: int, params: ParameterSet, facilities: Facilities
) -> Frame:
    """One row per card period in the year for the insured, with lapses, late joins and renewals."""
    n = people["person_id"].size
    band = people["age_band"]
    insured = rng.random(n) < np.array(ref.INSURED_BY_BAND)[band]
    idx = np.flatnonzero(insured)
    group = np.empty(idx.size, dtype=object)
    for b, table in enumerate(ref.GROUPS_BY_BAND):
        sel = band[idx] == b
        codes, weights = list(table), np.array(list(table.values()))
        group[sel] = rng.choice(np.array(codes, dtype=object), size=int(sel.sum()), p=weights / weights.sum())
    usual = params.code_by_code("benefit.usual_level_by_group", date(year, 12, 31))
    digit = np.array([usual[g] for g in group], dtype=object)
    variant = (rng.random(idx.size) < 0.01) & np.isin(group, ["HT", "DN", "CH", "HC", "GD"])
    digit[variant] = "2"
    if year >= 2026:  # old CN3 / LH4 cards still in circulation early in the year
        digit[(group == "CN") & (rng.random(idx.size) < 0.15)] = "3"

    province_old, province = people["province_old"][idx], people["province"][idx]
    card_province = np.where(rng.random(idx.size) < (0.5 if year >= 2025 else 0.0), province, province_old)
    card_province = np.where(group == "QN", "97", np.where(np.isin(group, ["CA", "CY"]), "98", card_province))
    pid = people["person_id"][idx]
    bhxh = np.array(
        [f"{o}{(p * 48_271 + 12_345) % 100_000_000:08d}" for o, p in zip(province_old, pid, strict=True)], dtype=object
    )
    number = np.array(
        [f"{g}{d}{c}{b}" for g, d, c, b in zip(group, digit, card_province, bhxh, strict=True)], dtype=object
    )

    # Registered primary facility: a station, a district hospital or a provincial one in the province.
    registered = np.empty(idx.size, dtype=object)
    choice = rng.choice(3, size=idx.size, p=[0.42, 0.46, 0.12])
    pick = rng.random(idx.size)
    for prov in np.unique(province):
        for c, kinds in enumerate(
            (["station", "polyclinic"], ["district", "private", "provincial_basic"], ["provincial"])
        ):
            sel = np.flatnonzero((province == prov) & (choice == c))
            rows = facilities.rows(str(prov), kinds)
            if rows.size == 0:
                rows = facilities.rows(str(prov), ["station", "district", "provincial"])
            registered[sel] = facilities.frame["code"][rows[(pick[sel] * rows.size).astype(np.intp)]]
    newborn_temp = (people["age"][idx] == 0) & (rng.random(idx.size) < 0.3)
    registered[newborn_temp] = np.array([f"{o}000" for o in province_old[newborn_temp]], dtype=object)
    number[newborn_temp] = np.array(
        [f"TE1{o}{b}" for o, b in zip(province_old[newborn_temp], bhxh[newborn_temp], strict=True)], dtype=object
    )

    since_years = rng.integers(0, 26, idx.size)
    since = np.datetime64(f"{year}-01-01") - (since_years * 365 + rng.integers(0, 365, idx.size)).astype(
        "timedelta64[D]"
    )
    five = since + np.timedelta64(5 * 365 + 1, "D")
    five = np.where(five <= np.datetime64(f"{year}-12-31"), five, np.datetime64("NaT"))
    living = np.full(idx.size, None, dtype=object)
    difficult = np.isin(group, ["DT", "DK", "HN"]) & people["upland"][idx]
    living[difficult] = rng.choice(np.array(["K1", "K2"], dtype=object), int(difficult.sum()), p=[0.6, 0.4])
    living[group == "XD"] = "K3"

    # Coverage periods: most cover the whole year; some lapse for 1–3 months, some join late.
    kind = rng.choice(3, size=idx.size, p=[0.93, 0.05, 0.02])
    year_start, year_end = np.datetime64(f"{year}-01-01"), np.datetime64(f"{year}-12-31")
    gap_start = rng.integers(2, 10, idx.size)
    gap_len = rng.integers(1, 4, idx.size)
    join = rng.integers(1, 12, idx.size)
    rows_from, rows_to, owner = [], [], []
    full = kind == 0
    rows_from.append(np.full(int(full.sum()), year_start))
    rows_to.append(np.full(int(full.sum()), year_end))
    owner.append(np.flatnonzero(full))
    lapse = np.flatnonzero(kind == 1)
    rows_from += [np.full(lapse.size, year_start), _month_start(year, gap_start[lapse] + gap_len[lapse])]
    rows_to += [_month_start(year, gap_start[lapse]) - np.timedelta64(1, "D"), np.full(lapse.size, year_end)]
    owner += [lapse, lapse]
    late = np.flatnonzero(kind == 2)
    rows_from.append(_month_start(year, join[late]))
    rows_to.append(np.full(late.size, year_end))
    owner.append(late)
    o = np.concatenate(owner)
    # A child born this year is covered from birth: no period starts before it, none ends before it.
    born = people["birth_date"][idx][o].astype("datetime64[D]")
    valid_from, valid_to = np.maximum(np.concatenate(rows_from), born), np.concatenate(rows_to)
    alive = valid_from <= valid_to
    o, valid_from, valid_to = o[alive], valid_from[alive], valid_to[alive]
    order = np.lexsort((valid_from, o))
    o = o[order]
    return {
        "person_index": idx[o],
        "person_id": pid[o],
        "citizen_id": people["citizen_id"][idx][o],
        "card": number[o],
        "group": group[o],
        "benefit_digit": digit[o],
        "card_province": card_province[o],
        "valid_from": valid_from[order],
        "valid_to": valid_to[order],
        "registered_facility": registered[o],
        "five_year_date": five[o],
        "continuous_since": since[o],
        "living_area": living[o],
    }
