"""The synthetic nation: deterministic, calibrated, valid in format, and labelled truthfully."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from bhyt.claims import schema
from bhyt.policy.split import split_line
from bhyt.synth.abuse import KINDS
from bhyt.synth.run import SynthConfig, synthesize
from tests.test_cli import run


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """20,000 people with XML and Parquet: the calibration size of the issue."""
    out = tmp_path_factory.mktemp("nation") / "out"
    summary = synthesize(SynthConfig(people=20_000, year=2025, seed=7, out=out,
                                     formats=frozenset({"xml", "parquet"})))  # fmt: skip
    return out, summary


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def test_same_seed_gives_byte_identical_output(tmp_path: Path) -> None:
    config = {
        "people": 3_000,
        "year": 2025,
        "seed": 11,
        "formats": frozenset({"xml", "parquet"}),
        "chunk_size": 1_000,
    }
    synthesize(SynthConfig(out=tmp_path / "a", **config))  # type: ignore[arg-type]
    synthesize(SynthConfig(out=tmp_path / "b", **config))  # type: ignore[arg-type]
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b
    assert len(a) > 10
    synthesize(SynthConfig(out=tmp_path / "c", **{**config, "seed": 12}))  # type: ignore[arg-type]
    assert _digest(tmp_path / "c") != a


def test_calibration_at_twenty_thousand_people(nation: tuple[Path, dict[str, object]]) -> None:
    _, s = nation
    assert abs(float(s["coverage_rate"]) - 0.9516) <= 0.005  # type: ignore[arg-type]
    assert 1.8 <= float(s["visits_per_insured"]) <= 2.2  # type: ignore[arg-type]
    assert abs(int(s["requested_mean_vnd"]) / 851_391 - 1) <= 0.15  # type: ignore[call-overload]
    shares = s["share_by_cost_group"]
    assert isinstance(shares, dict)
    drugs = shares.get("4", 0) + shares.get("5", 0) + shares.get("6", 0)
    assert 0.25 <= drugs <= 0.45  # calibration.md §2.2: drugs 33–38% of cost
    assert 0.08 <= float(s["inpatient_share"]) <= 0.12  # type: ignore[arg-type]


def test_summary_json_has_the_contract_keys(nation: tuple[Path, dict[str, object]]) -> None:
    import json

    out, _ = nation
    doc = json.loads((out / "summary.json").read_text())
    for key in ("people", "insured", "coverage_rate", "visits", "visits_per_insured", "requested_total_vnd",
                "requested_mean_vnd", "share_by_cost_group", "abuse_counts"):  # fmt: skip
        assert key in doc
    assert 0 < doc["coverage_rate"] < 1
    assert set(doc["abuse_counts"]) == set(KINDS)


def _inner(path: Path) -> list[dict[str, ET.Element]]:
    root = ET.parse(path).getroot()
    assert root.tag == "GIAMDINHHS"
    hosos = root.findall("./THONGTINHOSO/DANHSACHHOSO/HOSO")
    assert int(root.findtext("./THONGTINHOSO/SOLUONGHOSO") or 0) == len(hosos)
    out = []
    for hoso in hosos:
        docs = {}
        for f in hoso.findall("FILEHOSO"):
            docs[f.findtext("LOAIHOSO") or ""] = ET.fromstring(base64.b64decode(f.findtext("NOIDUNGFILE") or ""))
        out.append(docs)
    return out


def _records(doc: ET.Element) -> list[dict[str, str]]:
    rows = [doc] if doc.tag in ("TONG_HOP", "CHI_TIEU_DU_LIEU_GIAY_RA_VIEN", "CHI_TIEU_GIAYHEN_KHAMLAI") else doc[0]
    return [{child.tag: child.text or "" for child in row} for row in rows]


def test_every_xml_record_fits_the_generated_schema(nation: tuple[Path, dict[str, object]]) -> None:
    out, summary = nation
    files = sorted((out / "xml").rglob("*.xml"))
    claims = pq.read_table(out / "lake" / "claims").to_pylist()
    transferred = {  # rare, so their envelopes join the sample on purpose
        out / "xml" / c["facility"] / f"{c['discharged_at']:%Y%m%d}-00000.xml"
        for c in claims
        if c["discharge_type"] == 2
    }
    seen, problems, kinds = 0, [], Counter()
    for path in sorted(set(files[:: max(1, len(files) // 400)]) | transferred):  # a spread sample of envelopes
        for hoso in _inner(path):
            seen += 1
            assert "XML1" in hoso
            assert "XML3" in hoso or "XML2" in hoso  # every episode bills something
            for kind, doc in hoso.items():
                kinds[kind] += 1
                for record in _records(doc):
                    assert list(record) == list(schema.field_names(kind))  # every field, in order
                    problems += schema.check_record(kind, record)
    assert seen > 300
    assert not problems, problems[:10]
    assert {"XML1", "XML2", "XML3", "XML4", "XML5", "XML7", "XML13", "XML14"} <= set(kinds)
    assert summary["xml_claims"] == summary["visits"]


def test_every_required_field_is_filled(nation: tuple[Path, dict[str, object]]) -> None:
    # Required per the vendor checklist; MAHUYEN_CU_TRU stays empty since districts were abolished on
    # 2025-07-01 (bhyt-spec §1.5, §5.3).
    out, _ = nation
    files = sorted((out / "xml").rglob("*.xml"))
    missing: Counter[str] = Counter()
    for path in files[:: max(1, len(files) // 200)]:
        for hoso in _inner(path):
            for kind, doc in hoso.items():
                required = [f.name for f in schema.tables()[kind] if f.required and f.name != "MAHUYEN_CU_TRU"]
                for record in _records(doc):
                    missing.update(f"{kind}.{name}" for name in required if not record[name])
    assert not missing, missing.most_common(10)


def test_xml1_totals_equal_the_sums_of_the_lines(nation: tuple[Path, dict[str, object]]) -> None:
    out, _ = nation
    files = sorted((out / "xml").rglob("*.xml"))
    for path in files[:: max(1, len(files) // 200)]:
        for hoso in _inner(path):
            head = _records(hoso["XML1"])[0]
            lines = [r for k in ("XML2", "XML3") if k in hoso for r in _records(hoso[k])]
            for total, field in (("T_TONGCHI_BV", "THANH_TIEN_BV"), ("T_TONGCHI_BH", "THANH_TIEN_BH"),
                                 ("T_BNTT", "T_BNTT"), ("T_BNCCT", "T_BNCCT"), ("T_BHTT", "T_BHTT")):  # fmt: skip
                assert Decimal(head[total]) == sum(Decimal(r[field]) for r in lines), (head["MA_LK"], total)
            drugs = [r for r in _records(hoso["XML2"])] if "XML2" in hoso else []
            assert Decimal(head["T_THUOC"]) == sum(Decimal(r["THANH_TIEN_BV"]) for r in drugs)


def test_lake_amounts_are_the_policy_core_s(nation: tuple[Path, dict[str, object]]) -> None:
    out, _ = nation
    lines = pq.read_table(out / "lake" / "lines").slice(0, 3_000).to_pylist()
    for ln in lines:
        a = split_line(quantity=ln["quantity"], unit_price=ln["unit_price"], insured_price=ln["insured_price"],
                       benefit_rate=ln["benefit_rate"], item_rate=Decimal(ln["item_rate"]),
                       service_rate=Decimal(ln["service_rate"]), in_scope=ln["scope"] == 1)  # fmt: skip
        assert (a.total, a.insured, a.outside, a.copay, a.fund) == (
            ln["total"],
            ln["insured"],
            ln["outside"],
            ln["copay"],
            ln["fund"],
        )


def test_labels_match_the_claims_they_name(nation: tuple[Path, dict[str, object]]) -> None:
    out, summary = nation
    labels = pq.read_table(out / "labels.parquet").to_pylist()
    claims = {c["claim_id"]: c for c in pq.read_table(out / "lake" / "claims").to_pylist()}
    lines = pq.read_table(out / "lake" / "lines", columns=["claim_id", "item_code", "unit_price", "approved_price",
                                                           "cost_group"]).to_pylist()  # fmt: skip
    by_claim: dict[str, list[dict[str, object]]] = {}
    for ln in lines:
        by_claim.setdefault(str(ln["claim_id"]), []).append(ln)
    by_card: dict[str, list[dict[str, object]]] = {}
    for c in claims.values():
        by_card.setdefault(c["card"], []).append(c)
    assert Counter(lb["kind"] for lb in labels) == Counter({k: v for k, v in summary["abuse_counts"].items() if v})  # type: ignore[union-attr]
    assert abs(len(labels) / int(summary["visits"]) - 0.03) < 0.01  # type: ignore[call-overload]
    for lb in labels:
        c = claims[lb["claim_id"]]
        assert c["facility"] == lb["facility"]
        codes = [ln["item_code"] for ln in by_claim.get(lb["claim_id"], [])]
        twins = [o for o in by_card[c["card"]] if o["claim_id"] != c["claim_id"]]
        kind = lb["kind"]
        if kind == "sex_age_impossible":
            assert c["sex"] == 1
            assert "18.0020.0001" in codes
        elif kind == "expired_card":
            assert not c["card_valid_from"] <= c["admitted_at"].date() <= c["card_valid_to"]
        elif kind == "duplicate":
            assert any(o["admitted_at"] == c["admitted_at"] and o["facility"] == c["facility"]
                       and o["total"] == c["total"] for o in twins)  # fmt: skip
        elif kind == "card_sharing":
            assert any(o["admitted_at"].date() == c["admitted_at"].date() and o["facility"] != c["facility"]
                       for o in twins)  # fmt: skip
        elif kind == "overlapping_stay":
            assert any(o["facility"] != c["facility"] and o["admitted_at"] < c["discharged_at"]
                       and c["admitted_at"] < o["discharged_at"] for o in twins)  # fmt: skip
        elif kind == "price_above_list":
            assert any(ln["unit_price"] > ln["approved_price"] for ln in by_claim[lb["claim_id"]])
        elif kind == "unbundling":
            assert {"22.0121.1369", "22.0134.1333"} <= set(codes)
        elif kind == "phantom":
            assert c["visit_type"] == "03"
            assert not {ln["cost_group"] for ln in by_claim[lb["claim_id"]]} & {
                "1",
                "2",
            }
            assert twins == [] or all(o["claim_id"] == c["claim_id"] for o in twins)
        elif kind == "wrong_route":
            assert c["route_code"] in ("1.1", "1.3")
        elif kind == "inflated_los":
            assert c["treatment_days"] >= 5
        elif kind == "upcoding":
            assert {"18.0191.0040", "02.0113.0004"} & set(codes)


def test_clean_claims_are_not_abused(nation: tuple[Path, dict[str, object]]) -> None:
    out, _ = nation
    labelled = set(pq.read_table(out / "labels.parquet")["claim_id"].to_pylist())
    lines = pq.read_table(out / "lake" / "lines")
    above = pc.greater(lines["unit_price"], lines["approved_price"])
    assert set(pc.filter(lines["claim_id"], above).to_pylist()) <= labelled


def test_registry_and_catalogue_outputs(nation: tuple[Path, dict[str, object]]) -> None:
    out, summary = nation
    people = pq.read_table(out / "registry" / "people.parquet")
    cards = pq.read_table(out / "registry" / "cards.parquet")
    assert people.num_rows == summary["people"]
    assert len(set(people["citizen_id"].to_pylist())) == people.num_rows  # unique 12-digit IDs
    assert all(len(c) == 15 for c in cards["card"].to_pylist())
    assert len(set(cards["person_id"].to_pylist())) == summary["insured"]
    prices = pq.read_table(out / "catalogue" / "price_list.parquet")
    assert prices.num_rows > 0
    assert set(prices.column_names) >= {"facility", "item_code", "price"}


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--format", "csv"], "--format takes"), (["--provinces", "99"], "not among the 34 province codes")],
)
def test_synth_bad_options_are_clear_errors(tmp_path: Path, args: list[str], message: str) -> None:
    code, out = run("synth", "--people", "1000", "--out", str(tmp_path / "x"), *args)
    assert code == 2
    assert message in out


def test_out_of_list_drugs_are_the_patient_s(nation: tuple[Path, dict[str, object]]) -> None:
    out, _ = nation
    lines = pq.read_table(out / "lake" / "lines")
    outside = lines.filter(pc.equal(lines["scope"], 2)).to_pylist()
    assert outside  # the catalogue has drugs outside the BHYT list
    for ln in outside[:500]:
        assert ln["fund"] == 0
        assert ln["outside"] == ln["total"]


def test_exempt_claims_are_paid_in_full_once_the_exemption_starts(nation: tuple[Path, dict[str, object]]) -> None:
    # ND 146 Art. 14(1)(đ) / ND 188 Art. 18(2): after 5 years, once the year's co-payment passes 6 months
    # of the reference amount, later visits are paid in full (route rates still apply).
    out, summary = nation
    claims = pq.read_table(out / "lake" / "claims").to_pylist()
    exempt = [c for c in claims if c["copay_exempt_from"] is not None]
    assert len(exempt) == summary["copay_exempt_claims"]
    lines = pq.read_table(out / "lake" / "lines", columns=["claim_id", "benefit_rate"]).to_pylist()
    rate = {ln["claim_id"]: ln["benefit_rate"] for ln in lines}
    for c in exempt:
        assert c["five_year_date"] <= c["admitted_at"].date()
        assert c["copay_exempt_from"] <= c["admitted_at"].date()
        if c["route_code"] in ("1.1", "1.2", "1.3", "2"):
            assert rate[c["claim_id"]] == 100
