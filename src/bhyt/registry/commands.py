"""``bhyt registry load|changes|check``: bulk load, the monthly lists, a card check from the shell."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bhyt.console import console
from bhyt.db import DEFAULT_URL
from bhyt.db.commands import open_database
from bhyt.policy.params import default_parameters
from bhyt.registry.eligibility import today
from bhyt.registry.load import RegistryInputError, load_registry
from bhyt.registry.service import card_index, monthly_changes

app = typer.Typer(no_args_is_help=True, help="The registry: people, households, participation, cards.")
DB = Annotated[str, typer.Option(help="Database URL; created and migrated when new.")]


@app.command("load")
def load(
    folder: Annotated[Path, typer.Argument(help="A registry folder (bhyt synth's OUT/registry, or OUT itself).")],
    db: DB = DEFAULT_URL,
) -> None:
    """Replace the registry with a folder's facilities, people and cards (one transaction)."""
    err = console(stderr=True)
    if (folder / "registry").is_dir():
        folder = folder / "registry"
    engine = open_database(db, err)
    try:
        with err.status("loading the registry"):
            loaded = load_registry(engine, folder, default_parameters())
    except RegistryInputError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    table = Table("what", "rows", title=f"Registry loaded into {db}")
    for name, n in loaded.__dict__.items():
        table.add_row(name, f"{n:,}")
    console().print(table)


@app.command("changes")
def changes(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    db: DB = DEFAULT_URL,
) -> None:
    """The month's increase and decrease lists (danh sách tăng/giảm), per paying unit."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise typer.BadParameter(f"--month takes YYYY-MM, got {month!r}") from None
    engine = open_database(db, console(stderr=True))
    try:
        rows = monthly_changes(engine, first)
    finally:
        engine.dispose()
    table = Table("paying unit", "list", "citizen ID", "group", "on", title=f"Increases and decreases, {month}")
    for c in rows:
        table.add_row(c.payer, c.kind, c.citizen_id, c.group, c.on.isoformat())
    console().print(table)


@app.command("check")
def check(
    card: Annotated[str | None, typer.Option(help="Card number.")] = None,
    citizen_id: Annotated[str | None, typer.Option(help="12-digit citizen ID.")] = None,
    on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")] = None,
    facility: Annotated[str | None, typer.Option(help="Facility code, for the route code.")] = None,
    db: DB = DEFAULT_URL,
) -> None:
    """The card check the counter gets, as JSON."""
    engine = open_database(db, console(stderr=True))
    try:
        index = card_index(engine)
    finally:
        engine.dispose()
    at = date.fromisoformat(on) if on else today()
    print(json.dumps(index.check(default_parameters(), at, card, citizen_id, facility).as_json(), ensure_ascii=False))
