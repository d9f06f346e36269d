"""What the command-line tools share about a database: open it migrated, or say clearly why not."""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bhyt.db import connect


def open_database(db: str, err: Console) -> Engine:
    """The migrated database at ``db``, or a clear error and exit code 2."""
    try:
        return connect(db)
    except SQLAlchemyError as exc:
        err.print(f"[red]error:[/red] cannot open the database {db}: {exc.__class__.__name__}: {exc}")
        raise typer.Exit(2) from None


def store_run(engine: Engine, db: str, err: Console, what: str, save: Callable[[Engine], int]) -> int:
    """Store a run with ``save`` and close ``engine``; its id, or a clear error and exit code 2."""
    try:
        return save(engine)
    except SQLAlchemyError as exc:
        err.print(f"[red]error:[/red] the {what} was not stored in {db}: {exc.__class__.__name__}: {exc}")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
