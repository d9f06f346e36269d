"""Export the stored claims to the Parquet claims lake the assessment engine reads.

One row per claim (its current version; withdrawn claims are left out) in ``lake/claims``, one per
XML2/XML3 line in ``lake/lines``, XML4 results in ``lake/results`` and XML5 clinical notes in
``lake/notes``, typed and with English names (:mod:`bhyt.claims.records`). The layout is the one
``bhyt synth`` writes, so the engine reads a synthetic nation and real intake alike. ``facility`` is
the facility that sent the claim (its key with ``claim_id``) in every dataset; ``version`` and
``received_at`` say which submission a claim row is.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, select

from bhyt.claims.compression import unpack
from bhyt.claims.ingest import stored_tables
from bhyt.claims.models import Claim, ClaimVersion
from bhyt.claims.records import typed, untyped_claim

DATASETS = {"claims": ("XML1",), "lines": ("XML2", "XML3"), "results": ("XML4",), "notes": ("XML5",)}


def _current(engine: Engine, size: int) -> Iterator[list[tuple[str, int, datetime, dict[str, Any]]]]:
    """(sender, version, received_at, tables) of every active claim, ``size`` at a time, in key order."""
    query = (
        select(
            Claim.facility, ClaimVersion.version, ClaimVersion.received_at, ClaimVersion.tables_zst, ClaimVersion.tables
        )
        .join(ClaimVersion, (ClaimVersion.claim_id == Claim.id) & (ClaimVersion.version == Claim.current_version))
        .where(Claim.status == "active")
        .order_by(Claim.facility, Claim.ma_lk)
        .execution_options(yield_per=size)
    )
    with engine.connect() as conn:
        for part in conn.execute(query).partitions(size):
            yield [(sender, version, at, orjson.loads(unpack(stored_tables(packed, text))))
                   for sender, version, at, packed, text in part]  # fmt: skip


def _part(rows: list[tuple[str, int, datetime, dict[str, Any]]], tables: tuple[str, ...]) -> pa.Table | None:
    pieces = []
    for table in tables:
        records = [r for _, _, _, t in rows for r in t.get(table, [])]
        senders = [s for s, _, _, t in rows for _ in t.get(table, [])]
        if not records and table != "XML1":
            continue
        data = typed(table, records)
        if "facility" in data.column_names:  # XML1 MA_CSKCB: intake flagged any that differs from the sender
            data = data.drop_columns("facility")
        data = data.add_column(0, "facility", pa.array(senders, pa.string()))
        if table == "XML1":
            data = data.add_column(1, "version", pa.array([v for _, v, _, _ in rows], pa.int32()))
            data = data.add_column(2, "received_at", pa.array([a for _, _, a, _ in rows], pa.timestamp("s")))
        if len(tables) > 1:
            data = data.add_column(1, "table", pa.array([table] * data.num_rows, pa.string()))
        pieces.append(data)
    if not pieces:
        return None
    return pa.concat_tables(pieces, promote_options="permissive")


REFUSED = "refused"  # claims holding a value that does not type: facility, claim_id, version, where
REFUSED_SCHEMA = pa.schema([("facility", pa.string()), ("claim_id", pa.string()), ("version", pa.int32()),
                            ("where", pa.string())])  # fmt: skip


def export_lake(engine: Engine, out: Path, part_claims: int = 50_000) -> dict[str, int]:
    """Write the lake under ``out/lake`` (replacing an earlier export); rows written per dataset.

    A claim holding a value that does not type (``records.untyped_claim``) is not written as nulls: it
    goes to ``refused/`` with where, and the assessment answers it ``invalid``."""
    counts = dict.fromkeys([*DATASETS, REFUSED], 0)
    for name in counts:
        folder = out / "lake" / name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("part-*.parquet"):
            old.unlink()
    for number, part in enumerate(_current(engine, part_claims)):
        rows, refused = [], []
        for row in part:
            where = untyped_claim(row[3])
            if where is None:
                rows.append(row)
            else:
                head = (row[3].get("XML1") or [{}])[0]
                refused.append({"facility": row[0], "claim_id": head.get("MA_LK"), "version": row[1], "where": where})
        if refused:
            pq.write_table(pa.Table.from_pylist(refused, REFUSED_SCHEMA),
                           out / "lake" / REFUSED / f"part-{number:05d}.parquet")  # fmt: skip
            counts[REFUSED] += len(refused)
        for name, tables in DATASETS.items():
            data = _part(rows, tables)
            if data is None:
                continue
            pq.write_table(data, out / "lake" / name / f"part-{number:05d}.parquet")
            counts[name] += data.num_rows
    return counts
