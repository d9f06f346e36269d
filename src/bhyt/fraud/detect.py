"""Detection over one assessment run: scores, detectors, the ranked worklists and what they are worth.

Claims are ranked by the learned risk; each carries the detectors that fired (with their sentences),
the score's strongest features, the claims involved, and the expected amount at risk (risk × the
fund it claims, whole đồng). Facilities are ranked by their expected amount at risk, with their
share of high-risk claims, their standing against peers of their kind and their top patterns.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bhyt.fraud.features import BY_NAME, NAMES, compute
from bhyt.fraud.model import MODEL_DIR, Model, inputs
from bhyt.fraud.patterns import BY_CODE, PATTERNS, columns, fired

HIGH_RISK = 0.5  # a claim at or above this risk counts as flagged in the facility figures


@dataclass
class Detection:
    features: pa.Table
    risk: np.ndarray[Any, np.dtype[np.float64]]
    anomaly: np.ndarray[Any, np.dtype[np.float64]]
    hits: dict[str, np.ndarray[Any, np.dtype[np.bool_]]]
    claims: list[dict[str, Any]]  # the claim worklist, best first
    facilities: list[dict[str, Any]]  # the facility worklist, best first
    model_meta: dict[str, Any]

    @property
    def at_risk(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Each claim's expected amount at risk in đồng: its risk × the fund it claims."""
        money = self.features["claimed_fund"].to_numpy(zero_copy_only=False).astype(np.float64)
        return np.asarray(self.risk * money, np.float64)


def _patterns_of(hits: dict[str, np.ndarray[Any, np.dtype[np.bool_]]], i: int) -> list[str]:
    return [p.code for p in PATTERNS if hits[p.code][i]]


def detect(run: Path, top: int | None = None, lang: str = "vi", model_dir: Path = MODEL_DIR) -> Detection:
    """Score every claim of the run in ``run``; a worklist of the ``top`` claims (default: the top 1%,
    at least 100) and of every facility."""
    model = Model(model_dir)
    features = compute(run)
    x = inputs(features)
    risk = model.risk(x)
    anomaly = x[:, -1] if x.shape[0] else np.zeros(0)
    cols = columns(features, NAMES)
    hits = fired(cols)
    n = features.num_rows
    k = min(n, top if top is not None else max(100, n // 100))
    order = np.argsort(-risk, kind="stable")
    chosen = order[:k]
    why = model.reasons(x[chosen])
    keys = ["facility", "claim_id", "card", "status", "claimed_fund", "related"]
    key = features.select(keys).take(pa.array(chosen, pa.int64())).to_pylist()
    claims = []
    for rank, (i, row, reasons) in enumerate(zip(chosen.tolist(), key, why, strict=True), start=1):
        values = {name: float(cols[name][i]) for name in NAMES}
        codes = _patterns_of(hits, i)
        claims.append(
            {
                "rank": rank,
                **{f: row[f] for f in keys[:-1]},
                "risk": round(float(risk[i]), 4),
                "anomaly": round(float(anomaly[i]), 4),
                "at_risk": round(float(risk[i]) * row["claimed_fund"]),
                "patterns": codes,
                "explanations": [BY_CODE[c].text(values, lang) for c in codes],
                "reasons": [_reason(r, lang) for r in reasons],
                "related": row["related"],
            }
        )
    return Detection(features, risk, anomaly, hits, claims, _facilities(features, risk, hits, cols), model.meta)


def _reason(name: str, lang: str) -> str:
    if name == "anomaly":
        return "bất thường so với toàn bộ hồ sơ" if lang == "vi" else "unusual against all claims"
    f = BY_NAME[name]
    return f.text_vi if lang == "vi" else f.text


def _facilities(features: pa.Table, risk: Any, hits: dict[str, Any], cols: dict[str, Any]) -> list[dict[str, Any]]:
    """Per facility (grouped with one sort, not a pass per facility): money at risk, flagged claims,
    standing against its peers, the patterns of its flagged claims."""
    encoded = features["facility"].combine_chunks().dictionary_encode()
    codes = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    group = encoded.indices.to_numpy(zero_copy_only=False)
    _, first = np.unique(group, return_index=True)  # each facility's first claim (dictionary order)
    level = features["facility_level"].take(pa.array(first)).to_pylist()
    money = features["claimed_fund"].to_numpy(zero_copy_only=False).astype(np.float64)
    flagged = risk >= HIGH_RISK

    def per(weights: Any) -> Any:
        return np.bincount(group, weights=weights, minlength=codes.size)

    claims, claimed, at_risk = per(None), per(money), per(risk * money)
    n_flagged, risk_sum = per(flagged.astype(np.float64)), per(risk)
    by_pattern = {p.code: per((hits[p.code] & flagged).astype(np.float64)) for p in PATTERNS}
    out = []
    for g, code in enumerate(codes.tolist()):
        counts = Counter({c: int(v[g]) for c, v in by_pattern.items()})
        i0 = int(first[g])
        out.append(
            {
                "facility": code,
                "level": level[g],
                "claims": int(claims[g]),
                "claimed_fund": round(float(claimed[g])),
                "at_risk": round(float(at_risk[g])),
                "at_risk_share": round(float(at_risk[g] / claimed[g]), 4) if claimed[g] > 0 else 0.0,
                "flagged": int(n_flagged[g]),
                "flagged_share": round(float(n_flagged[g] / claims[g]), 4),
                "mean_risk": round(float(risk_sum[g] / claims[g]), 4),
                "cost_z": round(float(cols["fac_cost_z"][i0]), 2),
                "services_z": round(float(cols["fac_lines_z"][i0]), 2),
                "admission_z": round(float(cols["fac_admission_z"][i0]), 2),
                "top_patterns": [c for c, v in counts.most_common(3) if v > 0],
            }
        )
    out.sort(key=lambda f: (-f["at_risk"], f["facility"]))
    for rank, f in enumerate(out, start=1):
        f["rank"] = rank
    return out


def _pattern_lists(hits: dict[str, np.ndarray[Any, np.dtype[np.bool_]]], n: int) -> pa.Array:
    """Each claim's detectors as a list column, built from the masks without a loop over claims."""
    codes = np.array([p.code for p in PATTERNS], dtype=object)
    rows, cols = np.nonzero(np.column_stack([hits[p.code] for p in PATTERNS]) if n else np.zeros((0, codes.size)))
    offsets = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(codes[cols].tolist(), pa.string()))


def write(out: Path, d: Detection) -> dict[str, Path]:
    """Parquet (every claim's score, both worklists) and the review screen's JSON under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {n: out / f"{n}.parquet" for n in ("scores", "worklist_claims", "worklist_facilities")}
    f = d.features
    scores = pa.table(
        {
            "seq": f["seq"],
            "facility": f["facility"],
            "claim_id": f["claim_id"],
            "risk": pa.array(d.risk, pa.float64()),
            "anomaly": pa.array(d.anomaly, pa.float64()),
            "at_risk": pa.array(np.rint(d.at_risk), pa.float64()).cast(pa.int64()),
            "patterns": _pattern_lists(d.hits, f.num_rows),
        }
    )
    pq.write_table(scores, paths["scores"])
    pq.write_table(_table(d.claims, CLAIM_TYPES), paths["worklist_claims"])
    pq.write_table(_table(d.facilities, FACILITY_TYPES), paths["worklist_facilities"])
    review = out / "review.json"
    doc = {"model": {k: d.model_meta.get(k) for k in ("trained", "validation")}, "claims": d.claims,
           "facilities": d.facilities}  # fmt: skip
    review.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    paths["review"] = review
    return paths


CLAIM_TYPES: dict[str, pa.DataType] = {
    "rank": pa.int32(), "facility": pa.string(), "claim_id": pa.string(), "card": pa.string(), "status": pa.string(),
    "claimed_fund": pa.int64(), "risk": pa.float64(), "anomaly": pa.float64(), "at_risk": pa.int64(),
    "patterns": pa.list_(pa.string()), "explanations": pa.list_(pa.string()), "reasons": pa.list_(pa.string()),
    "related": pa.list_(pa.string()),
}  # fmt: skip
FACILITY_TYPES: dict[str, pa.DataType] = {
    "rank": pa.int32(), "facility": pa.string(), "level": pa.string(), "claims": pa.int64(),
    "claimed_fund": pa.int64(), "at_risk": pa.int64(), "at_risk_share": pa.float64(), "flagged": pa.int64(),
    "flagged_share": pa.float64(), "mean_risk": pa.float64(), "cost_z": pa.float64(), "services_z": pa.float64(),
    "admission_z": pa.float64(), "top_patterns": pa.list_(pa.string()),
}  # fmt: skip


def _table(rows: list[dict[str, Any]], types: dict[str, pa.DataType]) -> pa.Table:
    return pa.table({k: pa.array([r[k] for r in rows], t) for k, t in types.items()})
