"""From findings and amounts to what users read: a status per claim, JSON Lines, Parquet, summaries.

Status (the ``bhyt assess`` contract): ``invalid`` when the HOSO could not be read; ``rejected`` on
any ``reject_claim`` finding or when every line is rejected (fund 0); ``review`` on any ``review``
finding; ``partial`` when a line is rejected or adjusted; ``accepted`` otherwise. Amounts are whole
đồng rounded half up, always computed (for ``review``: what is paid if the reviewer agrees).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bhyt.assessment.catalogue import BY_CODE, SKIPPED
from bhyt.assessment.engine import EngineResult
from bhyt.assessment.inputs import Batch
from bhyt.assessment.rules import Needs, Severity
from bhyt.policy.split import to_dong

STATUSES = ("accepted", "partial", "review", "rejected", "invalid")
# Each status in Vietnamese and English, for every table and report that shows it.
STATUS_NAMES: dict[str, tuple[str, str]] = {
    "accepted": ("chấp nhận", "accepted"),
    "partial": ("chấp nhận một phần", "partial"),
    "review": ("cần giám định", "review"),
    "rejected": ("từ chối", "rejected"),
    "invalid": ("không hợp lệ", "invalid"),
}
# Columns of the engine's claims written beside each decision in claims.parquet.
VISIT_COLUMNS = (
    "seq", "period", "card_group", "citizen_id", "birth_date", "sex", "registered_facility", "facility_level",
    "route_code", "referred_from", "referred_to", "visit_type", "main_diagnosis", "admitted_at", "discharged_at",
    "treatment_days", "outcome", "inpatient", "n_lines", "total",
)  # fmt: skip


@dataclass(frozen=True)
class Skipped:
    """Which inputs are missing and which rules that leaves out (one ``info`` finding per claim)."""

    missing: str
    rules: str


def skipped(batch: Batch) -> Skipped | None:
    given = ((Needs.CATALOGUE, batch.has_catalogue), (Needs.REGISTRY, batch.has_registry),
             (Needs.DB, batch.history is not None))  # fmt: skip
    missing = [n for n, have in given if not have]
    if not missing:
        return None
    rules = [r.code for r in BY_CODE.values() if r.needs & set(missing)]
    notes = ["facility levels (primary-level rate taken as claimed)"] if Needs.REGISTRY in missing else []
    return Skipped(", ".join(f"--{m.value}" for m in missing), ", ".join(rules + notes))


def status_of(severities: set[str], n_lines: int, rejected_lines: int) -> str:
    if Severity.REJECT_CLAIM in severities or (n_lines > 0 and rejected_lines == n_lines):
        return "rejected"
    if Severity.REVIEW in severities:
        return "review"
    if Severity.REJECT_LINE in severities or Severity.ADJUST in severities:
        return "partial"
    return "accepted"


def objects(batch: Batch, result: EngineResult, lang: str = "vi") -> Iterator[dict[str, Any]]:
    """One object per HOSO (invalid ones included), in input order."""
    by_seq: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for f in result.findings.to_pylist():
        by_seq[f["seq"]].append(f)
    note = skipped(batch)
    invalid = {i.seq: i for i in batch.invalid}
    for c in _merge(result.claims.to_pylist(), invalid):
        if isinstance(c, int):
            bad = invalid[c]
            yield {
                "file": bad.file,
                "facility": bad.facility,
                "claim_id": bad.claim_id,
                "card": None,
                "status": "invalid",
                "claimed_fund": 0,
                "assessed_fund": 0,
                "assessed_copay": 0,
                "assessed_outside": 0,
                "findings": [{"rule": bad.code, "severity": Severity.REJECT_CLAIM.value, "table": None, "line": None,
                              "message": bad.message}],
            }  # fmt: skip
            continue
        found = by_seq.get(c["seq"], [])
        rejected_lines = len({(f["table"], f["line"]) for f in found if f["severity"] == Severity.REJECT_LINE})
        status = status_of({f["severity"] for f in found}, c["n_lines"], rejected_lines)
        paid = status != "rejected"
        findings = [_finding(f, lang) for f in found]
        for code, table, field, row, message in batch.intake.get(c["seq"], []):
            findings.append({"rule": f"intake.{code}", "severity": "info", "table": table, "line": row,
                             "message": f"{field}: {message}" if field else message})  # fmt: skip
        if note is not None:
            text = SKIPPED.text({"missing": note.missing, "skipped": note.rules}, lang)
            findings.append({"rule": SKIPPED.code, "severity": "info", "table": None, "line": None, "message": text})
        yield {
            "file": c["file"],
            "facility": c["facility"],
            "claim_id": c["claim_id"],
            "card": c["card"],
            "status": status,
            "claimed_fund": to_dong(c["claimed_fund"] or Decimal(0)),
            "assessed_fund": to_dong(c["fund"]) if paid else 0,
            "assessed_copay": to_dong(c["copay"]) if paid else 0,
            "assessed_outside": to_dong(c["outside"]) if paid else 0,
            "findings": findings,
        }


def _merge(claims: list[dict[str, Any]], invalid: dict[int, Any]) -> Iterator[dict[str, Any] | int]:
    """Claims and invalid positions in input order."""
    pending = sorted(invalid)
    i = 0
    for c in claims:
        while i < len(pending) and pending[i] < c["seq"]:
            yield pending[i]
            i += 1
        yield c
    yield from pending[i:]


def _finding(f: dict[str, Any], lang: str) -> dict[str, Any]:
    rule = BY_CODE[f["rule"]]
    values = {name: f[f"a{i}"] for i, name in enumerate(rule.args)}
    return {"rule": rule.code, "severity": rule.severity.value, "table": f["table"], "line": f["line"],
            "message": rule.text(values, lang)}  # fmt: skip


def write(out: Path, rows: list[dict[str, Any]], result: EngineResult) -> dict[str, Path]:
    """Per-claim, per-line, per-finding and per-facility-and-month results as Parquet under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.parquet" for name in ("claims", "lines", "findings", "facilities")}
    claims = pa.table(
        {
            "file": [r["file"] for r in rows],
            "facility": [r["facility"] for r in rows],
            "claim_id": [r["claim_id"] for r in rows],
            "card": [r["card"] for r in rows],
            "status": [r["status"] for r in rows],
            "claimed_fund": pa.array([r["claimed_fund"] for r in rows], pa.int64()),
            "assessed_fund": pa.array([r["assessed_fund"] for r in rows], pa.int64()),
            "assessed_copay": pa.array([r["assessed_copay"] for r in rows], pa.int64()),
            "assessed_outside": pa.array([r["assessed_outside"] for r in rows], pa.int64()),
            "rules": [sorted({f["rule"] for f in r["findings"] if f["severity"] != "info"}) for r in rows],
        }
    )
    # What each claim says about the visit, beside its decision (null for an unreadable HOSO): the
    # abuse detectors (bhyt detect) read the run's folder alone.
    position, indices = 0, []
    for r in rows:
        indices.append(None if r["status"] == "invalid" else position)
        position += r["status"] != "invalid"
    visit = result.claims.select(list(VISIT_COLUMNS)).take(pa.array(indices, pa.int64()))
    for name in VISIT_COLUMNS:
        claims = claims.append_column("claimed_total" if name == "total" else name, visit[name])
    pq.write_table(claims, paths["claims"])
    pq.write_table(result.lines, paths["lines"])
    findings = [dict(f, facility=r["facility"], claim_id=r["claim_id"]) for r in rows for f in r["findings"]]
    pq.write_table(pa.Table.from_pylist(findings) if findings else pa.table({"rule": pa.array([], pa.string())}),
                   paths["findings"])  # fmt: skip
    pq.write_table(facility_summary(rows, result), paths["facilities"])
    return paths


def _heaviest(findings: list[dict[str, Any]]) -> str | None:
    """The rule a claim's reduction is put down to: its first finding of the heaviest severity."""
    for severity in (Severity.REJECT_CLAIM, Severity.REJECT_LINE, Severity.ADJUST):
        for f in findings:
            if f["severity"] == severity.value:
                return str(f["rule"])
    return None


def facility_summary(rows: list[dict[str, Any]], result: EngineResult) -> pa.Table:
    """Per facility and month: claims by status, claimed and assessed fund."""
    months = {(c["facility"], c["claim_id"]): c["period"] for c in result.claims.to_pylist()}
    keyed: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        k = keyed[(r["facility"] or "", months.get((r["facility"], r["claim_id"])) or "")]
        k["claims"] += 1
        k[r["status"]] += 1
        k["claimed_fund"] += r["claimed_fund"]
        k["assessed_fund"] += r["assessed_fund"]
    keys = sorted(keyed)
    cols: dict[str, Any] = {"facility": [f for f, _ in keys], "period": [p for _, p in keys]}
    for name in ("claims", "claimed_fund", "assessed_fund", *STATUSES):
        cols[name] = pa.array([keyed[k][name] for k in keys], pa.int64())
    return pa.table(cols)


def reduction_by_rule(rows: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """(rule, claims, đồng) of claimed minus assessed fund, each claim put down to its heaviest rule."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        rule = _heaviest(r["findings"])
        cut = r["claimed_fund"] - r["assessed_fund"]
        if rule is not None and r["status"] != "invalid":
            out[rule][0] += 1
            out[rule][1] += cut
    return sorted(((k, v[0], v[1]) for k, v in out.items()), key=lambda x: -x[2])


def largest_reductions(facilities: list[dict[str, Any]], top: int) -> list[tuple[str, int, int, int]]:
    """(facility, claims, claimed, assessed) over all months, the ``top`` largest reductions first."""
    per: dict[str, list[int]] = {}
    for f in facilities:
        agg = per.setdefault(f["facility"], [0, 0, 0])
        agg[0] += f["claims"]
        agg[1] += f["claimed_fund"]
        agg[2] += f["assessed_fund"]
    ranked = sorted(per.items(), key=lambda kv: kv[1][2] - kv[1][1])[:top]
    return [(code, n, claimed, assessed) for code, (n, claimed, assessed) in ranked]
