"""Benchmark of ``bhyt ingest`` into SQLite: claims/s, against a plain lxml parse of the same files.

The files are a synthetic nation's GIAMDINHHS envelopes (~10 lines a claim). The floor, measured in
the same run, parses every envelope and decodes and parses every inner document with plain lxml
(no checks, no storage): ``vs_plain_parse`` is ingest speed over that floor's speed.
Both are run ``--repeat`` times, alternately, into a new database each time; the best time of each counts.
Usage: bench/ingest.py [--claims N] [--repeat K]
Last line: RESULT claims_per_s=<n> vs_plain_parse=<ratio>
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import tempfile
import time
from pathlib import Path

from lxml import etree

from bhyt.claims.ingest import ingest_paths, reading_pool
from bhyt.db import connect
from bhyt.synth.run import SynthConfig, synthesize


def plain_parse(files: list[Path]) -> int:
    count = 0
    for path in files:
        root = etree.fromstring(path.read_bytes())
        for hoso in root.iter("HOSO"):
            count += 1
            for f in hoso.iter("FILEHOSO"):
                etree.fromstring(base64.b64decode(f.findtext("NOIDUNGFILE") or ""))
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=20_000, help="about this many claims")
    ap.add_argument("--repeat", type=int, default=2, help="runs of both, the best of each counted")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="reading processes (0: none)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        synthesize(SynthConfig(people=max(500, args.claims // 2), year=2025, seed=4, out=work / "n",
                               formats=frozenset({"xml"})))  # fmt: skip
        files = sorted((work / "n" / "xml").rglob("*.xml"))
        floor, elapsed = float("inf"), float("inf")
        for run in range(args.repeat):  # alternated, best of each: the machine is shared and noisy
            start = time.perf_counter()
            parsed = plain_parse(files)
            floor = min(floor, time.perf_counter() - start)
            engine = connect(f"sqlite:///{work / f'bench{run}.db'}")
            start = time.perf_counter()
            pool = reading_pool(args.workers)
            stored = sum(len(receipts) for receipts in ingest_paths(engine, files, pool=pool))
            elapsed = min(elapsed, time.perf_counter() - start)
            if pool is not None:
                pool.shutdown()
            engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"files                {len(files):>10,}")
    print(f"plain lxml parse     {parsed:>10,} claims in {floor:.1f} s ({parsed / floor:,.0f} claims/s)")
    print(f"bhyt ingest (SQLite) {stored:>10,} claims in {elapsed:.1f} s ({stored / elapsed:,.0f} claims/s)")
    ratio = (stored / elapsed) / (parsed / floor)
    print(f"RESULT claims_per_s={stored / elapsed:.0f} vs_plain_parse={ratio:.3f}")


if __name__ == "__main__":
    main()
