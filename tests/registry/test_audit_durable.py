"""The audit log loses nothing (BHYT_AUDIT_DURABLE=true): `bhyt serve` answers a request only once the
audit entries it recorded are committed, so killing the server (kill -9) right after an answer loses no
entry of an answered request (issue 22)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, func, select

from bhyt.security.models import AuditEntry
from bhyt.security.roles import Principal, Role
from bhyt.security.tokens import issue
from bhyt.synth.run import SynthConfig, synthesize
from tests.api_support import SECRET

BHYT = Path(sys.executable).parent / "bhyt"
TRIALS, REQUESTS = 4, 15


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db: str, instance: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "BHYT_TOKEN_SECRET": SECRET, "BHYT_INSTANCE": instance, "BHYT_RATE_PER_SECOND": "100000",
           "BHYT_RATE_BURST": "100000", "BHYT_AUDIT_DURABLE": "true"}  # fmt: skip
    server = subprocess.Popen([BHYT, "serve", "--db", db, "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as r:
                assert json.loads(r.read())["instance"] == instance, "another server holds the port"
                return server, url
        except OSError:
            time.sleep(0.1)
    server.kill()
    pytest.fail("bhyt serve did not start")


def test_kill_9_after_an_answer_loses_no_audit_entry(tmp_path: Path) -> None:
    nation = tmp_path / "n"
    synthesize(SynthConfig(people=300, year=2025, seed=9, out=nation, formats=frozenset({"parquet"})))
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert subprocess.run([BHYT, "registry", "load", str(nation), "--db", db], capture_output=True).returncode == 0
    cards = [c["card"] for c in pq.read_table(nation / "registry" / "cards.parquet").to_pylist()[:REQUESTS]]
    token = issue(SECRET, Principal("auditor-1", Role.AUDITOR))
    answered = 0
    for _ in range(TRIALS):
        server, url = _serve(db, uuid.uuid4().hex)
        try:
            for card in cards:
                ask = urllib.request.Request(
                    f"{url}/eligibility?card={card}", headers={"authorization": f"Bearer {token}"}
                )
                with urllib.request.urlopen(ask, timeout=10) as r:
                    assert r.status == 200
                answered += 1
        finally:
            os.kill(server.pid, signal.SIGKILL)  # at once after the last answer: no shutdown, no flush
            server.wait()
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            logged = conn.execute(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "eligibility.check")).scalar_one()  # fmt: skip
    finally:
        engine.dispose()
    assert logged == answered == TRIALS * REQUESTS
