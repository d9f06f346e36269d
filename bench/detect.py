"""Benchmark of abuse detection: claims scored per minute, against the assessment of the same batch.

One synthetic nation (``--people``, default abuse rate) is assessed (DuckDB engine with its registry
and catalogue; results written as ``bhyt assess --out`` writes them), then detected on its run folder:
features, the anomaly score, the shipped model's risk, the detectors, the worklists' reasons and every
output written (Parquet, review JSON, HTML report). Both are timed in the same run; the ratio is
"times faster": vs_assess = assessment time / detection time. Usage: bench/detect.py [--people N].
Last line: RESULT claims_per_min=<n> vs_assess=<ratio>
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from bhyt.assessment.engine import assess
from bhyt.assessment.inputs import load
from bhyt.assessment.outcome import objects, write
from bhyt.fraud.service import run_detection
from bhyt.policy.params import default_parameters
from bhyt.reports.fraud import write_report
from bhyt.synth.run import SynthConfig, synthesize


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=500_000, help="people in the synthetic nation (≈ 2 claims each)")
    ap.add_argument("--seed", type=int, default=7, help="a seed the shipped model was not trained on")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bhyt-bench-detect-"))
    try:
        nation = work / "nation"
        t = time.perf_counter()
        synthesize(SynthConfig(people=args.people, year=2025, seed=args.seed, out=nation))
        synth_s = time.perf_counter() - t

        run = work / "run"
        t = time.perf_counter()
        batch = load([nation], lang="en")
        result = assess(batch, default_parameters())
        write(run, list(objects(batch, result, "en")), result)
        assess_s = time.perf_counter() - t

        t = time.perf_counter()
        done = run_detection(run, lang="en")
        write_report(done, str(run), "en")
        claims = done.detection.features.num_rows
        detect_s = time.perf_counter() - t
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps({"people": args.people, "claims": claims, "synth_s": round(synth_s, 1),
                      "assess_s": round(assess_s, 2), "detect_s": round(detect_s, 2),
                      "peak_rss_gib": round(peak, 2)}))  # fmt: skip
    print(f"RESULT claims_per_min={claims / detect_s * 60:.0f} vs_assess={assess_s / detect_s:.2f}")


if __name__ == "__main__":
    main()
