"""``bhyt assess`` and ``bhyt rules`` as scripts use them: the JSON Lines contract, XML and lake
inputs giving the same decisions, invalid files in place, what-if replay, reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from bhyt.assessment.catalogue import ALL
from bhyt.synth.run import SynthConfig, synthesize

BHYT = Path(sys.executable).parent / "bhyt"
KEYS = ["file", "facility", "claim_id", "card", "status", "claimed_fund", "assessed_fund", "assessed_copay",
        "assessed_outside", "findings"]  # fmt: skip
SEVERITIES = {"reject_claim", "reject_line", "adjust", "review", "info"}


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "nation"
    formats = frozenset({"xml", "parquet"})
    synthesize(SynthConfig(people=800, year=2025, seed=5, out=out, provinces=["01"], formats=formats, abuse_rate=0.1))
    return out


def assess(*args: str) -> tuple[list[dict[str, Any]], str, int]:
    done = subprocess.run([BHYT, "assess", *args, "--format", "jsonl", "--lang", "en"], capture_output=True,
                          text=True)  # fmt: skip
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr, done.returncode


def test_jsonl_contract_on_xml_with_a_broken_file(nation: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.xml"
    bad.write_text("<GIAMDINHHS><THONGTINDONVI>", encoding="utf-8")
    files = sorted((nation / "xml").rglob("*.xml"))[:20]
    rows, err, code = assess(*map(str, files), str(bad))
    assert code == 0
    assert "Traceback" not in err
    for r in rows:
        assert list(r) == KEYS
        assert r["status"] in {"accepted", "partial", "rejected", "review", "invalid"}
        assert all(isinstance(r[k], int) for k in KEYS[5:9])
        for f in r["findings"]:
            assert list(f) == ["rule", "severity", "table", "line", "message"]
            assert f["severity"] in SEVERITIES
        if r["status"] == "rejected":
            assert r["assessed_fund"] == 0
    assert rows[-1]["file"] == str(bad)
    assert rows[-1]["status"] == "invalid"
    assert rows[-1]["claim_id"] is None
    assert [r["file"] for r in rows[:-1]] == sorted(r["file"] for r in rows[:-1])  # input order
    # Without catalogue and registry: one info finding per claim says what was skipped.
    assert all(any(f["rule"] == "checks.skipped" for f in r["findings"]) for r in rows[:-1])


def test_xml_and_lake_give_the_same_decisions(nation: Path) -> None:
    xml, _, _ = assess(str(nation / "xml"), "--registry", str(nation / "registry"), "--catalogue",
                       str(nation / "catalogue"))  # fmt: skip
    lake, _, _ = assess(str(nation))
    assert len(xml) == len(lake)

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        rules = sorted(f["rule"] for f in r["findings"] if not f["rule"].startswith("intake."))
        return r["facility"], r["claim_id"], r["status"], r["assessed_fund"], r["assessed_copay"], tuple(rules)

    assert sorted(map(key, xml)) == sorted(map(key, lake))
    statuses = {r["status"] for r in lake}
    assert {"accepted", "rejected"} <= statuses
    duplicates = [r for r in lake if any(f["rule"] == "claim.duplicate" for f in r["findings"])]
    assert duplicates
    assert all(r["status"] == "rejected" and r["assessed_fund"] == 0 for r in duplicates)


def test_spark_engine_prints_the_same_lines(nation: Path) -> None:
    duck, _, _ = assess(str(nation))
    spark, err, code = assess(str(nation), "--engine", "spark", "--spark-master", "local[2]")
    assert code == 0, err
    assert spark == duck
    _, err, code = assess(str(nation), "--spark-master", "local[2]")
    assert code == 2
    assert "--spark-master goes with --engine spark" in err


def test_out_folder_has_results_and_a_report(nation: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = subprocess.run([BHYT, "assess", str(nation), "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name in ("claims", "lines", "findings", "facilities"):
        assert pq.read_table(out / f"{name}.parquet").num_rows > 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html
    assert '<html lang="vi">' in html  # Vietnamese by default
    assert "Giảm trừ theo quy tắc" in html
    assert "căn cứ pháp lý" in html  # each rule beside its title and legal basis
    assert str(out / "report.html") in done.stderr
    # Each decision sits beside the visit it decided (what bhyt detect reads), row for row with the lake.
    claims = pq.read_table(out / "claims.parquet").to_pylist()
    lake = {
        (c["facility"], c["claim_id"]): c for c in pq.ParquetDataset(str(nation / "lake" / "claims")).read().to_pylist()
    }
    for c in claims:
        source = lake[(c["facility"], c["claim_id"])]
        assert (c["main_diagnosis"], c["admitted_at"], c["card"]) == (source["main_diagnosis"], source["admitted_at"],
                                                                     source["card"])  # fmt: skip
        assert c["claimed_total"] == source["total"]
    lines = pq.read_table(out / "lines.parquet", columns=["seq", "item_code", "quantity", "total"])
    assert lines.num_rows == sum(c["n_lines"] for c in claims)
    assert lines["item_code"].null_count == 0


def test_what_if_reports_the_cost_of_a_change(nation: Path) -> None:
    base, _, _ = assess(str(nation))
    rows, err, code = assess(str(nation), "--override", "benefit.small_visit_threshold=0")
    assert code == 0
    assert "What-if" in err
    assert sum(r["assessed_fund"] for r in rows) < sum(r["assessed_fund"] for r in base)
    bad = subprocess.run([BHYT, "assess", str(nation), "--override", "no.such=1"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_rules_list_and_show() -> None:
    listing = subprocess.run([BHYT, "rules", "list"], capture_output=True, text=True, check=True).stdout
    assert len(ALL) >= 30
    for r in ALL:
        assert r.code in listing
    shown = subprocess.run([BHYT, "rules", "show", "card.expired"], capture_output=True, text=True, check=True)
    assert "legal basis" in shown.stdout
    missing = subprocess.run([BHYT, "rules", "show", "nope"], capture_output=True, text=True)
    assert missing.returncode == 2
