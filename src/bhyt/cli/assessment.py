"""``bhyt rules`` (the catalogue) and ``bhyt assess`` (claims in, decisions and amounts out)."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import yaml

from bhyt.assessment.backends import Engine, connect
from bhyt.assessment.catalogue import ALL, BY_CODE
from bhyt.assessment.engine import EngineResult, assess
from bhyt.assessment.inputs import Batch, InputError, load
from bhyt.assessment.outcome import STATUSES, facility_summary, objects, reduction_by_rule, write
from bhyt.assessment.store import RunInfo, history, save
from bhyt.cli.common import day, open_database, progress, store_run
from bhyt.cli.console import Lang, console, table, word
from bhyt.errors import BhytError
from bhyt.policy.params import ParameterSet, default_parameters
from bhyt.reports.assessment import render

rules_app = typer.Typer(no_args_is_help=True, help="The assessment rule catalogue.")


@rules_app.command("list")
def rules_list(lang: Lang = "vi") -> None:
    """Every rule: code, severity, scope, what it needs, title."""
    t = table("code", "severity", "scope", "needs", "title", title=f"{len(ALL)} rules", lang=lang)
    t.columns[0].no_wrap = True  # a code is never folded
    for r in ALL:
        needs = ", ".join(sorted(n.value for n in r.needs))
        t.add_row(r.code, r.severity.value, r.scope.value, needs, r.title_vi if lang == "vi" else r.title)
    console().print(t)


class UnknownRuleError(BhytError, LookupError):
    """A rule code the catalogue does not hold."""

    code = "assessment.unknown_rule"


@rules_app.command("show")
def rules_show(code: Annotated[str, typer.Argument(help="A rule code, e.g. card.expired.")]) -> None:
    """One rule with its legal basis and messages."""
    rule = BY_CODE.get(code)
    if rule is None:
        raise UnknownRuleError(f"no rule {code!r}; `bhyt rules list` shows the codes")
    out = console()
    for label, value in (
        ("code", rule.code),
        ("title", f"{rule.title} — {rule.title_vi}"),
        ("severity", rule.severity.value),
        ("scope", rule.scope.value),
        ("legal basis", rule.basis),
        ("BHXH reason code", rule.reason_code or "—"),
        ("needs", ", ".join(sorted(n.value for n in rule.needs)) or "the claim, parameters and shipped lists only"),
        ("message (en)", rule.message),
        ("message (vi)", rule.message_vi),
    ):
        out.print(f"[bold]{label}:[/bold] {value}", highlight=False)


def _params(overrides: list[str]) -> ParameterSet:
    params = default_parameters()
    for item in overrides:
        name, sep, raw = item.partition("=")
        if not sep or name not in params:
            raise typer.BadParameter(f"--override takes parameter=value with a known parameter, got {item!r}")
        try:
            params = params.with_override(name, yaml.safe_load(raw))
        except BhytError as exc:
            raise typer.BadParameter(f"--override {item}: {exc}") from None
    return params


def _fund_by(result: EngineResult, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    group = {(c["facility"], c["claim_id"]): c["card_group"] for c in result.claims.to_pylist()}
    out: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        out[("group", group.get((r["facility"], r["claim_id"])) or "?")] += r["assessed_fund"]
        out[("facility", r["facility"] or "?")] += r["assessed_fund"]
    return out


def assess_cmd(
    paths: Annotated[
        list[Path], typer.Argument(help="GIAMDINHHS XML files or folders, a claims lake, or the --out of bhyt synth.")
    ],
    registry: Annotated[Path | None, typer.Option(help="Registry folder (facilities.parquet with levels).")] = None,
    catalogue: Annotated[
        Path | None, typer.Option(help="Catalogue folder (items.parquet, price_list.parquet).")
    ] = None,
    engine: Annotated[Engine, typer.Option(help="duckdb (embedded) or spark (local mode or --spark-master).")] = (
        Engine.DUCKDB
    ),
    spark_master: Annotated[
        str | None, typer.Option(help="Spark master URL (spark://host:7077); default local[*].")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl (stdout) or table.")] = "table",
    out: Annotated[Path | None, typer.Option(help="Folder for Parquet results and report.html.")] = None,
    policy_date: Annotated[str | None, typer.Option(help="What-if: read every parameter as at this date.")] = None,
    override: Annotated[list[str] | None, typer.Option(help="What-if: parameter=value (repeatable).")] = None,
    lang: Lang = "vi",
    db: Annotated[
        str | None,
        typer.Option(help="Database URL: runs are stored there, and claims paid in earlier runs are duplicates."),
    ] = None,
) -> None:
    """Assess claims: every rule of the catalogue, the amounts the fund pays, and why."""
    err = console(stderr=True)
    if fmt not in ("jsonl", "table"):
        raise typer.BadParameter(f"--format takes jsonl or table, got {fmt!r}")
    if spark_master and engine is not Engine.SPARK:
        raise typer.BadParameter("--spark-master goes with --engine spark")
    when = day(policy_date, "--policy-date") if policy_date else None
    params = _params(override or [])
    scenario = when is not None or bool(override)
    with progress(err) as bar:
        task = bar.add_task("reading claims", total=3 if not scenario else 4)
        try:
            batch = load(paths, registry, catalogue, lang=lang)
        except OSError as exc:
            raise InputError(
                f"cannot read {exc.filename or ', '.join(map(str, paths))}: {exc.strerror or exc}"
            ) from None
        store = open_database(db, create=True) if db else None
        if store is not None:
            batch.history = history(store)
        bar.update(task, advance=1, description=f"assessing ({engine.value})")
        con = connect(engine, spark_master)
        result = assess(batch, params, when, con)
        bar.update(task, advance=1, description="writing")
        rows = list(objects(batch, result, lang))
        what_if = None
        if scenario:
            bar.update(task, advance=1, description="assessing the baseline")
            base = assess(batch, default_parameters(), con=con)
            before, after = _fund_by(base, list(objects(batch, base, lang))), _fund_by(result, rows)
            what_if = [(k[0], k[1], before.get(k, 0), after.get(k, 0)) for k in sorted(set(before) | set(after))]
        bar.update(task, advance=1)
    if fmt == "jsonl":
        for r in rows:
            sys.stdout.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
        sys.stdout.flush()
    summary(err if fmt == "jsonl" else console(), rows, batch, lang)
    if what_if is not None:
        _what_if(err if fmt == "jsonl" else console(), what_if, lang)
    if out is not None:
        report = write_run(out, rows, result, ", ".join(map(str, paths)), what_if, lang)
        err.print(f"results: Parquet under {out}")
        err.print(f"report: {report}")
    if store is not None and db is not None:
        info = RunInfo(", ".join(map(str, paths)), engine.value, when, override or [])
        url = store.url
        run_id = store_run(store, "run", lambda e: save(e, info, batch, rows, result))
        err.print(f"stored: run {run_id} in {url}")


def write_run(
    out: Path,
    rows: list[dict[str, Any]],
    result: EngineResult,
    source: str,
    what_if: list[tuple[str, str, int, int]] | None = None,
    lang: Literal["vi", "en"] = "vi",
) -> Path:
    """Parquet results and the HTML report of a run under ``out``; the report's path."""
    write(out, rows, result)
    facilities = facility_summary(rows, result).to_pylist()
    report = out / "report.html"
    report.write_text(render(rows, facilities, reduction_by_rule(rows), source, what_if, lang), encoding="utf-8")
    return report


def summary(target: Any, rows: list[dict[str, Any]], batch: Batch, lang: str = "vi") -> None:
    t = table("status", "claims", "claimed fund (VND)", "assessed fund (VND)", title="Assessment", lang=lang)
    for s in STATUSES:
        mine = [r for r in rows if r["status"] == s]
        t.add_row(
            word(s, lang),
            f"{len(mine):,}",
            f"{sum(r['claimed_fund'] for r in mine):,}",
            f"{sum(r['assessed_fund'] for r in mine):,}",
        )
    target.print(t)
    top = reduction_by_rule(rows)[:10]
    if top:
        rules = table("rule", "title", "claims", "reduction (VND)", title="Largest reductions by rule", lang=lang)
        for rule, n, cut in top:
            known = BY_CODE.get(rule)
            title = (known.title_vi if lang == "vi" else known.title) if known else ""
            rules.add_row(rule, title, f"{n:,}", f"{cut:,}")
        target.print(rules)
    if not batch.has_catalogue or not batch.has_registry:
        target.print(word("skipped_checks", lang))


def _what_if(target: Any, rows: list[tuple[str, str, int, int]], lang: str = "vi") -> None:
    t = table("by", "key", "baseline fund", "scenario fund", "difference", title="What-if", lang=lang)
    for kind, key, b, s in rows:
        if kind == "group" or b != s:
            t.add_row(kind, key, f"{b:,}", f"{s:,}", f"{s - b:+,}")
    target.print(t)
