"""Runs stored in the database (SQLite and PostgreSQL): what was decided, and copies of claims an
earlier run paid caught under another MA_LK, while the same claim assessed again is not a copy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from sqlalchemy import func, select

from bhyt.assessment.engine import assess
from bhyt.assessment.inputs import Batch, load
from bhyt.assessment.models import AssessedClaim, AssessedLine, AssessmentFinding, AssessmentRun, FacilityPeriod
from bhyt.assessment.outcome import objects
from bhyt.assessment.reference import assess_reference
from bhyt.assessment.store import RunInfo, history, save
from bhyt.db import connect
from bhyt.policy.params import ParameterSet
from bhyt.synth.run import SynthConfig, synthesize

BHYT = Path(sys.executable).parent / "bhyt"


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("store") / "nation"
    synthesize(SynthConfig(people=300, year=2025, seed=8, out=out, provinces=["01"], abuse_rate=0.1))
    return out


def test_a_copy_of_a_paid_claim_is_caught_in_a_later_run(nation: Path, db_url: str, params: ParameterSet) -> None:
    engine = connect(db_url)
    full = load([nation])
    first = assess(full, params)
    rows = list(objects(full, first))
    run = save(engine, RunInfo(str(nation), "duckdb", None, []), full, rows, first)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(AssessedClaim).where(AssessedClaim.run_id == run)) == len(
            rows
        )
        assert conn.scalar(select(func.count()).select_from(AssessedLine)) == first.lines.num_rows
        assert conn.scalar(select(func.count()).select_from(AssessmentFinding)) == sum(len(r["findings"]) for r in rows)
        assert conn.scalar(select(func.sum(FacilityPeriod.claims))) == len(rows)
        stored_fund = conn.scalar(select(AssessmentRun.assessed_fund).where(AssessmentRun.id == run))
    assert stored_fund == sum(r["assessed_fund"] for r in rows)

    paid = [r for r in rows if r["status"] in ("accepted", "partial", "review")]
    assert history(engine).num_rows == len(paid)
    # The next submission: five paid claims again under new MA_LKs, five unchanged (a re-assessment).
    by_id = {c["claim_id"]: c for c in _rows(full.claims)}
    all_lines = _rows(full.lines)
    copies = [dict(by_id[r["claim_id"]], claim_id="NEW" + r["claim_id"]) for r in paid[:5]]
    again = [by_id[r["claim_id"]] for r in paid[5:10]]
    lines = [dict(ln, claim_id="NEW" + ln["claim_id"]) for ln in all_lines if ln["claim_id"] in
             {r["claim_id"] for r in paid[:5]}] + [ln for ln in all_lines if ln["claim_id"] in
                                                  {r["claim_id"] for r in paid[5:10]}]  # fmt: skip
    batch = Batch(pa.Table.from_pylist(copies + again), pa.Table.from_pylist(lines), history=history(engine))
    later = list(objects(batch, assess(batch, params)))
    caught = {r["claim_id"] for r in later if any(f["rule"] == "claim.duplicate_stored" for f in r["findings"])}
    assert caught == {c["claim_id"] for c in copies}
    assert all(r["status"] == "rejected" and r["assessed_fund"] == 0 for r in later if r["claim_id"] in caught)
    reference = assess_reference(batch, params)
    assert {f.seq for f in reference.findings if f.rule == "claim.duplicate_stored"} == set(range(5))
    engine.dispose()


def _rows(glob: pa.Table | str) -> list[dict[str, Any]]:
    assert isinstance(glob, str)
    return ds.dataset(str(Path(glob).parent), format="parquet").to_table().to_pylist()


def test_cli_stores_each_run(nation: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    runs = []
    for _ in range(2):
        done = subprocess.run([BHYT, "assess", str(nation), "--db", url, "--format", "jsonl"], capture_output=True,
                              text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "stored: run" in done.stderr
        runs.append([json.loads(line) for line in done.stdout.splitlines()])
    # The same claims assessed again are not copies of themselves: the decisions stay; only the copies
    # within the input (rejected the first time) also match the first copy stored.
    key = ("claim_id", "status", "assessed_fund", "assessed_copay")
    assert [[r[k] for k in key] for r in runs[0]] == [[r[k] for k in key] for r in runs[1]]
    for r in runs[1]:
        rules = {f["rule"] for f in r["findings"]}
        assert "claim.duplicate_stored" not in rules or "claim.duplicate" in rules
    engine = connect(url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(AssessmentRun)) == 2
    engine.dispose()
    bad = subprocess.run([BHYT, "assess", str(nation), "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2
    assert "cannot open the database" in bad.stderr
    assert "Traceback" not in bad.stderr
