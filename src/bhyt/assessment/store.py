"""Assessment runs in the database (``bhyt assess --db URL``): what was decided, and what an earlier
run already paid, so that a copy sent again under another MA_LK is caught (``claim.duplicate_stored``).

A run that changes the parameters (``--policy-date``, ``--override``) is stored for the record but
pays nothing: only ordinary runs count as history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, Subquery, func, insert, select

from bhyt.assessment.engine import EngineResult
from bhyt.assessment.inputs import HISTORY_COLUMNS, Batch
from bhyt.assessment.models import AssessedClaim, AssessedLine, AssessmentFinding, AssessmentRun, FacilityPeriod
from bhyt.assessment.outcome import facility_summary
from bhyt.db import insert_in_chunks

PAID = ("accepted", "partial", "review")  # a review claim is paid if the reviewer agrees
CHUNK = 5_000


@dataclass(frozen=True)
class RunInfo:
    source: str
    engine: str
    policy_date: date | None
    overrides: Sequence[str]


def latest_decisions() -> Subquery:
    """The id of each claim's latest decision in an ordinary run (what-if runs pay nothing)."""
    ordinary = AssessmentRun.policy_date.is_(None) & (AssessmentRun.overrides == "[]")
    return (
        select(func.max(AssessedClaim.id).label("id"))
        .join(AssessmentRun, AssessmentRun.id == AssessedClaim.run_id)
        .where(ordinary, AssessedClaim.claim_id.is_not(None))
        .group_by(AssessedClaim.facility, AssessedClaim.claim_id)
        .subquery()
    )


def history(engine: Engine) -> pa.Table:
    """Each claim's latest decision in an ordinary run, when it was paid: MA_LK and duplicate key."""
    latest = latest_decisions()
    query = (
        select(
            AssessedClaim.facility,
            AssessedClaim.claim_id,
            AssessedClaim.card,
            AssessedClaim.admitted_at,
            AssessedClaim.discharged_at,
            AssessedClaim.main_diagnosis,
            AssessedClaim.total_xu,
            AssessedClaim.claimed_fund_xu,
        )
        .join(latest, latest.c.id == AssessedClaim.id)
        .where(AssessedClaim.status.in_(PAID))
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    cols = list(HISTORY_COLUMNS)
    data: dict[str, list[Any]] = {k: [] for k in cols}
    for r in rows:
        values = (*r[:6], _from_xu(r[6]), _from_xu(r[7]))
        for k, v in zip(cols, values, strict=True):
            data[k].append(v)
    return pa.table({k: pa.array(v, HISTORY_COLUMNS[k]) for k, v in data.items()})


def save(engine: Engine, info: RunInfo, batch: Batch, rows: list[dict[str, Any]], result: EngineResult) -> int:
    """Store one run (its claims in input order, findings, lines, facility summary); its id."""
    keys = {c["seq"]: c for c in result.claims.to_pylist()}
    seqs = sorted([*keys, *(i.seq for i in batch.invalid)])  # the input positions of ``rows``
    with engine.begin() as conn:
        run = conn.execute(
            insert(AssessmentRun)
            .values(
                started_at=datetime.now().replace(microsecond=0),  # noqa: DTZ005 - local time, as the facilities'
                source=info.source,
                engine=info.engine,
                policy_date=info.policy_date,
                overrides=json.dumps(list(info.overrides)),
                claims=len(rows),
                claimed_fund=sum(r["claimed_fund"] for r in rows),
                assessed_fund=sum(r["assessed_fund"] for r in rows),
            )
            .returning(AssessmentRun.id)
        )
        run_id = int(run.scalar_one())
        claims = []
        findings = []
        for seq, r in zip(seqs, rows, strict=True):
            k = keys.get(seq, {})
            claims.append(
                {
                    "run_id": run_id,
                    "seq": seq,
                    "file": r["file"],
                    "facility": r["facility"],
                    "claim_id": r["claim_id"],
                    "card": r["card"],
                    "status": r["status"],
                    "period": k.get("period"),
                    "admitted_at": k.get("admitted_at"),
                    "discharged_at": k.get("discharged_at"),
                    "main_diagnosis": k.get("main_diagnosis"),
                    "total_xu": _xu(k.get("total")),
                    "claimed_fund_xu": _xu(k.get("claimed_fund")),
                    **{f: r[f] for f in ("claimed_fund", "assessed_fund", "assessed_copay", "assessed_outside")},
                }
            )
            findings += [
                {"run_id": run_id, "seq": seq, "rule": f["rule"], "severity": f["severity"], "table_name": f["table"],
                 "line": f["line"], "message": f["message"]}
                for f in r["findings"]
            ]  # fmt: skip
        for table, values in (
            (AssessedClaim, claims),
            (AssessmentFinding, findings),
            (AssessedLine, _lines(run_id, result.lines)),
            (FacilityPeriod, [dict(f, run_id=run_id) for f in facility_summary(rows, result).to_pylist()]),
        ):
            insert_in_chunks(conn, table, values, CHUNK)
    return run_id


def _lines(run_id: int, lines: pa.Table) -> Iterator[dict[str, Any]]:
    for ln in lines.select(["seq", "table", "line_no", "kept", "fund", "copay", "outside", "rejected"]).to_pylist():
        yield {
            "run_id": run_id,
            "seq": ln["seq"],
            "table_name": ln["table"],
            "line_no": ln["line_no"],
            "kept": bool(ln["kept"]),
            "fund_xu": _xu(ln["fund"]),
            "copay_xu": _xu(ln["copay"]),
            "outside_xu": _xu(ln["outside"]),
            "rejected_xu": _xu(ln["rejected"]),
        }


def _xu(amount: Decimal | None) -> int | None:
    return None if amount is None else int(amount * 100)


def _from_xu(xu: int | None) -> Decimal | None:
    return None if xu is None else Decimal(xu) / 100


def copay_by_card_year(engine: Engine) -> dict[tuple[str, int], int]:
    """What each card's holder paid as co-payment per calendar year of admission, from the latest
    ordinary decision of each claim that is paid: the counter's "co-payment this year"."""
    latest = latest_decisions()
    query = (
        select(AssessedClaim.card, AssessedClaim.admitted_at, AssessedClaim.assessed_copay)
        .join(latest, latest.c.id == AssessedClaim.id)
        .where(AssessedClaim.status.in_(PAID), AssessedClaim.card.is_not(None))
    )
    out: dict[tuple[str, int], int] = {}
    with engine.connect() as conn:
        for card, admitted, copay in conn.execute(query):
            if admitted is not None and card is not None:
                key = (card, admitted.year)
                out[key] = out.get(key, 0) + int(copay or 0)
    return out


VISIT_FIELDS = ("facility", "claim_id", "card", "status", "admitted_at", "discharged_at", "main_diagnosis",
                "claimed_fund", "assessed_fund", "assessed_copay", "assessed_outside")  # fmt: skip


def visits_on_cards(engine: Engine, cards: Sequence[str]) -> list[dict[str, Any]]:
    """The assessed visits on these card numbers (the latest ordinary decision of each claim), oldest
    first: where, when, the status, what was claimed and what the fund, the patient and outside the
    scope paid. Dates as ISO text."""
    if not cards:
        return []
    latest = latest_decisions()
    query = (
        select(*(getattr(AssessedClaim, k) for k in VISIT_FIELDS))
        .join(latest, latest.c.id == AssessedClaim.id)
        .where(AssessedClaim.card.in_(list(cards)))
        .order_by(AssessedClaim.admitted_at)
    )
    with engine.connect() as conn:
        return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()}
                for r in conn.execute(query).mappings()]  # fmt: skip
