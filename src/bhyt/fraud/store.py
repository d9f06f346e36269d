"""Detection runs in the database (``bhyt detect --db URL``): the worklists a review screen reads."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Engine, insert

from bhyt.db import insert_in_chunks
from bhyt.fraud.detect import Detection
from bhyt.fraud.models import DetectionClaim, DetectionFacility, DetectionRun

CHUNK = 5_000
JSON_LISTS = ("patterns", "explanations", "reasons", "related", "top_patterns")


def save(engine: Engine, source: str, d: Detection) -> int:
    """Store one detection run with both worklists; its id."""
    at_risk = round(float(d.at_risk.sum()))
    with engine.begin() as conn:
        run = conn.execute(
            insert(DetectionRun)
            .values(
                started_at=datetime.now().replace(microsecond=0),  # noqa: DTZ005 - local time, as assessment runs
                source=source,
                model=json.dumps({k: d.model_meta.get(k) for k in ("trained", "validation")}, ensure_ascii=False),
                claims=d.features.num_rows,
                at_risk=at_risk,
            )
            .returning(DetectionRun.id)
        )
        run_id = int(run.scalar_one())
        claim_cols = {c.name for c in DetectionClaim.__table__.columns} - {"id"}
        fac_cols = {c.name for c in DetectionFacility.__table__.columns} - {"id"}
        for table, rows, cols in ((DetectionClaim, d.claims, claim_cols), (DetectionFacility, d.facilities, fac_cols)):
            values = ({k: _value(k, v) for k, v in {**r, "run_id": run_id}.items() if k in cols} for r in rows)
            insert_in_chunks(conn, table, values, CHUNK)
    return run_id


def _value(key: str, value: object) -> object:
    return json.dumps(value, ensure_ascii=False) if key in JSON_LISTS else value
