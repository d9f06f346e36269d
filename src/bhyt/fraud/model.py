"""The learned risk score: an unsupervised anomaly model and a supervised model, combined.

- **Anomaly** (unsupervised, no labels): a histogram-based outlier score fitted on the batch being
  scored, over the claim features; a claim's anomaly is its percentile among the batch's scores,
  so it means the same on a province and on the nation. (An isolation forest was measured too: ten
  times slower to score a million claims, for no gain once the supervised model reads it.)
- **Supervised**: a LightGBM model trained on labelled synthetic nations (``bhyt detect train``),
  shipped in the package as LightGBM's own text format (``model/risk.txt``, small, no pickle) with
  ``model/risk.json`` saying what it was trained on and how it scored on held-out data.
  The anomaly percentile is one of its inputs, so the two are combined by the model itself.
- **Reasons**: LightGBM's per-claim feature contributions (SHAP values); the strongest positive ones
  are the claim's reasons, in the words of :data:`bhyt.fraud.features.FEATURES`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from bhyt.errors import BhytError
from bhyt.fraud.features import NAMES

MODEL_DIR = Path(__file__).parent / "model"
INPUTS = (*NAMES, "anomaly")
F = npt.NDArray[np.float64]
ANOMALY_BINS = 50
SEED = 20261202
LGBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": SEED,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbose": -1,
}
ROUNDS = 150


class ModelError(BhytError):
    """The shipped model is missing or does not match this version's features."""

    code = "fraud.model"


def matrix(features: pa.Table) -> F:
    """The claim features in :data:`NAMES` order, as floats (nulls as 0)."""
    cols = [np.nan_to_num(features[n].to_numpy(zero_copy_only=False).astype(np.float64)) for n in NAMES]
    return np.column_stack(cols) if cols else np.zeros((features.num_rows, 0))


def anomaly(x: F, bins: int = ANOMALY_BINS) -> F:
    """Each claim's anomaly percentile in [0, 1]: a histogram-based outlier score (HBOS; Goldstein and
    Dengel, 2012) fitted on ``x`` itself. Per feature, the claims fall into equal-width bins; a
    claim's score is the sum over features of −log of its bins' shares, so a claim that is rare on
    several features at once scores high. Linear in claims and features, no labels."""
    n = x.shape[0]
    if n < 2:
        return np.zeros(n)
    raw = np.zeros(n)
    for j in range(x.shape[1]):
        col = x[:, j]
        lo, hi = col.min(), col.max()
        if hi <= lo:
            continue
        idx = np.minimum(((col - lo) / (hi - lo) * bins).astype(np.int64), bins - 1)
        share = np.bincount(idx, minlength=bins) / n
        raw -= np.log(share[idx])
    return percentile(raw)


def percentile(values: F) -> F:
    """Each value's rank in [0, 1] (0 the lowest, 1 the highest), equal values sharing their mean rank."""
    n = values.size
    if n < 2:
        return np.zeros(n)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    below = np.cumsum(counts) - counts  # values strictly lower
    return np.asarray((below + (counts - 1) / 2)[inverse] / (n - 1), np.float64)


def inputs(features: pa.Table) -> F:
    x = matrix(features)
    return np.column_stack([x, anomaly(x)])


class Model:
    """The shipped (or a retrained) supervised model, loaded once."""

    def __init__(self, model_dir: Path = MODEL_DIR) -> None:
        import lightgbm as lgb

        path, meta_path = model_dir / "risk.txt", model_dir / "risk.json"
        if not path.is_file() or not meta_path.is_file():
            raise ModelError(f"no trained model in {model_dir}; `bhyt detect train` makes one")
        self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        if tuple(self.meta.get("inputs", ())) != INPUTS:
            raise ModelError(f"the model in {model_dir} was trained on other features; run `bhyt detect train`")
        self.booster = lgb.Booster(model_file=str(path))

    def risk(self, x: F) -> F:
        """Each claim's risk in [0, 1] from its inputs (features and anomaly)."""
        if x.shape[0] == 0:
            return np.zeros(0)
        return np.asarray(self.booster.predict(x, num_threads=2), np.float64)

    def reasons(self, x: F, top: int = 3) -> list[list[str]]:
        """The names of each claim's ``top`` inputs pushing its risk up the most (SHAP contributions in
        log-odds above 0.05). Costly per claim: asked for the worklist only."""
        if x.shape[0] == 0:
            return []
        c = np.asarray(self.booster.predict(x, pred_contrib=True, num_threads=2), np.float64)[:, :-1]
        best = np.argsort(-c, axis=1)[:, :top]
        return [[INPUTS[j] for j in row if c[i, j] > 0.05] for i, row in enumerate(best)]


def fit(x: F, y: npt.NDArray[np.int8]) -> Any:
    """A LightGBM booster on inputs ``x`` (with the anomaly column) and labels ``y``."""
    import lightgbm as lgb

    data = lgb.Dataset(x, label=y, feature_name=list(INPUTS), free_raw_data=True)
    return lgb.train(LGBM_PARAMS, data, num_boost_round=ROUNDS)


def save(booster: Any, meta: dict[str, Any], model_dir: Path = MODEL_DIR) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(model_dir / "risk.txt"))
    meta = {"inputs": list(INPUTS), "params": LGBM_PARAMS, "rounds": ROUNDS, **meta}
    (model_dir / "risk.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
