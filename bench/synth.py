"""Benchmark of ``bhyt synth``: people/s and claims/s for Parquet, claims/s for XML envelopes, peak memory.

The generator runs in a child process (so its peak resident memory is measured on its own); the
XML writer is timed on a sample of the produced lake. As a floor measured in the same run, the
produced lake is rewritten with plain pyarrow: the ratio says how far generation is from the cost of
only writing its output. Usage: bench/synth.py [--people N] [--xml-people N]
Last line: RESULT people_per_s=<n> claims_per_s=<n> xml_claims_per_s=<n> peak_rss_gib=<x>
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from bhyt.synth.xmlout import XmlWriter


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--xml-people", type=int, default=20_000, help="size of the XML sample")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    bhyt = Path(sys.executable).parent / "bhyt"
    work = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    try:
        out = work / "nation"
        start = time.perf_counter()
        subprocess.run([str(bhyt), "synth", "--people", str(args.people), "--seed", str(args.seed), "--format",
                        "parquet", "--out", str(out)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        elapsed = time.perf_counter() - start
        peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB on Linux
        summary = json.loads((out / "summary.json").read_text())
        claims, lines = summary["visits"], summary["lines"]

        start = time.perf_counter()  # the floor: rewrite the same lake with plain pyarrow
        for name in ("claims", "lines"):
            pq.write_table(pq.read_table(out / "lake" / name), work / f"floor-{name}.parquet", compression="zstd")
        floor = time.perf_counter() - start

        claims_table = pq.read_table(out / "lake" / "claims")
        sample = claims_table.slice(0, min(claims_table.num_rows, int(args.xml_people * summary["visits_per_insured"])))
        ids = set(sample["claim_id"].to_pylist())
        lines_table = pq.read_table(out / "lake" / "lines", filters=[("claim_id", "in", list(ids))])
        start = time.perf_counter()
        written = XmlWriter(work / "xml").write_chunk(0, sample, lines_table)
        xml_elapsed = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"people                 {args.people:>14,}")
    print(f"claims / lines         {claims:>14,} / {lines:,}")
    rates = f"{args.people / elapsed:,.0f} people/s, {claims / elapsed:,.0f} claims/s"
    print(f"generation             {elapsed:>14.1f} s  ({rates})")
    print(
        f"floor: rewrite lake    {floor:>14.1f} s  (generation is {elapsed / floor:.1f}x the cost of only writing it)"
    )
    print(
        f"xml envelopes          {written:>14,} claims in {xml_elapsed:.1f} s ({written / xml_elapsed:,.0f} claims/s)"
    )
    print(f"peak RSS of synth      {peak_gib:>14.2f} GiB")
    print(f"RESULT people_per_s={args.people / elapsed:.0f} claims_per_s={claims / elapsed:.0f} "
          f"xml_claims_per_s={written / xml_elapsed:.0f} peak_rss_gib={peak_gib:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
