"""``bhyt demo``: the main job on embedded defaults.

It generates a small synthetic province (Cần Thơ, in seconds) as claim files and a Parquet lake,
then prices a handful of example visits and households with the policy core, each chosen to show
one rule at work, through the whole pipeline (registry → intake → assessment → abuse detection).
The registry is loaded into ``out/demo/claims.db`` (with a few card checks); intake ingests the
province's files into the same database and exports the claims lake; the assessment stores its run
there, and the abuse detection ranks the assessed claims (worklists, report, evaluation against the
synthetic truth); the end tells how to serve it all over HTTP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import track
from rich.table import Table

from bhyt.assessment.engine import assess
from bhyt.assessment.inputs import load
from bhyt.assessment.outcome import facility_summary, largest_reductions, objects
from bhyt.assessment.store import RunInfo, history, save
from bhyt.claims.ingest import footprint
from bhyt.claims.lake import export_lake
from bhyt.cli.assessment import summary as assessment_summary
from bhyt.cli.assessment import write_run
from bhyt.cli.claims import run_ingest, summary
from bhyt.cli.synth import summary_table
from bhyt.db import connect
from bhyt.policy.benefit import FacilityLevel, Visit
from bhyt.policy.card import parse_card
from bhyt.policy.contribution import contribution, household_contributions
from bhyt.policy.display import amount, percent
from bhyt.policy.params import ParameterSet, default_parameters
from bhyt.policy.split import Line, price_visit
from bhyt.registry.load import load_registry
from bhyt.registry.service import card_index, collection
from bhyt.synth.run import SynthConfig, synthesize

DEMO_OUT = Path("out/demo")
DEMO_DB = DEMO_OUT / "claims.db"  # the registry, the claims and the assessment runs
DEMO_PROVINCE = SynthConfig(
    people=10_000,
    year=2025,
    seed=2025,
    out=DEMO_OUT / "nation",
    provinces=["92"],
    formats=frozenset({"xml", "parquet"}),
)

D = Decimal


@dataclass(frozen=True)
class Example:
    title: str
    card: str
    visit_type: str
    route: str
    level: FacilityLevel
    on: date
    lines: tuple[Line, ...]


CONSULT = Line("13", D(1), D(45_000), label="consultation")
EXAMPLES = (
    Example(
        "Outpatient at the registered facility",
        "DN4797912345678",
        "01",
        "1.1",
        FacilityLevel.BASIC,
        date(2026, 8, 3),
        (CONSULT, Line("4", D(30), D(12_500), label="drug"), Line("1", D(1), D(95_000), label="blood test")),
    ),
    Example(
        "Same card, a small visit (< 15% of 2,530,000)",
        "DN4797912345678",
        "01",
        "1.1",
        FacilityLevel.BASIC,
        date(2026, 8, 3),
        (CONSULT, Line("4", D(20), D(9_000), label="drug")),
    ),
    Example(
        "Pensioner self-referred, inpatient at a former central hospital",
        "HT3010112345678",
        "03",
        "3.1",
        FacilityLevel.SPECIALISED,
        date(2026, 8, 10),
        (
            Line("15", D(6), D(320_000), label="bed days"),
            Line("8", D(1), D(9_800_000), label="surgery"),
            Line("10", D(2), D(1_450_000), supply_package="G1", label="supplies"),
        ),
    ),
    Example(
        "Self-referred outpatient, former provincial hospital, 30 June 2026",
        "GD4380112345678",
        "01",
        "1.18",
        FacilityLevel.SPECIALISED,
        date(2026, 6, 30),
        (CONSULT, Line("2", D(1), D(520_000), label="CT scan")),
    ),
    Example(
        "The same visit on 1 July 2026 (50% step)",
        "GD4380112345678",
        "01",
        "1.18",
        FacilityLevel.SPECIALISED,
        date(2026, 7, 1),
        (CONSULT, Line("2", D(1), D(520_000), label="CT scan")),
    ),
    Example(
        "Child under 6: no cap on a percentage-paid drug",
        "TE1010112345678",
        "01",
        "1.1",
        FacilityLevel.BASIC,
        date(2026, 8, 3),
        (CONSULT, Line("6", D(10), D(85_000), listed_item_rate=D(50), label="drug 50%")),
    ),
    Example(
        "Adult, same percentage-paid drug",
        "DN4797912345678",
        "01",
        "1.1",
        FacilityLevel.BASIC,
        date(2026, 8, 3),
        (CONSULT, Line("6", D(10), D(85_000), listed_item_rate=D(50), label="drug 50%")),
    ),
    Example(
        "Student at a commune health station",
        "SV4920112345678",
        "01",
        "1.2",
        FacilityLevel.PRIMARY,
        date(2026, 8, 3),
        (CONSULT, Line("4", D(40), D(11_000), label="drug")),
    ),
    Example(
        "Soldier, a drug outside the list (PHAM_VI 3)",
        "QN5970112345678",
        "01",
        "1.1",
        FacilityLevel.BASIC,
        date(2026, 8, 3),
        (CONSULT, Line("4", D(5), D(150_000), scope="3", label="off-list drug")),
    ),
)


def visits_table(params: ParameterSet) -> Table:
    table = Table(title="Example visits priced by the policy core", show_lines=True)
    for col in (
        "visit",
        "card",
        "route",
        "date",
        "in scope",
        "MUC_HUONG",
        "why",
        "fund pays",
        "patient pays",
    ):
        table.add_column(col, justify="right" if col in ("in scope", "fund pays", "patient pays") else "left")
    for ex in track(EXAMPLES, description="pricing visits", transient=True):
        card = parse_card(ex.card, params, ex.on)
        assert card.benefit_digit is not None
        visit = Visit(card.benefit_digit, ex.visit_type, ex.route, ex.level, ex.on, D(0))
        priced = price_visit(params, visit, ex.lines)
        t = priced.totals
        why = ", ".join(priced.rate.reasons) or f"level {percent(priced.rate.level_rate)}"
        if priced.rate.route_rate != 100:
            why += f" × route {percent(priced.rate.route_rate)}"
        table.add_row(
            ex.title,
            ex.card[:3],
            ex.route,
            ex.on.isoformat(),
            amount(t.insured),
            percent(priced.rate.rate),
            why,
            amount(t.fund),
            amount(t.outside + t.copay),
        )
    return table


def contributions_table(params: ParameterSet) -> Table:
    start, months = date(2026, 1, 1), 12
    table = Table(title="Contributions for 2026 (base salary 2,340,000 to June, 2,530,000 from July)")
    for col in ("participant", "total", "employer", "person", "state", "social insurance"):
        table.add_column(col, justify="right" if col != "participant" else "left")
    family = household_contributions(params, groups=["GD"] * 5 + ["TE"], start=start, months=months)
    rows = [(f"household member {i + 1} (GD)", c) for i, c in enumerate(family[:5])]
    rows.append(("household child under 6 (TE, state pays)", family[5]))
    rows += [
        (
            "employee, salary 12,000,000 (DN)",
            contribution(params, group="DN", start=start, months=months, income=12_000_000),
        ),
        (
            "pensioner, pension 6,500,000 (HT)",
            contribution(params, group="HT", start=start, months=months, income=6_500_000),
        ),
        ("university student (SV)", contribution(params, group="SV", start=start, months=months)),
        ("near-poor (CN)", contribution(params, group="CN", start=start, months=months)),
    ]
    for label, c in rows:
        table.add_row(
            label,
            amount(c.total),
            amount(c.employer),
            amount(c.person),
            amount(c.state),
            amount(c.social_insurance),
        )
    return table


def registry(console: Console, folder: Path, params: ParameterSet) -> None:
    """A fresh SQLite database with the province's registry, and a few card checks at the counter."""
    for old in DEMO_OUT.glob("claims.db*"):
        old.unlink()
    cards = pq.read_table(folder / "cards.parquet", columns=["card", "citizen_id", "valid_from", "registered_facility"])
    engine = connect(f"sqlite:///{DEMO_DB}")
    try:
        started = time.perf_counter()
        loaded = load_registry(engine, folder, params)
        index = card_index(engine)
        june = cards.column("valid_from")[0].as_py().replace(month=6, day=1)
        units = collection(engine, params, june)
    finally:
        engine.dispose()
    console.print(
        f"registry loaded into {DEMO_DB} in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{n:,} {k}" for k, n in loaded.__dict__.items())
    )
    table = Table(
        "asked with", "date", "facility", "outcome", "card", "benefit", "valid to", "route", title="Card checks"
    )
    for i, (how, shift) in enumerate((("card", 0), ("citizen ID", 0), ("card", -400))):
        c = cards.slice(i * 7, 1).to_pylist()[0]
        at = c["valid_from"] + timedelta(days=shift)
        key = {"card": c["card"]} if how == "card" else {"citizen_id": c["citizen_id"]}
        a = index.check(params, at, facility=c["registered_facility"], **key)
        benefit = f"{a.benefit_percent}%" if a.benefit_percent else ""
        table.add_row(f"{how} {key.popitem()[1]}", at.isoformat(), c["registered_facility"], a.outcome, a.card or "",
                      benefit, str(a.valid_to or ""), a.route_code or "")  # fmt: skip
    console.print(table)
    due, paid = sum(u["total"] for u in units), sum(u["paid"] for u in units)
    late = sum(u["status"] == "late" for u in units)
    owing = [u for u in units if u["status"] in ("partial", "unpaid")]
    console.print(
        f"contributions for {june:%Y-%m}: {len(units):,} paying units owe {due:,} VND, {paid:,} paid "
        f"({min(paid, due) / max(due, 1):.2%}); {late} paid late, {len(owing)} in arrears "
        f"({sum(u['outstanding'] for u in owing):,} VND) — bhyt registry contributions --month {june:%Y-%m}"
    )


def intake(console: Console, folder: Path) -> None:
    """Ingest the claim files into the demo's SQLite store, send one file again, and export the lake."""
    db = DEMO_DB
    engine = connect(f"sqlite:///{db}")
    try:
        files = sorted(folder.rglob("*.xml"))
        started = time.perf_counter()
        counts, first = run_ingest(engine, files, "en", 1000, None, console)
        elapsed = time.perf_counter() - started
        console.print(summary(counts, first))
        received = sum(counts.values())
        console.print(
            f"{received:,} HOSO from {len(files):,} files in {elapsed:.1f} s "
            f"({received / elapsed:,.0f} HOSO/s) into {db}"
        )
        again, _ = run_ingest(engine, files[:1], "en", 1000, 0, console)
        console.print(f"the first file sent again: {dict(again)} — a resubmission is never paid twice")
        claims, size = footprint(engine)
        console.print(
            f"claims store: {size / 2**20:,.1f} MiB for {claims:,} claims, {size / max(claims, 1) / 1024:.1f} KiB a "
            "claim (originals and versions compressed with Zstandard dictionaries)"
        )
        lake = DEMO_OUT / "intake"
        counts_out = export_lake(engine, lake)
        console.print(
            f"claims lake exported to {lake / 'lake'}: " + ", ".join(f"{n:,} {k}" for k, n in counts_out.items())
        )
    finally:
        engine.dispose()


def assessment(console: Console, lake: Path, nation: Path) -> None:
    """Assess the intake's lake with the nation's registry and catalogue; per-facility summary, report."""
    started = time.perf_counter()
    batch = load([lake], registry=nation / "registry", catalogue=nation / "catalogue")
    engine = connect(f"sqlite:///{DEMO_DB}")
    try:
        batch.history = history(engine)  # claims paid in earlier runs: a copy under a new MA_LK is caught
        result = assess(batch, default_parameters())
        rows = list(objects(batch, result, "en"))
        run_id = save(engine, RunInfo(str(lake), "duckdb", None, []), batch, rows, result)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    assessment_summary(console, rows, batch)
    facilities = facility_summary(rows, result).to_pylist()
    table = Table("facility", "claims", "claimed fund", "assessed fund", "reduction", title="Per facility (top 10)")
    for code, n, claimed, assessed in largest_reductions(facilities, 10):
        table.add_row(code, f"{n:,}", f"{claimed:,}", f"{assessed:,}", f"{claimed - assessed:,}")
    console.print(table)
    report = write_run(DEMO_OUT / "assessment", rows, result, str(lake))
    console.print(
        f"{len(rows):,} claims assessed and stored (run {run_id} in {DEMO_DB}) in {elapsed:.1f} s; "
        f"results and the HTML report: {report}"
    )
    console.print(
        "Try [bold]bhyt assess out/demo/nation --format jsonl --lang en | head[/bold] and [bold]bhyt rules list[/bold]."
    )


def detection(console: Console, run: Path, labels: Path) -> None:
    """Rank the assessed claims and facilities by the risk of abuse; measure it against the truth."""
    from bhyt.cli.fraud import show_evaluation, show_worklist
    from bhyt.fraud.service import run_detection
    from bhyt.fraud.store import save as save_detection
    from bhyt.reports.fraud import write_report

    started = time.perf_counter()
    done = run_detection(run, labels=labels, lang="en")
    write_report(done, str(run), "en")
    d, ev, folder = done.detection, done.evaluation, done.folder
    assert ev is not None
    engine = connect(f"sqlite:///{DEMO_DB}")
    try:
        run_id = save_detection(engine, str(run), d)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    show_worklist(console, d.claims[:10], d.facilities[:5])
    show_evaluation(console, ev)
    console.print(
        f"{d.features.num_rows:,} claims scored in {elapsed:.1f} s (detection run {run_id} in {DEMO_DB}); "
        f"worklists, review JSON and the HTML report under {folder}"
    )
    console.print(ev.result_line())


def run(console: Console) -> None:
    params = default_parameters()
    config = DEMO_PROVINCE
    console.print(f"[bold]1. A synthetic province[/bold]: {config.people:,} people of Cần Thơ (92), year {config.year}")
    summary = synthesize(config, params=params)
    console.print(summary_table(summary))
    files = sum(1 for _ in (config.out / "xml").rglob("*.xml"))
    console.print(
        f"claim files: {files:,} GIAMDINHHS envelopes under {config.out / 'xml'}; "
        f"Parquet lake under {config.out / 'lake'}; truth in {config.out / 'labels.parquet'}"
    )
    console.print("[bold]2. Registry[/bold]: the province's people, households, participation and cards")
    registry(console, config.out / "registry", params)
    console.print("[bold]3. Intake[/bold]: the province's claim files through the parser, checks and store")
    intake(console, config.out / "xml")
    console.print("[bold]4. Assessment[/bold]: every ingested claim through the rule catalogue (DuckDB)")
    assessment(console, DEMO_OUT / "intake", config.out)
    console.print("[bold]5. Abuse detection[/bold]: patterns and a learned risk score over the assessed claims")
    detection(console, DEMO_OUT / "assessment", config.out / "labels.parquet")
    console.print("[bold]6. The policy core at work[/bold]")
    console.print(visits_table(params))
    console.print(contributions_table(params))
    console.print(
        "Try [bold]bhyt policy explain --help[/bold] to price your own visit step by step, and "
        "[bold]bhyt policy show --date 2026-07-01[/bold] for every rule in force."
    )
    console.print("[bold]7. The service[/bold]: card checks, the registry and claims over HTTP")
    console.print(
        "  export BHYT_TOKEN_SECRET=$(openssl rand -hex 32)\n"
        f"  .venv/bin/bhyt serve --db sqlite:///{DEMO_DB}\n"
        "  TOKEN=$(.venv/bin/bhyt token --role auditor)\n"
        '  curl -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:8000/eligibility?card=<a card above>"\n'
        "Then open [bold]http://127.0.0.1:8000/docs[/bold] (OpenAPI) and, later, [bold].venv/bin/bhyt audit "
        f"--db sqlite:///{DEMO_DB}[/bold] to see who read what."
    )
