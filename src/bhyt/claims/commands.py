"""``bhyt ingest``: claim files into the store, with a receipt for every HOSO."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from bhyt.claims.ingest import STATUSES, Receipt, ingest_paths, reading_pool
from bhyt.claims.lake import export_lake
from bhyt.console import console
from bhyt.db import DEFAULT_URL
from bhyt.db.commands import open_database


def _files(paths: list[Path]) -> list[Path]:
    """Files as given, folders expanded to their *.xml (GIAMDINHHS) and *.json (FHIR) files, sorted."""
    out: list[Path] = []
    for p in paths:
        found = (
            [q for q in p.rglob("*") if q.suffix.lower() in (".xml", ".json") and q.is_file()] if p.is_dir() else [p]
        )
        out += sorted(found)
    return out


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="GIAMDINHHS XML or FHIR JSON files, or folders of them.")],
    db: Annotated[str, typer.Option(help="Database URL; created and migrated when new.")] = DEFAULT_URL,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines on stdout, one object per HOSO.")] = False,
    lang: Annotated[str, typer.Option(help="Language of the messages: vi or en.")] = "vi",
    batch: Annotated[int, typer.Option(min=1, help="HOSO per transaction (receipts follow each commit).")] = 1000,
    workers: Annotated[
        int | None, typer.Option(help="Processes reading files (default: one per core for 64 files or more).")
    ] = None,
) -> None:
    """Ingest claim files: validate, store durably and idempotently, and answer each HOSO."""
    if lang not in ("vi", "en"):
        raise typer.BadParameter(f"--lang takes vi or en, got {lang!r}")
    err = console(stderr=True)
    engine = open_database(db, err)
    try:
        counts, first = run_ingest(engine, _files(paths), lang, batch, workers, err, print_json if as_json else None)
    except OperationalError as exc:
        err.print(f"[red]error:[/red] the database {db} failed: {exc.orig or exc}; what was acknowledged is stored")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    err.print(summary(counts, first))


def print_json(receipt: Receipt) -> None:
    print(json.dumps(receipt.as_json(), ensure_ascii=False, separators=(",", ":")), flush=True)


def run_ingest(engine: Engine, files: list[Path], lang: str, batch: int, workers: int | None, err: Console,
               on_receipt: Callable[[Receipt], None] | None = None) -> tuple[Counter[str], dict[str, str]]:  # fmt: skip
    """Ingest ``files`` with a progress bar on ``err``: counts by status and the first finding of each."""
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    if workers is None:
        workers = (os.cpu_count() or 1) if len(files) >= 64 else 0
    pool = reading_pool(workers)  # before the progress bar's thread starts
    try:
        with Progress(TextColumn("[bold]ingest[/bold]"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
                      TimeElapsedColumn(), console=err, transient=True) as bar:  # fmt: skip
            task = bar.add_task("files", total=len(files))
            for receipts in ingest_paths(engine, files, lang, pool=pool, batch_claims=batch):
                for r in receipts:
                    counts[r.status] += 1
                    if r.findings and r.status not in first:
                        first[r.status] = f"{Path(r.file).name}: {r.findings[0].message}"
                    if on_receipt is not None:
                        on_receipt(r)
                bar.advance(task)
    finally:
        if pool is not None:
            pool.shutdown()
    return counts, first


def export(
    out: Annotated[Path, typer.Option(help="Folder to write the lake under (OUT/lake/...).")],
    db: Annotated[str, typer.Option(help="Database URL of the claims store.")] = DEFAULT_URL,
) -> None:
    """Export the current version of every active stored claim to the Parquet claims lake."""
    err = console(stderr=True)
    engine = open_database(db, err)
    try:
        counts = export_lake(engine, out)
    finally:
        engine.dispose()
    table = Table(title=f"Claims lake {out / 'lake'}")
    table.add_column("dataset")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    err.print(table)


def summary(counts: Counter[str], first: dict[str, str]) -> Table:
    table = Table(title="Intake")
    for col in ("status", "HOSO", "first finding"):
        table.add_column(col, justify="right" if col == "HOSO" else "left")
    for status in STATUSES:
        table.add_row(status, f"{counts.get(status, 0):,}", first.get(status, ""))
    return table


__all__ = ["Receipt", "export", "ingest"]
