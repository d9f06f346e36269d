"""What the commands share: the database option and how a database is opened, the parsing of dates,
months and times given on the command line (a bad one is a usage error, exit code 2), and one style
of progress bar. Failures are raised as :class:`~bhyt.errors.BhytError`; the root command
(``bhyt.cli.app``) prints them once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bhyt.db import connect, make_engine
from bhyt.errors import DatabaseError, DatabaseMissingError
from bhyt.settings import Settings

DB = Annotated[str | None, typer.Option("--db", help="Database URL (default: BHYT_DB_URL, else sqlite:///bhyt.db).")]


def settings(db: str | None = None) -> Settings:
    """The settings of this command: the environment, with ``--db`` over ``BHYT_DB_URL``."""
    return Settings.from_env(db_url=db)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def open_database(db: str | None, *, create: bool = False) -> Engine:
    """The migrated database that ``--db`` (or ``BHYT_DB_URL``) names.

    A command that writes (``create=True``) creates and migrates a new one. A command that only reads
    refuses a database that does not exist or holds no BHYT schema, instead of creating an empty one and
    answering "not found".
    """
    url = settings(db).db_url
    try:
        if not create:
            file = _sqlite_file(url)
            if file is not None and not file.exists():
                raise DatabaseMissingError(f"no database at {url}: {file} does not exist (give --db or BHYT_DB_URL)")
            probe = make_engine(url)
            try:
                with probe.connect() as conn:
                    empty = not inspect(conn).has_table("alembic_version")
            finally:
                probe.dispose()
            if empty:
                raise DatabaseMissingError(f"the database {url} holds no BHYT data (give --db or BHYT_DB_URL)")
        return connect(url)
    except (SQLAlchemyError, ArgumentError) as exc:
        raise DatabaseError(f"cannot open the database {url}: {exc.__class__.__name__}: {exc}") from None


def store_run(engine: Engine, what: str, save: Callable[[Engine], int]) -> int:
    """Store a run with ``save`` and close ``engine``; its id."""
    try:
        return save(engine)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"the {what} was not stored in {engine.url}: {exc.__class__.__name__}: {exc}") from None
    finally:
        engine.dispose()


def day(text: str, flag: str) -> date:
    """A YYYY-MM-DD option's date; a usage error (exit code 2) naming the option otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{flag} takes a date YYYY-MM-DD that exists, got {text!r}") from None


def maybe_day(text: str | None, flag: str) -> date | None:
    return None if text is None else day(text, flag)


def month(text: str, flag: str = "--month") -> date:
    """A YYYY-MM option's first day."""
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        first = None
    if first is None or len(text) != 7 or not 1900 <= first.year <= 2200:
        raise typer.BadParameter(f"{flag} takes YYYY-MM (a year from 1900 to 2200), got {text!r}")
    return first


def moment(text: str | None, flag: str) -> datetime | None:
    """A YYYY-MM-DD[THH:MM[:SS]] option's time."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{flag} takes YYYY-MM-DD[THH:MM[:SS]], got {text!r}") from None


def progress(out: Console) -> Progress:
    """The progress bar of a long step (shown on a terminal only; silent when piped)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    )
