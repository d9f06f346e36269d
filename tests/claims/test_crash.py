"""Kill -9 the ingest at random moments: what was acknowledged is stored whole, nothing is stored in
part, and running the ingest again completes the job."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.orm import Session

from bhyt.claims.compression import unpack
from bhyt.claims.models import Claim, ClaimVersion
from bhyt.synth.run import SynthConfig, synthesize

BHYT = Path(sys.executable).parent / "bhyt"
TRIALS = 20


@pytest.fixture(scope="module")
def claim_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    out = tmp_path_factory.mktemp("crash")
    summary = synthesize(SynthConfig(people=800, year=2025, seed=9, out=out, formats=frozenset({"xml"})))
    return out / "xml", int(summary["visits"])


def _stored(db: Path) -> dict[tuple[str, str], str]:
    """(facility, MA_LK) -> the stored content of each claim's current version."""
    engine = create_engine(f"sqlite:///{db}")
    try:
        if not inspect(engine).has_table("claim_version"):  # killed before the schema was created
            return {}
        with Session(engine) as s:
            rows = s.execute(
                select(Claim.facility, Claim.ma_lk, ClaimVersion.tables_zst).join(
                    ClaimVersion, (ClaimVersion.claim_id == Claim.id) & (ClaimVersion.version == Claim.current_version)
                )
            ).all()
            orphans = s.scalar(
                select(func.count()).select_from(Claim).where(~Claim.id.in_(select(ClaimVersion.claim_id)))
            )
    finally:
        engine.dispose()
    assert orphans == 0, "a claim without a version was stored in part"
    return {(f, m): t for f, m, t in rows}


def _command(folder: Path, url: str) -> list[str]:
    """Ingest with a commit every 20 HOSO, so a run holds many points to be killed between or within."""
    return [str(BHYT), "ingest", str(folder), "--db", url, "--json", "--batch", "20"]


def test_kill_at_random_points_loses_nothing_acknowledged(claim_files: tuple[Path, int], tmp_path: Path) -> None:
    folder, total = claim_files
    rng = random.Random(2026)
    killed = 0
    for trial in range(TRIALS):
        db = tmp_path / f"t{trial}.db"
        url = f"sqlite:///{db}"
        proc = subprocess.Popen(_command(folder, url), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        lines = []
        if trial % 2:  # during the ingest: after a random number of receipts, then a little later
            wanted = rng.randrange(1, total)
            while len(lines) < wanted and (line := proc.stdout.readline()):
                lines.append(line)
            time.sleep(rng.uniform(0, 0.1))
        else:  # early: while the schema is created or the first batch is read and stored
            time.sleep(rng.uniform(0.1, 0.8))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        out = "".join(lines) + proc.communicate()[0]
        acknowledged = [json.loads(line) for line in out.splitlines() if line.endswith("}")]
        stored = _stored(db) if db.exists() else {}
        for receipt in acknowledged:
            assert receipt["status"] == "accepted"
            key = (receipt["facility"], receipt["ma_lk"])
            assert key in stored, f"trial {trial}: acknowledged {key} is not stored"
            tables = json.loads(unpack(stored[key]))
            assert tables["XML1"][0]["MA_LK"] == receipt["ma_lk"]  # stored whole: the summary and its lines
        # Run again to the end: everything is stored once, whatever was done before the kill.
        done = subprocess.run([str(BHYT), "ingest", str(folder), "--db", url, "--json"], capture_output=True,
                              text=True, check=True)  # fmt: skip
        again = [json.loads(line) for line in done.stdout.splitlines()]
        assert len(again) == total
        assert {r["status"] for r in again} <= {"accepted", "duplicate"}
        assert len(_stored(db)) == total
    assert killed >= TRIALS // 2, "the ingest finished before most kills: the trials did not test a crash"
