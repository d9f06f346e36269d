"""What the synthetic nation is calibrated to (``shared/domain/calibration.md``), and its catalogue.

Figures labelled [V] are read in public sources, [D] derived from them, [B] background assumptions;
the generator's own summary reports what it actually produced against these targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parent / "data"

# Targets (calibration.md §1, §10) [V]/[D].
COVERAGE_2025 = 0.9516
VISITS_PER_INSURED = 2.0  # 195.5M visits / 97.57M insured
MEAN_REQUESTED_VND = 851_391  # 166.447 tn / 195.5M visits

# Province shares of the 34-province map (calibration.md §6.1, NQ 202/2025 scale) [V].
PROVINCE_SHARES: dict[str, float] = {
    "79": 12.33,
    "01": 7.76,
    "91": 4.36,
    "31": 4.11,
    "75": 3.95,
    "37": 3.88,
    "82": 3.85,
    "38": 3.81,
    "86": 3.75,
    "92": 3.70,
    "25": 3.54,
    "68": 3.41,
    "40": 3.37,
    "24": 3.19,
    "52": 3.16,
    "33": 3.14,
    "66": 2.95,
    "80": 2.87,
    "48": 2.70,
    "96": 2.30,
    "56": 1.98,
    "51": 1.90,
    "44": 1.65,
    "08": 1.64,
    "19": 1.58,
    "15": 1.57,
    "42": 1.43,
    "22": 1.32,
    "46": 1.26,
    "14": 1.24,
    "20": 0.78,
    "11": 0.59,
    "04": 0.50,
    "12": 0.45,
}
# Provinces with many ethnic-minority communes in difficult areas [B].
UPLAND = frozenset({"04", "08", "11", "12", "14", "15", "19", "20", "52", "66", "68", "51"})
# Where former central hospitals sit [B].
CENTRAL_HOSPITAL_PROVINCES = ("01", "79", "46", "48")

# Age bands [B]: (lowest age, highest age, share of the population).
AGE_BANDS = ((0, 5, 0.079), (6, 17, 0.165), (18, 22, 0.066), (23, 59, 0.54), (60, 95, 0.15))
# Probability of being insured by band, the working-age rate solved for 95.16% overall [D].
INSURED_BY_BAND = (0.995, 0.985, 0.93, 0.9311, 0.975)

# Participant groups by age band among the insured [B], tuned so that payer groups come out near
# 16/4/29/24/27% (employment / social insurance / state / subsidised / household, calibration.md §4.1).
GROUPS_BY_BAND: tuple[dict[str, float], ...] = (
    {"TE": 1.0},
    {"HS": 0.80, "DT": 0.10, "HN": 0.04, "CN": 0.02, "TQ": 0.01, "GD": 0.03},
    {"SV": 0.40, "DN": 0.15, "GD": 0.25, "DT": 0.10, "HN": 0.03, "CN": 0.02, "QN": 0.03, "CA": 0.02},
    {
        "DN": 0.19,
        "HC": 0.06,
        "CH": 0.02,
        "XK": 0.01,
        "NN": 0.005,
        "TK": 0.005,
        "GD": 0.385,
        "DT": 0.11,
        "DK": 0.02,
        "XD": 0.005,
        "HN": 0.03,
        "CN": 0.02,
        "GB": 0.07,
        "QN": 0.018,
        "CA": 0.012,
        "CY": 0.001,
        "BT": 0.005,
        "TN": 0.004,
        "HD": 0.001,
        "TS": 0.007,
    },
    {
        "HT": 0.30,
        "BT": 0.08,
        "CT": 0.02,
        "GD": 0.33,
        "DT": 0.10,
        "CC": 0.01,
        "CK": 0.02,
        "CB": 0.04,
        "KC": 0.02,
        "HN": 0.03,
        "CN": 0.02,
        "TS": 0.02,
        "TC": 0.01,
    },
)

# Care use [D]/[B]: share of insured people with a visit, and visits per user, by age band; about
# 42% use care and users average about 4.5 visits (calibration.md §1, §4.2).
USERS_BY_BAND = (0.57, 0.24, 0.31, 0.41, 0.69)
VISITS_PER_USER_BY_BAND = (4.2, 2.6, 3.2, 4.6, 6.3)
INPATIENT_BY_BAND = (0.13, 0.055, 0.08, 0.08, 0.12)  # share of visits that are inpatient stays
# Catastrophic patients [D]/[B]: about 1 per million insured above 1 bn a year, 10–30 above 500M.
CATASTROPHIC_PER_INSURED = 25e-6


@dataclass(frozen=True)
class Component:
    """One kind of line a profile bills: labs, imaging, drugs, …"""

    kind: str
    items: tuple[str, ...]
    mean: float = 0.0  # Poisson mean number of lines (labs, drugs)
    p: float = 0.0  # probability of one (imaging, surgery, …)
    quantity: float = 1.0
    days: int = 0  # drug days for outpatient courses
    per_day: float = 0.0  # doses a day (inpatient drugs) / procedure each day
    supplies: tuple[str, ...] = ()  # supplies used with a surgery (one package)


@dataclass(frozen=True)
class Profile:
    key: str
    cls: str  # outpatient | inpatient
    weight: float
    icd: dict[str, float]
    exam: str | None
    bed: str | None
    los: float
    icu_p: float
    sex: str | None
    min_age: int
    max_age: int
    min_level: str
    chronic: bool
    components: tuple[Component, ...] = field(default=())


@dataclass(frozen=True)
class Item:
    key: str  # "svc.cbc", "drug.paracetamol", …
    code: str
    name: str
    table: str  # XML2 or XML3
    group: str  # MA_NHOM
    unit: str
    price: int
    route: str = ""
    item_rate: int = 100
    sex: str | None = None
    min_age: int = 0
    max_age: int = 200
    min_level: str = "primary"
    part_of: str | None = None
    per_stay: bool = False  # given once an episode (a chemotherapy cycle), not per day
    scope: str = "1"  # PHAM_VI: 1 in the BHYT list, 2 outside it


@dataclass(frozen=True)
class Catalogue:
    items: dict[str, Item]
    profiles: tuple[Profile, ...]
    price_factor: dict[str, float]


def _item(key: str, spec: dict[str, Any], table: str, group: str, unit: str) -> Item:
    return Item(
        key=key,
        code=spec["code"],
        name=spec["name"],
        table=table,
        group=str(spec.get("group", group)),
        unit=spec.get("unit", unit),
        price=int(spec["price"]),
        route=spec.get("route", ""),
        item_rate=int(spec.get("item_rate", 100)),
        sex=spec.get("sex"),
        min_age=int(spec.get("min_age", 0)),
        max_age=int(spec.get("max_age", 200)),
        min_level=spec.get("min_level", "primary"),
        part_of=f"svc.{spec['part_of']}" if "part_of" in spec else None,
        per_stay=bool(spec.get("per_stay", False)),
        scope=str(spec.get("scope", "1")),
    )


COMPONENT_KINDS = ("labs", "imaging", "functional", "procedures", "surgery", "supplies", "drugs")
PREFIX = {
    "labs": "svc",
    "imaging": "svc",
    "functional": "svc",
    "procedures": "svc",
    "surgery": "svc",
    "supplies": "sup",
    "drugs": "drug",
}


@cache
def catalogue() -> Catalogue:
    """The catalogue and care profiles of ``data/catalogue.yaml``, validated once."""
    doc = yaml.safe_load((DATA / "catalogue.yaml").read_text(encoding="utf-8"))
    items: dict[str, Item] = {}
    for key, spec in doc["exams"].items():
        items[f"exam.{key}"] = _item(f"exam.{key}", spec, "XML3", "13", "Lần")
    for key, spec in doc["beds"].items():
        items[f"bed.{key}"] = _item(f"bed.{key}", spec, "XML3", "15", "Ngày")
        day = {
            **spec,
            "code": spec["code"] + ".BN",
            "name": spec["name"] + " (ban ngày)",
            "price": round(spec["price"] * 0.3, -2),
        }
        items[f"daybed.{key}"] = _item(f"daybed.{key}", day, "XML3", "14", "Ngày")
    for key, spec in doc["services"].items():
        items[f"svc.{key}"] = _item(f"svc.{key}", spec, "XML3", spec["group"], "Lần")
    for key, spec in doc["drugs"].items():
        items[f"drug.{key}"] = _item(f"drug.{key}", spec, "XML2", "4", spec["unit"])
    for key, spec in doc["supplies"].items():
        items[f"sup.{key}"] = _item(f"sup.{key}", spec, "XML3", "10", spec["unit"])
    profiles = []
    for p in doc["profiles"]:
        comps = []
        for kind in COMPONENT_KINDS:
            if kind not in p:
                continue
            c = p[kind]
            keys = tuple(f"{PREFIX[kind]}.{k}" for k in c["items"])
            sup = tuple(f"sup.{k}" for k in c.get("supplies", ()))
            for k in keys + sup:
                if k not in items:
                    raise ValueError(f"catalogue.yaml: profile {p['key']} uses unknown item {k}")
            per_day = c.get("per_day", 0)
            comps.append(
                Component(
                    kind,
                    keys,
                    float(c.get("mean", 0)),
                    float(c.get("p", 0)),
                    float(c.get("quantity", 1)),
                    int(c.get("days", p.get("days", 0)) or 0),
                    float(1 if per_day is True else per_day),
                    sup,
                )
            )
        profiles.append(
            Profile(
                key=p["key"],
                cls=p["class"],
                weight=float(p["weight"]),
                icd={str(k): float(v) for k, v in p["icd"].items()},
                exam=f"exam.{p['exam']}" if "exam" in p else None,
                bed=f"bed.{p['bed']}" if "bed" in p else None,
                los=float(p.get("los", 0)),
                icu_p=float(p.get("icu_p", 0)),
                sex=p.get("sex"),
                min_age=int(p.get("min_age", 0)),
                max_age=int(p.get("max_age", 200)),
                min_level=p.get("min_level", "primary"),
                chronic=bool(p.get("chronic", False)),
                components=tuple(comps),
            )
        )
    return Catalogue(items, tuple(profiles), {k: float(v) for k, v in doc["price_factor"].items()})
