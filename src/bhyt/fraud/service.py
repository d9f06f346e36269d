"""One detection run end to end, as the command, the demo and the benchmark do it: score the
assessment run, evaluate against labels when given, and write every output under one folder (the
HTML report is the adapters' part: ``bhyt.reports.fraud``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bhyt.fraud.detect import Detection, detect, write
from bhyt.fraud.evaluate import Evaluation, as_json, evaluate, read_labels
from bhyt.fraud.model import MODEL_DIR


@dataclass
class Outcome:
    detection: Detection
    evaluation: Evaluation | None
    paths: dict[str, Path]  # scores, worklist_claims, worklist_facilities, review[, evaluation]
    folder: Path


def run_detection(
    run: Path,
    out: Path | None = None,
    labels: Path | None = None,
    top: int | None = None,
    lang: str = "vi",
    model_dir: Path = MODEL_DIR,
) -> Outcome:
    """Detect over the assessment run in ``run``; outputs under ``out`` (default ``run/detect``)."""
    d = detect(run, top, lang, model_dir)
    ev = evaluate(d.features, d.risk, read_labels(labels, d.features), d.hits) if labels is not None else None
    folder = out or run / "detect"
    paths = write(folder, d)
    if ev is not None:
        paths["evaluation"] = folder / "evaluation.json"
        paths["evaluation"].write_text(as_json(ev) + "\n", encoding="utf-8")
    return Outcome(d, ev, paths, folder)
