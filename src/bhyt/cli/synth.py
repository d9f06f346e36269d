"""``bhyt synth``: the synthetic nation from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bhyt.cli.console import console
from bhyt.synth import reference as ref
from bhyt.synth.run import SynthConfig, synthesize

FORMATS = ("parquet", "xml")


def summary_table(summary: dict[str, Any]) -> Table:
    """The calibration figures produced, beside their targets."""
    targets = summary["targets"]
    table = Table(title="Synthetic nation: what was produced")
    for col in ("figure", "produced", "target"):
        table.add_column(col, justify="right" if col != "figure" else "left")
    table.add_row("people", f"{summary['people']:,}", "")
    table.add_row("insured", f"{summary['insured']:,}", "")
    table.add_row("coverage rate", f"{summary['coverage_rate']:.2%}", f"{targets['coverage_rate']:.2%}")
    table.add_row("visits (claims)", f"{summary['visits']:,}", "")
    table.add_row("visits per insured", f"{summary['visits_per_insured']:.2f}", f"{targets['visits_per_insured']:.2f}")
    table.add_row("requested (T_BHTT) total, VND", f"{summary['requested_total_vnd']:,}", "")
    table.add_row(
        "requested mean per visit, VND", f"{summary['requested_mean_vnd']:,}", f"{targets['requested_mean_vnd']:,}"
    )
    table.add_row("inpatient share of visits", f"{summary['inpatient_share']:.1%}", "9–10%")
    table.add_row("lines", f"{summary['lines']:,}", "")
    table.add_row("facilities", f"{summary['facilities']:,}", "")
    table.add_row(
        "people over 500M / 1bn a year",
        f"{summary['people_over_500m_vnd']} / {summary['people_over_1bn_vnd']}",
        "",
    )
    for group, share in summary["share_by_cost_group"].items():
        table.add_row(f"cost share MA_NHOM {group}", f"{share:.1%}", "")
    for kind, count in summary["abuse_counts"].items():
        table.add_row(f"abuse: {kind}", f"{count:,}", "")
    return table


def synth(
    out: Annotated[Path, typer.Option(help="Output folder (replaced).")],
    people: Annotated[int, typer.Option(min=1, help="People in the nation.")] = 20_000,
    year: Annotated[
        int, typer.Option(min=2024, max=2027, help="Year of care (route-code lists cover 2024 on).")
    ] = 2025,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same output.")] = 1,
    provinces: Annotated[str | None, typer.Option(help="Comma-separated 34-province codes (default: all).")] = None,
    format: Annotated[str, typer.Option("--format", help="parquet, xml or both, comma-separated.")] = "parquet",
    abuse_rate: Annotated[float, typer.Option(min=0.0, max=0.5, help="Share of claims with labelled abuse.")] = 0.03,
    chunk_size: Annotated[
        int, typer.Option(min=1_000, help="People per chunk (bounds memory; part of the seed: keep it to reproduce).")
    ] = 100_000,
) -> None:
    """Generate a calibrated synthetic nation: people, cards, facilities, catalogues, claims, labels."""
    formats = frozenset(f.strip() for f in format.split(",") if f.strip())
    if not formats or formats - set(FORMATS):
        raise typer.BadParameter(f"--format takes {', '.join(FORMATS)}, got {format!r}")
    selected = [p.strip().zfill(2) for p in provinces.split(",")] if provinces else None
    if selected and set(selected) - set(ref.PROVINCE_SHARES):
        bad = sorted(set(selected) - set(ref.PROVINCE_SHARES))
        raise typer.BadParameter(f"--provinces: {', '.join(bad)} not among the 34 province codes")
    config = SynthConfig(
        people=people,
        year=year,
        seed=seed,
        out=out,
        provinces=selected,
        formats=formats,
        abuse_rate=abuse_rate,
        chunk_size=chunk_size,
    )
    err = console(stderr=True)
    with Progress(
        TextColumn("[bold]synth[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("people"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("people", total=people)
        summary = synthesize(config, progress=lambda n: bar.advance(task, n))
    console().print(summary_table(summary))
    console().print(
        f"written to {out} (summary.json, labels.parquet, registry/, catalogue/, lake/"
        f"{', xml/' if 'xml' in formats else ''})"
    )
