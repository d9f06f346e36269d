"""Where the engine's Ibis expressions run: DuckDB embedded (the default) or PySpark.

The catalogue, the views and the amounts are one set of expressions; a backend only connects,
reads a Parquet glob with each row's file and position (the input order), and keeps an
intermediate result so that it is computed once.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from bhyt.errors import BhytError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Spark settings the engine's results depend on: decimal products keep their scale (as DuckDB's do:
# Spark's default trades scale for precision, rounding before the final half-up rounding), and times
# are read as written, with no zone.
SPARK_SETTINGS = {
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": os.environ.get("BHYT_SPARK_MEMORY", "4g"),
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


DUCKDB_MEMORY = "4GB"  # the embedded engine's working memory (BHYT_DUCKDB_MEMORY overrides it)


class EngineUnavailableError(BhytError):
    """The engine asked for cannot start here (Spark without Java, an unreachable master)."""

    code = "assessment.engine"


class Engine(StrEnum):
    DUCKDB = "duckdb"
    SPARK = "spark"


def connect(engine: Engine = Engine.DUCKDB, master: str | None = None) -> ibis.BaseBackend:
    """A connection for ``engine``; Spark in local mode on every core unless ``master`` names a cluster."""
    if engine is Engine.DUCKDB:
        con = ibis.duckdb.connect()
        # Out of core past this: DuckDB spills its tables, joins and sorts to a temporary folder.
        con.raw_sql(f"SET memory_limit = '{os.environ.get('BHYT_DUCKDB_MEMORY', DUCKDB_MEMORY)}'")
        con.raw_sql(f"SET temp_directory = '{Path(tempfile.gettempdir()) / f'bhyt-duckdb-{os.getpid()}'}'")
        return con
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineUnavailableError("the Spark engine needs Java 17 or later (java on PATH or JAVA_HOME)")
    try:
        return ibis.pyspark.connect(spark_session(master))
    except Exception as exc:  # Py4J and Spark raise many kinds; the user needs the reason only
        raise EngineUnavailableError(f"Spark did not start ({master or 'local[*]'}): {exc}") from exc


def spark_session(master: str | None = None) -> SparkSession:
    """The Spark session with :data:`SPARK_SETTINGS` (created once per process, as Spark allows)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if master is None or master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only, and no warning about it
    builder = SparkSession.builder.master(master or "local[*]").appName("bhyt-assess")
    for key, value in SPARK_SETTINGS.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def is_spark(con: ibis.BaseBackend) -> bool:
    return bool(con.name == "pyspark")


def read_parquet(con: ibis.BaseBackend, pattern: str, name: str) -> ir.Table:
    """The rows of the files matching ``pattern`` with ``filename`` and ``file_row_number`` columns."""
    if not is_spark(con):
        return con.read_parquet(pattern, table_name=name, filename=True, file_row_number=True)
    from pyspark.sql import functions as sf

    session: Any = con._session  # ibis keeps the session it was given
    files = sorted(glob.glob(pattern))
    df = session.read.parquet(*files).select(
        "*",
        sf.regexp_replace(sf.col("_metadata.file_path"), "^file:(//)?", "").alias("filename"),
        sf.col("_metadata.row_index").alias("file_row_number"),
    )
    df.createOrReplaceTempView(name)
    return con.table(name)


def keep(con: ibis.BaseBackend, name: str, expr: ir.Table) -> ir.Table:
    """``expr`` computed once and kept for the next steps (a DuckDB table, a cached Spark view)."""
    if not is_spark(con):
        return con.create_table(name, expr, overwrite=True)
    session: Any = con._session
    con._run_pre_execute_hooks(expr)  # registers the in-memory tables it reads
    # A checkpoint, not a cache: a cached view keeps its whole lineage, which Spark re-analyses at
    # every later reference; a checkpoint starts the next plans from the stored rows.
    session.sql(con.compile(expr)).localCheckpoint(eager=True).createOrReplaceTempView(name)
    return con.table(name)


def release(con: ibis.BaseBackend, *names: str) -> None:
    """Free kept results no later step reads (DuckDB; Spark's checkpoints go with their views)."""
    if not is_spark(con):
        for name in names:
            con.drop_table(name, force=True)
