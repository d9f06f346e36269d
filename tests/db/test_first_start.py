"""A new database started by several processes at once (two `bhyt ingest` runs, a server and a
command): each waits for the one migrating, then finds the schema there — none dies creating it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

STARTERS = 4
SCRIPT = """
import sys, time
from pathlib import Path
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
from bhyt.db import connect
connect(sys.argv[1]).dispose()
"""


def test_several_processes_create_one_new_database_at_once(db_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, db_url, str(go)], stderr=subprocess.PIPE, text=True)
             for _ in range(STARTERS)]  # fmt: skip
    time.sleep(3)  # every process imported and waits at the line
    go.touch()
    results = [(p.returncode, err) for p in procs for _, err in [p.communicate(timeout=120)]]
    assert all(code == 0 for code, _ in results), [err[-800:] for _, err in results]
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from alembic_version")).scalar_one() == 1
            assert conn.execute(text("select count(*) from claim")).scalar_one() == 0
    finally:
        engine.dispose()
