"""``bhyt registry``, ``bhyt token``, ``bhyt audit`` and ``bhyt serve`` as an operator uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bhyt.security.tokens import verify
from bhyt.synth.run import SynthConfig, synthesize
from tests.api_support import SECRET

BHYT = Path(sys.executable).parent / "bhyt"


def run(*args: str, secret: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BHYT_TOKEN_SECRET"}
    if secret is not None:
        env["BHYT_TOKEN_SECRET"] = secret
    return subprocess.run([BHYT, *args], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("regcli") / "nation"
    synthesize(SynthConfig(people=200, year=2025, seed=3, out=out, provinces=["01"]))
    return out


def test_load_check_changes_and_audit(nation: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    done = run("registry", "load", str(nation), "--db", db)
    assert done.returncode == 0, done.stderr
    assert "người" in done.stdout  # the table of what was loaded, in Vietnamese by default
    card = pq.read_table(nation / "registry" / "cards.parquet").slice(0, 1).to_pylist()[0]
    done = run("registry", "check", "--card", card["card"], "--date", card["valid_from"].isoformat(), "--db", db)
    answer = json.loads(done.stdout)
    assert answer["covered"] is True
    assert answer["message"] == "thẻ còn giá trị sử dụng"  # Vietnamese by default
    person = pq.read_table(nation / "registry" / "people.parquet").to_pylist()
    name = next(p["name"] for p in person if p["citizen_id"] == answer["citizen_id"])
    assert answer["holder"]["name"] == name  # the clerk confirms who stands at the counter
    done = run("registry", "check", "--card", card["card"], "--date", card["valid_from"].isoformat(), "--db", db,
               "--lang", "en")  # fmt: skip
    assert json.loads(done.stdout)["message"] == "covered"
    done = run("registry", "changes", "--month", "2025-01", "--db", db)
    assert done.returncode == 0, done.stderr
    assert "tăng" in done.stdout  # the increase list (danh sách tăng)
    assert run("registry", "changes", "--month", "2025-13", "--db", db).returncode == 2
    bad = run("registry", "load", str(tmp_path), "--db", db)
    assert bad.returncode == 2
    assert "missing facilities.parquet" in bad.stderr
    assert "Traceback" not in bad.stderr
    done = run("audit", "--db", db)
    assert done.returncode == 0, done.stderr


def test_card_commands_change_cover(nation: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert run("registry", "load", str(nation), "--db", db).returncode == 0
    cards = pq.read_table(nation / "registry" / "cards.parquet").to_pylist()
    c = next(x for x in cards if x["valid_to"] is not None and x["valid_from"].month < 6 and x["group"] != "GD")
    cid = c["citizen_id"]

    def covered(on: str) -> bool:
        done = run("registry", "check", "--citizen-id", cid, "--date", on, "--db", db)
        return bool(json.loads(done.stdout)["covered"])

    done = run("registry", "card", "lapse", "--citizen-id", cid, "--on", "2025-06-01", "--db", db, "--operator", "ops1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["action"] == "card.lapse"
    assert not covered("2025-06-02")
    again = run("registry", "card", "lapse", "--citizen-id", cid, "--on", "2025-06-10", "--db", db)
    assert again.returncode == 1
    assert "registry.no_current_card" in again.stderr
    assert "Traceback" not in again.stderr
    assert run("registry", "card", "lapse", "--citizen-id", cid, "--on", "June", "--db", db).returncode == 2
    group = run("registry", "card", "change-group", "--citizen-id", cid, "--group", "GD", "--on", "2025-03-01",
                "--db", db)  # fmt: skip
    assert group.returncode == 0, group.stderr
    assert json.loads(group.stdout)["card"].startswith("GD4")
    shown = json.loads(run("registry", "show", "--citizen-id", cid, "--db", db).stdout)
    assert {x["status"] for x in shown["cards"]} == {"changed"}
    everything = json.loads(run("registry", "show", "--citizen-id", cid, "--history", "--db", db).stdout)
    assert len(everything["cards"]) > len(shown["cards"])
    log = run("audit", "--db", db, "--purpose", "enrolment", "--subject", "ops1")
    assert log.returncode == 0, log.stderr
    assert "card.lapse" in log.stdout
    assert run("audit", "--db", db, "--purpose", "curiosity").returncode == 2


def test_token_and_serve_need_a_secret() -> None:
    done = run("token", "--role", "facility", "--facility", "01001", secret=SECRET)
    assert done.returncode == 0, done.stderr
    who = verify(SECRET, done.stdout.strip())
    assert (who.role.value, who.facility) == ("facility", "01001")
    no_scope = run("token", "--role", "facility", secret=SECRET)
    assert no_scope.returncode == 2
    assert "needs its facility" in no_scope.stderr
    for args in (("token", "--role", "admin"), ("serve",)):
        done = run(*args)
        assert done.returncode == 2
        assert "BHYT_TOKEN_SECRET" in done.stderr
        assert "Traceback" not in done.stderr
