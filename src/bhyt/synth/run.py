"""``bhyt synth``: generate the synthetic nation chunk by chunk and write it out.

Layout of the output folder::

    summary.json            calibration figures actually produced
    labels.parquet          facility, claim_id, kind: the injected abuse (never read by assessment)
    registry/               people, cards (coverage periods), facilities
    catalogue/              items (drugs, services, supplies, beds, exams), price_list (per facility)
    lake/claims/, lake/lines/  the Parquet claims lake, one part per chunk (English column names)
    xml/<facility>/<day>-<chunk>.xml  GIAMDINHHS envelopes, one HOSO per episode (with --format xml)

Chunks are seeded by (seed, chunk number), so the output is byte-identical for a seed, and memory
is bounded by the chunk size.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bhyt.policy._vector import decimal_from_int64
from bhyt.policy.params import ParameterSet, default_parameters
from bhyt.synth import reference as ref
from bhyt.synth.abuse import KINDS, Injector, SurgePlan
from bhyt.synth.employers import Ledger, build_employers, employment, participations
from bhyt.synth.episodes import NONE, episodes_chunk
from bhyt.synth.nation import Facilities, Frame, IdentityCounters, build_facilities, cards_chunk, people_chunk
from bhyt.synth.pricing import compute_amounts, item_arrays, price_list

MONEY = pa.decimal128(18, 2)


@dataclass
class SynthConfig:
    people: int
    year: int
    seed: int
    out: Path
    provinces: list[str] | None = None
    formats: frozenset[str] = frozenset({"parquet"})
    abuse_rate: float = 0.03
    chunk_size: int = 100_000


@dataclass
class Totals:
    """Running figures for the summary."""

    people: int = 0
    insured: int = 0
    visits: int = 0
    inpatient: int = 0
    lines: int = 0
    fund_cents: int = 0
    cost_cents_by_group: dict[str, int] = field(default_factory=dict)
    abuse: dict[str, int] = field(default_factory=dict)
    person_fund: dict[int, int] = field(default_factory=dict)
    xml_claims: int = 0
    copay_exempt: int = 0
    employers: int = 0
    contributions_due: int = 0  # đồng, the year's, by the registry's computation
    contributions_paid: int = 0


class Writers:
    """One Parquet file per dataset across chunks (the lake gets one part per chunk)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.open: dict[str, pq.ParquetWriter] = {}

    def write(self, name: str, table: pa.Table) -> None:
        if name not in self.open:
            path = self.out / f"{name}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.open[name] = pq.ParquetWriter(path, table.schema, compression="zstd", compression_level=1)
        self.open[name].write_table(table)

    def part(self, name: str, chunk: int, table: pa.Table) -> None:
        path = self.out / name / f"part-{chunk:05d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd", compression_level=1)

    def close(self) -> None:
        for w in self.open.values():
            w.close()


def _ts(minutes: np.ndarray) -> pa.Array:
    """Minute-precision times as an Arrow timestamp column (NaT becomes null)."""
    return pa.array(minutes.astype("datetime64[s]"), pa.timestamp("s"))


def claims_table(claims: Frame, people: Frame, cards: Frame, facilities: Facilities, claim_ids: np.ndarray) -> pa.Table:
    """The XML1 side of the lake: one row per episode."""
    person, row = claims["person"], claims["card_row"]
    f = facilities.frame
    fac = claims["facility_row"]
    inpatient = claims["inpatient"]
    five = cards["five_year_date"][row]
    discharged = claims["discharged"]
    treatment_days = np.where(
        np.isin(claims["visit_type"], ["02", "03", "04", "06"]),
        (discharged.astype("datetime64[D]") - claims["admitted"].astype("datetime64[D]")).astype(np.int64) + 1,
        np.where(claims["visit_type"] == "05", 30, np.where(claims["visit_type"] == "08", 1, 0)),
    )

    def money(name: str) -> pa.Array:
        return decimal_from_int64(claims[name], 2, 18)

    return pa.table(
        {
            "claim_id": pa.array(claim_ids, pa.string()),
            "facility": pa.array(f["code"][fac], pa.string()),
            "facility_province": pa.array(f["province"][fac], pa.string()),
            "facility_level": pa.array(f["level"][fac], pa.string()),
            "patient_id": pa.array([f"BN{p:010d}" for p in people["person_id"][person]], pa.string()),
            "person_id": pa.array(people["person_id"][person], pa.int64()),
            "name": pa.array(people["name"][person], pa.string()),
            "citizen_id": pa.array(people["citizen_id"][person], pa.string()),
            "birth_date": pa.array(people["birth_date"][person].astype("datetime64[D]"), pa.date32()),
            "sex": pa.array(np.where(people["sex"][person] == "M", 1, 2), pa.int8()),
            "ethnicity": pa.array(people["ethnicity"][person], pa.string()),
            "province": pa.array(people["province"][person], pa.string()),
            "commune": pa.array(people["commune"][person], pa.string()),
            "card": pa.array(cards["card"][row], pa.string()),
            "registered_facility": pa.array(cards["registered_facility"][row], pa.string()),
            "card_valid_from": pa.array(cards["valid_from"][row], pa.date32()),
            "card_valid_to": pa.array(cards["valid_to"][row], pa.date32()),
            "five_year_date": pa.array(five, pa.date32()),
            "copay_exempt_from": pa.array(claims["copay_exempt_from"], pa.date32()),
            "living_area": pa.array(cards["living_area"][row], pa.string()),
            "route_code": pa.array(claims["route"], pa.string()),
            "referred_from": pa.array(claims["referred_from"], pa.string()),
            "visit_type": pa.array(claims["visit_type"], pa.string()),
            "main_diagnosis": pa.array(claims["main_diagnosis"], pa.string()),
            "other_diagnoses": pa.array(claims["other_diagnoses"], pa.string()),
            "admitted_at": _ts(claims["admitted"]),
            "inpatient_at": _ts(np.where(inpatient, claims["admitted"], np.datetime64("NaT"))),
            "discharged_at": _ts(discharged),
            "treatment_days": pa.array(treatment_days, pa.int16()),
            "outcome": pa.array(np.where(claims["discharge_type"] == 2, 3, np.where(inpatient, 2, 1)), pa.int8()),
            "discharge_type": pa.array(claims["discharge_type"], pa.int8()),
            "referred_to": pa.array(claims["referred_to"], pa.string()),
            "drug_total": money("drug_total"),
            "supply_total": money("supply_total"),
            "total": money("total"),
            "insured_total": money("insured"),
            "outside": money("outside"),
            "copay": money("copay"),
            "fund": money("fund"),
            "other_sources": money("other_sources"),
            "settlement_year": pa.array(discharged.astype("datetime64[Y]").astype(np.int64) + 1970, pa.int16()),
            "settlement_month": pa.array(discharged.astype("datetime64[M]").astype(np.int64) % 12 + 1, pa.int8()),
        }
    )


def lines_table(lines: Frame, claims: Frame, claim_ids: np.ndarray, facilities: Facilities) -> pa.Table:
    """The XML2/XML3 side of the lake: one row per line, in claim order, numbered within each table."""
    it = item_arrays()
    item, claim = lines["item"], lines["claim"]
    table = it["table"][item]
    key = claim.astype(np.int64) * 2 + (table == "XML3")
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.r_[0, np.flatnonzero(sorted_key[1:] != sorted_key[:-1]) + 1]
    line_no = np.arange(order.size) - np.repeat(first, np.diff(np.r_[first, order.size]))
    stt = np.empty(order.size, np.int64)
    stt[order] = line_no + 1
    ordered = claims["admitted"][claim] + (lines["day"] * 1440 + 30).astype("timedelta64[m]")
    ordered = np.minimum(ordered, claims["discharged"][claim])
    rate = claims["benefit_rate"].take(pa.array(claim))
    take_item, take_claim = pa.array(item), pa.array(claim)

    def by_item(name: str) -> pa.Array:  # catalogue columns are small: convert once, then gather
        return pa.array(it[name], pa.string()).take(take_item)

    facility_codes = pa.array(facilities.frame["code"], pa.string()).take(pa.array(claims["facility_row"]))
    drug_route = pa.array(np.where(it["table"] == "XML2", it["route"], NONE), pa.string()).take(take_item)
    return pa.table(
        {
            "claim_id": pa.array(claim_ids, pa.string()).take(take_claim),
            "facility": facility_codes.take(take_claim),
            "table": by_item("table"),
            "line_no": pa.array(stt, pa.int32()),
            "item_code": by_item("code"),
            "item_kind": by_item("kind"),
            "name": by_item("name"),
            "cost_group": by_item("group"),
            "unit": by_item("unit"),
            "drug_route": drug_route,
            "scope": pa.array(lines["scope"].astype(np.int8)),
            "quantity": decimal_from_int64(lines["quantity_milli"], 3, 18),
            "unit_price": decimal_from_int64(lines["unit_price"] * 1000, 3, 18),
            "insured_price": decimal_from_int64(lines["unit_price"] * 1000, 3, 18),
            "approved_price": decimal_from_int64(lines["approved_price"] * 1000, 3, 18),
            "item_rate": pa.array(lines["item_rate"].astype(np.int16)),
            "service_rate": pa.array(lines["service_rate"].astype(np.int16)),
            "benefit_rate": rate.cast(pa.decimal128(7, 2)),
            "total": decimal_from_int64(lines["total"], 2, 18),
            "insured": decimal_from_int64(lines["insured"], 2, 18),
            "other_sources": decimal_from_int64(lines["other_sources"], 2, 18),
            "outside": decimal_from_int64(lines["outside"], 2, 18),
            "copay": decimal_from_int64(lines["copay"], 2, 18),
            "fund": decimal_from_int64(lines["fund"], 2, 18),
            "supply_package": pa.array(lines["package"], pa.string()),
            "ordered_at": _ts(ordered),
            "payment_method": pa.array(np.ones(item.size, np.int8)),
        }
    )


def _registry(people: Frame, cards: Frame, employer: np.ndarray, income: np.ndarray) -> tuple[pa.Table, pa.Table]:
    person_table = pa.table(
        {
            "person_id": pa.array(people["person_id"], pa.int64()),
            "citizen_id": pa.array(people["citizen_id"], pa.string()),
            "name": pa.array(people["name"], pa.string()),
            "birth_date": pa.array(people["birth_date"].astype("datetime64[D]"), pa.date32()),
            "sex": pa.array(np.where(people["sex"] == "M", 1, 2), pa.int8()),
            "ethnicity": pa.array(people["ethnicity"], pa.string()),
            "province": pa.array(people["province"], pa.string()),
            "province_old": pa.array(people["province_old"], pa.string()),
            "commune": pa.array(people["commune"], pa.string()),
            "household_id": pa.array(people["household_id"], pa.int64()),
            "household_position": pa.array(people["household_position"], pa.int8()),
        }
    )
    card_table = pa.table(
        {
            "person_id": pa.array(cards["person_id"], pa.int64()),
            "citizen_id": pa.array(cards["citizen_id"], pa.string()),
            "card": pa.array(cards["card"], pa.string()),
            "group": pa.array(cards["group"], pa.string()),
            "benefit_digit": pa.array(cards["benefit_digit"], pa.string()),
            "card_province": pa.array(cards["card_province"], pa.string()),
            "valid_from": pa.array(cards["valid_from"], pa.date32()),
            "valid_to": pa.array(cards["valid_to"], pa.date32()),
            "registered_facility": pa.array(cards["registered_facility"], pa.string()),
            "continuous_since": pa.array(cards["continuous_since"], pa.date32()),
            "five_year_date": pa.array(cards["five_year_date"], pa.date32()),
            "living_area": pa.array(cards["living_area"], pa.string()),
            "employer": pa.array(employer, pa.string()),
            "income": pa.array(income, pa.int64()),
        }
    )
    return person_table, card_table


def _catalogue_table() -> pa.Table:
    it = item_arrays()
    return pa.table({k: pa.array(v) for k, v in it.items() if k != "key"} | {"key": pa.array(it["key"])})


def synthesize(
    config: SynthConfig, progress: Callable[[int], None] | None = None, params: ParameterSet | None = None
) -> dict[str, Any]:
    """Generate the nation into ``config.out`` and return the summary (also written as JSON)."""
    params = params or default_parameters()
    selected = config.provinces or list(ref.PROVINCE_SHARES)
    unknown = sorted(set(selected) - set(ref.PROVINCE_SHARES))
    if unknown:
        raise ValueError(f"unknown province code(s) {', '.join(unknown)}: use the 34-province codes")
    out = config.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    facilities = build_facilities(np.random.default_rng([config.seed, 1_000_003]), selected, config.people, config.year)
    surge = SurgePlan.draw(np.random.default_rng([config.seed, 2_000_003]), config.year)
    employers = build_employers(np.random.default_rng([config.seed, 3_000_017]), selected, config.people)
    ledger = Ledger()
    writers = Writers(out)
    f = facilities.frame
    dated = {"contract_from": pa.date32(), "contract_to": pa.date32()}
    writers.write("registry/facilities", pa.table({k: pa.array(v, dated.get(k)) for k, v in f.items()}))
    writers.write("registry/employers", employers.table())
    writers.write("catalogue/items", _catalogue_table())
    writers.write("catalogue/price_list", price_list(facilities))
    counters, totals = IdentityCounters(), Totals()
    xml_writer = None
    if "xml" in config.formats:
        from bhyt.synth.xmlout import XmlWriter

        xml_writer = XmlWriter(out / "xml")
    chunks = range(0, config.people, config.chunk_size)
    for c, start in enumerate(chunks):
        rng = np.random.default_rng([config.seed, c])
        n = min(config.chunk_size, config.people - start)
        people = people_chunk(rng, start, n, config.year, selected, counters)
        cards = cards_chunk(rng, people, config.year, params, facilities)
        claims, lines = episodes_chunk(rng, people, cards, facilities, config.year)
        self_referral = params.code_list("route.self_referral_codes", date(config.year, 12, 31))
        injector = Injector(rng, claims, lines, people, cards, facilities, config.year, self_referral, surge)
        injected = injector.run(config.abuse_rate)
        compute_amounts(params, claims, lines, cards, facilities)
        in_claim_order = np.argsort(lines["claim"], kind="stable")  # abuse appended copies at the end
        lines = {k: v[in_claim_order] for k, v in lines.items()}
        claim_ids = np.array([f"LK{config.year}{c:05d}{i:07d}" for i in range(claims["person"].size)], dtype=object)
        employer, income = employment(np.random.default_rng([config.seed, c, 5_000_011]), people, cards, employers,
                                      config.year, params)  # fmt: skip
        ledger.add(params, participations(params, people, cards, employer, income), config.year)
        person_table, card_table = _registry(people, cards, employer, income)
        writers.write("registry/people", person_table)
        writers.write("registry/cards", card_table)
        ct = claims_table(claims, people, cards, facilities, claim_ids)
        lt = lines_table(lines, claims, claim_ids, facilities)
        if "parquet" in config.formats:
            writers.part("lake/claims", c, ct)
            writers.part("lake/lines", c, lt)
        if xml_writer is not None:
            totals.xml_claims += xml_writer.write_chunk(c, ct, lt)
        rows = np.array([i for i, _ in injected], np.intp)
        writers.write(
            "labels",
            pa.table(
                {
                    "facility": pa.array(f["code"][claims["facility_row"][rows]], pa.string()),
                    "claim_id": pa.array(claim_ids[rows], pa.string()),
                    "kind": pa.array([k for _, k in injected], pa.string()),
                }
            ),
        )
        _accumulate(totals, people, cards, claims, lines, injected)
        if progress:
            progress(n)
    payments = ledger.payments(np.random.default_rng([config.seed, 6_000_001]), employers, params)
    writers.write("registry/payments", payments)
    totals.contributions_due = sum(ledger.due.values())
    totals.contributions_paid = int(sum(payments.column("amount").to_pylist()))
    totals.employers = int(employers.frame["code"].size)
    writers.close()
    if not (out / "labels.parquet").exists():  # no abuse at all: an empty file with the columns
        pq.write_table(_empty_labels(), out / "labels.parquet")
    summary = _summary(totals, config, facilities)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary


def _empty_labels() -> pa.Table:
    return pa.table(
        {
            "facility": pa.array([], pa.string()),
            "claim_id": pa.array([], pa.string()),
            "kind": pa.array([], pa.string()),
        }
    )


def _accumulate(
    t: Totals, people: Frame, cards: Frame, claims: Frame, lines: Frame, injected: list[tuple[int, str]]
) -> None:
    t.people += int(people["person_id"].size)
    t.insured += int(np.unique(cards["person_index"]).size)
    t.visits += int(claims["person"].size)
    t.inpatient += int(claims["inpatient"].sum())
    t.copay_exempt += int(claims["copay_exempt"].sum())
    t.lines += int(lines["claim"].size)
    t.fund_cents += int(claims["fund"].sum())
    group_of_item = item_arrays()["group"]
    codes, item_group = np.unique(group_of_item, return_inverse=True)
    cost = np.bincount(item_group[lines["item"]], weights=lines["total"].astype(np.float64), minlength=codes.size)
    for g, v in zip(codes, cost, strict=True):
        if v:
            t.cost_cents_by_group[str(g)] = t.cost_cents_by_group.get(str(g), 0) + int(v)
    for _, kind in injected:
        t.abuse[kind] = t.abuse.get(kind, 0) + 1
    per_person = np.bincount(claims["person"], weights=claims["fund"].astype(np.float64))
    ids = people["person_id"]
    big = np.flatnonzero(per_person >= 100_000_000 * 100)  # only people above 100M are kept
    for i in big:
        t.person_fund[int(ids[i])] = t.person_fund.get(int(ids[i]), 0) + int(per_person[i])


def _summary(t: Totals, config: SynthConfig, facilities: Facilities) -> dict[str, Any]:
    total_cost = sum(t.cost_cents_by_group.values()) or 1
    requested = (t.fund_cents + 50) // 100  # whole đồng, half up, in integers
    fund_by_person = np.array(list(t.person_fund.values()), np.float64) / 100
    return {
        "people": t.people,
        "insured": t.insured,
        "coverage_rate": round(t.insured / t.people, 6) if t.people else 0.0,
        "visits": t.visits,
        "visits_per_insured": round(t.visits / t.insured, 4) if t.insured else 0.0,
        "requested_total_vnd": requested,
        "requested_mean_vnd": (2 * t.fund_cents + 100 * t.visits) // (200 * t.visits) if t.visits else 0,
        "share_by_cost_group": {
            g: round(v / total_cost, 4) for g, v in sorted(t.cost_cents_by_group.items(), key=lambda kv: int(kv[0]))
        },
        "abuse_counts": {k: t.abuse.get(k, 0) for k in KINDS},
        "lines": t.lines,
        "inpatient_share": round(t.inpatient / t.visits, 4) if t.visits else 0.0,
        "facilities": int(facilities.frame["code"].size),
        "people_over_100m_vnd": int((fund_by_person >= 100e6).sum()),
        "people_over_500m_vnd": int((fund_by_person >= 500e6).sum()),
        "people_over_1bn_vnd": int((fund_by_person >= 1e9).sum()),
        "xml_claims": t.xml_claims,
        "copay_exempt_claims": t.copay_exempt,
        "employers": t.employers,
        "contributions_due_vnd": t.contributions_due,
        "contributions_paid_vnd": t.contributions_paid,
        "year": config.year,
        "seed": config.seed,
        "abuse_rate": config.abuse_rate,
        "targets": {
            "coverage_rate": ref.COVERAGE_2025,
            "visits_per_insured": ref.VISITS_PER_INSURED,
            "requested_mean_vnd": ref.MEAN_REQUESTED_VND,
        },
    }
