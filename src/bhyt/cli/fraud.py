"""``bhyt detect [run] ASSESS_OUT [--evaluate LABELS]`` and ``bhyt detect train``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from bhyt.cli.common import open_database, progress, store_run
from bhyt.cli.console import Lang, console, table
from bhyt.fraud.evaluate import BUDGETS, Evaluation
from bhyt.fraud.patterns import PATTERNS


class _DetectGroup(TyperGroup):
    """``bhyt detect ASSESS_OUT …`` runs ``detect run``; ``bhyt detect train …`` is its own subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's own click Context
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


detect_app = typer.Typer(
    cls=_DetectGroup,
    no_args_is_help=True,
    help="Abuse and fraud detection: `bhyt detect ASSESS_OUT` ranks an assessment run; `bhyt detect train` retrains.",
)


@detect_app.command("run")
def detect_run(
    run: Annotated[Path, typer.Argument(metavar="ASSESS_OUT", help="The --out folder of `bhyt assess`.")],
    evaluate_labels: Annotated[
        Path | None, typer.Option("--evaluate", help="The synthetic nation's labels.parquet: measure the ranking.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the worklists and report (default ASSESS_OUT/detect).")
    ] = None,
    top: Annotated[int | None, typer.Option(min=1, help="Claims on the worklist (default the top 1%, ≥ 100).")] = None,
    lang: Lang = "vi",
    db: Annotated[str | None, typer.Option(help="Database URL: the run and its worklists are stored there.")] = None,
    model_dir: Annotated[Path | None, typer.Option(help="The model folder (default: the one shipped).")] = None,
) -> None:
    """Rank assessed claims and facilities by the risk of abuse, with reasons (the default subcommand)."""
    from bhyt.fraud.model import MODEL_DIR
    from bhyt.fraud.service import run_detection
    from bhyt.reports.fraud import write_report

    err = console(stderr=True)
    with progress(err) as bar:
        task = bar.add_task("scoring claims", total=2)
        done = run_detection(run, out, evaluate_labels, top, lang, model_dir or MODEL_DIR)
        bar.update(task, advance=1, description="writing the report")
        write_report(done, str(run), lang)
        bar.update(task, advance=1)
    d, ev, paths = done.detection, done.evaluation, done.paths
    show = console()
    show_worklist(show, d.claims[:15], d.facilities[:10], lang)
    if db is not None:
        from bhyt.fraud.store import save

        store = open_database(db, create=True)
        url = store.url
        run_id = store_run(store, "detection run", lambda e: save(e, str(run), d))
        err.print(f"stored: detection run {run_id} in {url}")
    err.print(f"worklists: {paths['worklist_claims']}, {paths['worklist_facilities']}; review form: {paths['review']}")
    err.print(f"report: {paths['report']}")
    if ev is not None:
        show_evaluation(show, ev)
        print(ev.result_line(), flush=True)


@detect_app.command("train")
def detect_train(
    people: Annotated[int, typer.Option(min=1_000, help="People in each synthetic nation.")] = 100_000,
    seeds: Annotated[str, typer.Option(help="Training seeds, comma-separated.")] = "101,102",
    validation_seed: Annotated[int, typer.Option(help="The held-out nation's seed.")] = 103,
    model_dir: Annotated[Path | None, typer.Option(help="Where to write the model (default: the one shipped).")] = None,
) -> None:
    """Retrain the risk model on synthetic nations and validate it on a held-out one (about two minutes)."""
    from bhyt.fraud.model import MODEL_DIR
    from bhyt.fraud.train import train

    try:
        seed_list = tuple(int(s) for s in seeds.split(","))
    except ValueError:
        raise typer.BadParameter(f"--seeds takes comma-separated integers, got {seeds!r}") from None
    if validation_seed in seed_list:
        raise typer.BadParameter("--validation-seed must not be one of --seeds")
    err = console(stderr=True)
    folder = model_dir or MODEL_DIR
    meta = train(people, seed_list, validation_seed, model_dir=folder, say=err.print)
    v = meta["validation"]
    console().print(f"model written to {folder}; validation (seed {v['seed']}, other provinces): "
                    f"ROC-AUC {v['roc_auc']}, PR-AUC {v['pr_auc']}, "
                    f"precision top 1% {v['precision_top1']}")  # fmt: skip


def show_worklist(
    out: object, claims: list[dict[str, object]], facilities: list[dict[str, object]], lang: str = "vi"
) -> None:
    t = table("rank", "facility", "claim", "risk", "at risk (VND)", "patterns", "why", title="Claims to review",
              lang=lang)  # fmt: skip
    for c in claims:
        why = "; ".join(c["explanations"] or c["reasons"])  # type: ignore[arg-type]
        t.add_row(str(c["rank"]), str(c["facility"]), str(c["claim_id"]), f"{c['risk']:.3f}", f"{c['at_risk']:,}",
                  ", ".join(c["patterns"]), why)  # type: ignore[arg-type]  # fmt: skip
    f = table("rank", "facility", "level", "claims", "at risk (VND)", "flagged", "patterns",
              title="Facilities to review", lang=lang)  # fmt: skip
    for r in facilities:
        f.add_row(str(r["rank"]), str(r["facility"]), str(r["level"]), f"{r['claims']:,}", f"{r['at_risk']:,}",
                  f"{r['flagged_share']:.1%}", ", ".join(r["top_patterns"]))  # type: ignore[arg-type]  # fmt: skip
    out.print(t)  # type: ignore[attr-defined]
    out.print(f)  # type: ignore[attr-defined]


def show_evaluation(out: object, ev: Evaluation) -> None:
    t = Table("kind", "claims", *(f"{x} top {b:.0%}" for b in BUDGETS for x in ("recall", "baseline")), "× baseline",
              "all: recall top 5%", "detector", "precision", "recall", "clean FPR",
              title="Evaluation per pattern (recall: the kind among clean claims; all: in the ranking of "
                    "all claims)")  # fmt: skip
    for kind, n in sorted(ev.kinds.items()):
        detector = next((p for p in PATTERNS if kind in p.kinds), None)
        p, r, fpr = ev.detectors[detector.code] if detector else (float("nan"),) * 3
        model, base = ev.model.recall_vs_clean[kind], ev.baseline.recall_vs_clean[kind]
        cells = [f"{rk[b]:.3f}" for b in BUDGETS for rk in (model, base)]
        times = f"{model[0.01] / base[0.01]:.1f}" if base[0.01] > 0 else "∞"
        t.add_row(kind, f"{n:,}", *cells, times, f"{ev.model.recall_by_kind[kind][0.05]:.3f}",
                  detector.code if detector else "—", f"{p:.3f}", f"{r:.3f}", f"{fpr:.5f}")  # fmt: skip
    m, b = ev.model, ev.baseline
    o = Table("", "ROC-AUC", "PR-AUC", "precision top 1%", "recall top 1%", "precision top 5%", "recall top 5%",
              "abusive money in top 1%", title=f"Overall: {ev.claims:,} claims, {ev.positives:,} labelled")  # fmt: skip
    for name, x in (("model", m), ("baseline (cost z-score)", b)):
        o.add_row(name, f"{x.roc_auc:.4f}", f"{x.pr_auc:.4f}", f"{x.precision[0.01]:.3f}", f"{x.recall[0.01]:.3f}",
                  f"{x.precision[0.05]:.3f}", f"{x.recall[0.05]:.3f}", f"{x.money_top1:.1%}")  # fmt: skip
    out.print(t)  # type: ignore[attr-defined]
    out.print(o)  # type: ignore[attr-defined]
    out.print("Synthetic data: the abuse was injected by known rules, so it is easier to find than in real claims.")  # type: ignore[attr-defined]
