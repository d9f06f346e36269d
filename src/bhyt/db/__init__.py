"""Relational storage: SQLite by default, PostgreSQL in production, one schema for both.

``connect(url)`` opens an engine and brings the schema up to date with Alembic, so a new database
needs no separate step.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import ColumnElement, Connection, Engine, and_, create_engine, event, insert, or_, text
from sqlalchemy.orm import InstrumentedAttribute

from bhyt.settings import DEFAULT_DB_URL

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_URL = DEFAULT_DB_URL


def in_force(
    valid_from: ColumnElement[date] | InstrumentedAttribute[date],
    valid_to: ColumnElement[date | None] | InstrumentedAttribute[date | None],
    at: date,
) -> ColumnElement[bool]:
    """The SQL form of :func:`bhyt.policy.periods.in_force`: the period covers ``at`` (``valid_to`` NULL is
    open-ended)."""
    return and_(valid_from <= at, or_(valid_to.is_(None), valid_to >= at))


def insert_in_chunks(conn: Connection, table: type, rows: Iterable[dict[str, Any]], size: int) -> None:
    """Insert ``rows`` (a stream: never all in memory) ``size`` at a time, one executemany each."""
    part: list[dict[str, Any]] = []
    for row in rows:
        part.append(row)
        if len(part) == size:
            conn.execute(insert(table), part)
            part = []
    if part:
        conn.execute(insert(table), part)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """Foreign keys, and durable writes tuned for what this store mostly does: append large rows.

    The rollback journal, not WAL: pages appended by a transaction (the claims' original files and tables,
    20-30 KB a claim) are written once, where WAL writes each twice (the log, then the checkpoint), which
    measured about 1.6 times the cost of an ingest's commits. Readers wait out a commit (the busy
    timeout). Pages of 16 KB (a new database only) hold a file in two pages instead of six.
    ``synchronous=FULL``: a commit is on disk before it returns, so an acknowledged write survives a crash.
    """
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA page_size=16384")
    cursor.execute("PRAGMA journal_mode=DELETE")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def make_engine(url: str = DEFAULT_URL) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, a rollback journal and full synchronous writes."""
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


# PostgreSQL advisory lock of BHYT's migrations: (this key, a hash of the schema migrated).
MIGRATION_LOCK = 4750


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent), safely when several processes start on a new
    database at once (two first ``bhyt ingest`` runs, a server and a command): the migration runs in
    one transaction that holds a lock first — an advisory lock on PostgreSQL (per schema), an
    exclusive transaction on SQLite — so the others wait, then find the schema up to date."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if revision == "head":  # up to date already (every start but the first): no lock, readers never wait
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        if current == ScriptDirectory.from_config(cfg).get_current_head():
            return
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # pysqlite runs DDL outside any transaction of its own: take SQLite's write lock by hand.
            connection.exec_driver_sql("BEGIN EXCLUSIVE")
        elif engine.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key, hashtext(current_schema()))"), {"key": MIGRATION_LOCK}
            )
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
        connection.commit()


def connect(url: str = DEFAULT_URL) -> Engine:
    """An engine whose schema is up to date: creates and migrates a new database."""
    engine = make_engine(url)
    try:
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine
