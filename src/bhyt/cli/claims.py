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
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from bhyt.claims.ingest import STATUSES, Receipt, ingest_paths, reading_pool
from bhyt.claims.lake import export_lake
from bhyt.claims.parser import Limits
from bhyt.cli.common import DB, open_database, progress, settings
from bhyt.cli.console import Lang, console, table, word
from bhyt.errors import BhytError, DatabaseError


class NothingIngestedError(BhytError):
    """``bhyt ingest`` found files but could read none of them: every receipt is ``rejected``."""

    code = "claims.nothing_ingested"
    exit_code = 1


def _files(paths: list[Path]) -> list[Path]:
    """Files as given, folders expanded to their *.xml (GIAMDINHHS) and *.json (FHIR) files, sorted."""
    out: list[Path] = []
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"no such file or folder: {', '.join(missing)}", param_hint="PATHS")
    for p in paths:
        found = (
            [q for q in p.rglob("*") if q.suffix.lower() in (".xml", ".json") and q.is_file()] if p.is_dir() else [p]
        )
        out += sorted(found)
    return out


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="GIAMDINHHS XML or FHIR JSON files, or folders of them.")],
    db: DB = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines on stdout, one object per HOSO.")] = False,
    lang: Lang = "vi",
    batch: Annotated[int, typer.Option(min=1, help="HOSO per transaction (receipts follow each commit).")] = 1000,
    workers: Annotated[
        int | None, typer.Option(help="Processes reading files (default: one per core for 64 files or more).")
    ] = None,
) -> None:
    """Ingest claim files: validate, store durably and idempotently, and answer each HOSO.

    Exit code 0 when something was received, 1 when no file could be read, 2 for a path that does not
    exist or a database that cannot be used."""
    files = _files(paths)
    err = console(stderr=True)
    config = settings(db)
    limits = Limits(max_rows=config.max_rows, max_findings=config.max_findings)
    engine = open_database(db, create=True)
    try:
        counts, first = run_ingest(engine, files, lang, batch, workers, err, print_json if as_json else None, limits)
    except OperationalError as exc:
        raise DatabaseError(
            f"the database {engine.url} failed: {exc.orig or exc}; what was acknowledged is stored"
        ) from None
    finally:
        engine.dispose()
    err.print(summary(counts, first, lang))
    if sum(counts.values()) == counts["rejected"]:
        where = ", ".join(str(p) for p in paths)
        raise NothingIngestedError(
            f"no claim could be read from {where}" if files else f"no claim files (*.xml, *.json) under {where}"
        )


def print_json(receipt: Receipt) -> None:
    print(json.dumps(receipt.as_json(), ensure_ascii=False, separators=(",", ":")), flush=True)


def run_ingest(engine: Engine, files: list[Path], lang: str, batch: int, workers: int | None, err: Console,
               on_receipt: Callable[[Receipt], None] | None = None,
               limits: Limits | None = None) -> tuple[Counter[str], dict[str, str]]:  # fmt: skip
    """Ingest ``files`` with a progress bar on ``err``: counts by status and the first finding of each."""
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    if workers is None:
        workers = (os.cpu_count() or 1) if len(files) >= 64 else 0
    pool = reading_pool(workers)  # before the progress bar's thread starts
    try:
        with progress(err) as bar:
            task = bar.add_task("ingest (files)", total=len(files))
            for receipts in ingest_paths(engine, files, lang, limits, pool=pool, batch_claims=batch):
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
    db: DB = None,
) -> None:
    """Export the current version of every active stored claim to the Parquet claims lake."""
    err = console(stderr=True)
    engine = open_database(db)
    try:
        counts = export_lake(engine, out)
    finally:
        engine.dispose()
    t = table("dataset", "rows", title=f"Claims lake {out / 'lake'}")
    for name, n in counts.items():
        t.add_row(name, f"{n:,}")
    err.print(t)


def summary(counts: Counter[str], first: dict[str, str], lang: str = "vi") -> Table:
    t = table("status", "HOSO", "first finding", title="Intake", lang=lang)
    t.columns[1].justify = "right"
    for status in STATUSES:
        t.add_row(word(status, lang), f"{counts.get(status, 0):,}", first.get(status, ""))
    return t


__all__ = ["Receipt", "export", "ingest"]
