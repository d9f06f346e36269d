"""``bhyt detect train``: retrain the shipped model on labelled synthetic nations.

Training and validation never share a seed or a province: the model is fitted on nations of the
training seeds over one half of the provinces and validated on a nation of another seed over the
other half; the validation figures go into ``risk.json`` beside the model. Everything is
deterministic for the seeds given, so the shipped model can be regenerated exactly.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bhyt.fraud.evaluate import evaluate, read_labels
from bhyt.fraud.features import NAMES, compute
from bhyt.fraud.model import MODEL_DIR, fit, inputs, save
from bhyt.fraud.patterns import columns, fired

TRAIN_SEEDS = (101, 102)
VALIDATION_SEED = 103
TRAIN_PEOPLE = 100_000


def provinces_split() -> tuple[list[str], list[str]]:
    """The 34 provinces in code order, alternately to training and to validation."""
    from bhyt.synth.reference import PROVINCE_SHARES

    codes = sorted(PROVINCE_SHARES)
    return codes[0::2], codes[1::2]


def assess_nation(seed: int, people: int, provinces: list[str], year: int, work: Path) -> Path:
    """Generate a labelled nation and assess it (DuckDB, its registry and catalogue); the run's folder."""
    from bhyt.assessment.engine import assess
    from bhyt.assessment.inputs import load
    from bhyt.assessment.outcome import objects, write
    from bhyt.policy.params import default_parameters
    from bhyt.synth.run import SynthConfig, synthesize

    nation = work / f"nation-{seed}"
    synthesize(SynthConfig(people=people, year=year, seed=seed, out=nation, provinces=provinces))
    batch = load([nation], lang="en")
    result = assess(batch, default_parameters())
    run = work / f"assessed-{seed}"
    write(run, list(objects(batch, result, "en")), result)
    (run / "labels.parquet").write_bytes((nation / "labels.parquet").read_bytes())
    return run


def train(
    people: int = TRAIN_PEOPLE,
    seeds: tuple[int, ...] = TRAIN_SEEDS,
    validation_seed: int = VALIDATION_SEED,
    year: int = 2025,
    model_dir: Path = MODEL_DIR,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fit on ``seeds`` (training provinces), validate on ``validation_seed`` (the other provinces),
    write the model to ``model_dir``; the metadata written beside it."""
    if validation_seed in seeds:
        raise ValueError("the validation seed must not be a training seed")
    train_prov, valid_prov = provinces_split()
    with tempfile.TemporaryDirectory(prefix="bhyt-train-") as tmp:
        work = Path(tmp)
        xs, ys = [], []
        for seed in seeds:
            say(f"training nation: seed {seed}, {people:,} people, {len(train_prov)} provinces")
            run = assess_nation(seed, people, train_prov, year, work)
            features = compute(run)
            xs.append(inputs(features))
            ys.append((read_labels(run / "labels.parquet", features) != "").astype(np.int8))
        x, y = np.vstack(xs), np.concatenate(ys)
        say(f"fitting on {x.shape[0]:,} claims ({int(y.sum()):,} labelled)")
        booster = fit(x, y)
        say(f"validation nation: seed {validation_seed}, {len(valid_prov)} other provinces")
        run = assess_nation(validation_seed, people, valid_prov, year, work)
        features = compute(run)
        kinds = read_labels(run / "labels.parquet", features)
        risk = np.asarray(booster.predict(inputs(features)), np.float64)
        ev = evaluate(features, risk, kinds, fired(columns(features, NAMES)))
    meta = {
        "trained": {"seeds": list(seeds), "people": people, "year": year,
                    "provinces": train_prov, "claims": int(x.shape[0]), "labelled": int(y.sum())},
        "validation": {"seed": validation_seed, "provinces": valid_prov, "claims": ev.claims,
                       "roc_auc": round(ev.model.roc_auc, 4), "pr_auc": round(ev.model.pr_auc, 4),
                       "precision_top1": round(ev.model.precision[0.01], 4),
                       "recall_top5": round(ev.model.recall[0.05], 4)},
    }  # fmt: skip
    save(booster, meta, model_dir)
    return meta
