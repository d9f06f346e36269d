"""How well the ranking finds known abuse: the synthetic nation's labels against the scores.

Figures, overall and per labelled kind, at review budgets of the top 1% and 5% of claims: precision
and recall, ROC-AUC and PR-AUC, and the share of abusive money (claimed fund of labelled claims)
in the top 1%. Per kind, recall twice: in the ranking of all claims (where kinds compete for the
budget), and with the kind's claims ranked among the clean claims alone (what a reviewer looking for
that pattern finds with that budget); the same for a simple baseline measured in the same run —
each claim's claimed fund
as a z-score over the batch, the way a reviewer sorts by cost. Each detector's own precision and
recall on the kinds it is meant for, and its false-positive rate on clean claims, are reported too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from bhyt.fraud.features import DetectInputError
from bhyt.fraud.patterns import PATTERNS, Mask

F = npt.NDArray[np.float64]
BUDGETS = (0.01, 0.05)


@dataclass
class Ranking:
    roc_auc: float
    pr_auc: float
    precision: dict[float, float]
    recall: dict[float, float]
    money_top1: float
    recall_by_kind: dict[str, dict[float, float]]  # in the ranking of all claims
    recall_vs_clean: dict[str, dict[float, float]]  # the kind's claims ranked among the clean claims only


@dataclass
class Evaluation:
    claims: int
    positives: int
    kinds: dict[str, int]
    model: Ranking
    baseline: Ranking
    detectors: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # precision, recall, fpr

    def result_line(self) -> str:
        m = self.model
        return (f"RESULT roc_auc={m.roc_auc:.4f} pr_auc={m.pr_auc:.4f} precision_top1={m.precision[0.01]:.4f} "
                f"recall_top1={m.recall[0.01]:.4f} baseline_recall_top1={self.baseline.recall[0.01]:.4f}")  # fmt: skip


def read_labels(path: Path, features: pa.Table) -> npt.NDArray[np.object_]:
    """Each claim's labelled kind ('' when clean), aligned with ``features`` (one join, no loop)."""
    try:
        labels = pq.read_table(path, columns=["facility", "claim_id", "kind"])
    except (OSError, pa.ArrowInvalid, KeyError) as exc:
        raise DetectInputError(f"{path}: not a labels file (facility, claim_id, kind): {exc}") from None
    keys = features.select(["facility", "claim_id"]).append_column("row", pa.array(np.arange(features.num_rows)))
    joined = keys.join(labels.group_by(["facility", "claim_id"]).aggregate([("kind", "min")]), ["facility", "claim_id"])
    kinds = np.full(features.num_rows, "", dtype=object)
    kinds[joined["row"].to_numpy()] = np.asarray(joined["kind_min"].fill_null("").to_pylist(), dtype=object)
    return kinds


def baseline(features: pa.Table) -> F:
    """Claimed fund as a z-score over the batch (the simple baseline)."""
    cost = features["claimed_fund"].to_numpy(zero_copy_only=False).astype(np.float64)
    sd = cost.std()
    return (cost - cost.mean()) / sd if sd > 0 else np.zeros_like(cost)


def _top(order: npt.NDArray[np.intp], among: Mask, share: float) -> Mask:
    """The best ``share`` of the claims ``among`` (at least one), from the claims in rank ``order``."""
    ranked = order[among[order]]
    out = np.zeros(among.size, bool)
    out[ranked[: max(1, round(share * ranked.size))]] = True
    return out


def ranking(score: F, kinds: npt.NDArray[np.object_], money: F) -> Ranking:
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = kinds != ""
    both = bool(y.any() and (~y).any())
    order = np.argsort(-score, kind="stable")  # sorted once; every budget is a prefix of it
    everyone = np.ones(score.size, bool)
    top = {b: _top(order, everyone, b) for b in BUDGETS}
    names, code = np.unique(kinds, return_inverse=True)
    vs_clean, by_kind = {}, {}
    clean = kinds == ""
    for i, k in enumerate(names.tolist()):
        if k == "":
            continue
        mine = code == i
        n = mine.sum()
        by_kind[str(k)] = {b: float((top[b] & mine).sum() / n) for b in BUDGETS}
        vs_clean[str(k)] = {b: float((_top(order, mine | clean, b) & mine).sum() / n) for b in BUDGETS}
    abusive = money[y].sum()
    return Ranking(
        roc_auc=float(roc_auc_score(y, score)) if both else float("nan"),
        pr_auc=float(average_precision_score(y, score)) if both else float("nan"),
        precision={b: float((top[b] & y).sum() / top[b].sum()) for b in BUDGETS},
        recall={b: float((top[b] & y).sum() / y.sum()) if y.any() else float("nan") for b in BUDGETS},
        money_top1=float(money[top[0.01] & y].sum() / abusive) if abusive > 0 else float("nan"),
        recall_by_kind=by_kind,
        recall_vs_clean=vs_clean,
    )


def evaluate(features: pa.Table, risk: F, kinds: npt.NDArray[np.object_], hits: dict[str, Mask]) -> Evaluation:
    money = features["claimed_fund"].to_numpy(zero_copy_only=False).astype(np.float64)
    y = kinds != ""
    detectors = {}
    for p in PATTERNS:
        mine = np.isin(kinds, p.kinds)
        hit = hits[p.code]
        precision = float((hit & mine).sum() / hit.sum()) if hit.any() else float("nan")
        recall = float((hit & mine).sum() / mine.sum()) if mine.any() else float("nan")
        fpr = float((hit & ~y).sum() / (~y).sum()) if (~y).any() else float("nan")
        detectors[p.code] = (precision, recall, fpr)
    values, counts = np.unique(kinds[y], return_counts=True)
    return Evaluation(
        claims=int(y.size),
        positives=int(y.sum()),
        kinds={str(k): int(c) for k, c in zip(values, counts, strict=True)},
        model=ranking(risk, kinds, money),
        baseline=ranking(baseline(features), kinds, money),
        detectors=detectors,
    )


def as_json(ev: Evaluation) -> str:
    """The evaluation as JSON (budgets as top1/top5; a figure that cannot be computed is null)."""

    def r(x: object) -> dict[str, object]:
        d = dict(vars(x))
        for k in ("precision", "recall"):
            d[k] = {f"top{int(b * 100)}": v for b, v in d[k].items()}
        for key in ("recall_by_kind", "recall_vs_clean"):
            d[key] = {k: {f"top{int(b * 100)}": v for b, v in x_.items()} for k, x_ in d[key].items()}
        return d

    doc = _no_nan({"claims": ev.claims, "positives": ev.positives, "kinds": ev.kinds, "model": r(ev.model),
            "baseline": r(ev.baseline),
            "detectors": {k: {"precision": p, "recall": rc, "clean_fpr": f} for k, (p, rc, f) in ev.detectors.items()},
            "patterns": {p.code: p.title for p in PATTERNS}})  # fmt: skip
    return json.dumps(doc, indent=1, allow_nan=False)


def _no_nan(value: object) -> object:
    """JSON has no NaN: a figure that cannot be computed (no claims of a kind, no hits) is null."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(v) for v in value]
    return value
