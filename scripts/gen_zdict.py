"""Train the claims store's compression dictionaries (src/bhyt/claims/zdict/) on a synthetic nation.

One dictionary per kind of stored value: ``file-<id>.zdict`` for the original GIAMDINHHS files as sent,
``tables-<id>.zdict`` for a version's tables as canonical JSON. Each new dictionary gets a new id (one
more than the highest shipped): a frame names the dictionary it was written with, so a shipped one is
never changed or removed, and what it wrote stays readable.

The nation is generated with its own seed (not the demo's), so the demo's figures are not measured on
what the dictionaries were trained on.

Usage: .venv/bin/python scripts/gen_zdict.py [--people N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

import orjson
import zstandard

from bhyt.claims.compression import ZDICT, Kind
from bhyt.claims.parser import read_envelope
from bhyt.synth.run import SynthConfig, synthesize

SIZE = 112_640  # zstd's default dictionary size (110 KiB)
SAMPLES = 4_000


def samples(folder: Path, rng: random.Random) -> tuple[list[bytes], list[bytes]]:
    """Original files and their HOSO's canonical tables (as intake stores them)."""
    paths = sorted(folder.rglob("*.xml"))
    rng.shuffle(paths)
    files, tables = [], []
    for path in paths[:SAMPLES]:
        data = path.read_bytes()
        files.append(data)
        for hoso in read_envelope(data, path.name).hosos:
            if not hoso.rejected:
                tables.append(orjson.dumps(hoso.tables, option=orjson.OPT_SORT_KEYS))
    return files, tables[:SAMPLES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=4750)
    args = parser.parse_args()
    ZDICT.mkdir(exist_ok=True)
    taken = [int(p.stem.split("-")[1]) for p in ZDICT.glob("*.zdict")]
    next_id = max(taken, default=0) + 1
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "nation"
        synthesize(SynthConfig(people=args.people, year=2025, seed=args.seed, out=out, provinces=["01", "79", "92"],
                               formats=frozenset({"xml"})))  # fmt: skip
        files, tables = samples(out / "xml", rng)
    for kind, data in ((Kind.FILE, files), (Kind.TABLES, tables)):
        trained = zstandard.train_dictionary(SIZE, data, dict_id=next_id, level=3)
        path = ZDICT / f"{kind.value}-{next_id}.zdict"
        path.write_bytes(trained.as_bytes())
        print(f"{path}: {len(trained.as_bytes()):,} bytes from {len(data):,} samples")
        next_id += 1


if __name__ == "__main__":
    main()
