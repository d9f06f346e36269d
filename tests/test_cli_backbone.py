"""The command line's backbone, as a script sees it: exit codes it can trust, one settings object,
databases that are not created by reading them, clear messages instead of tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BHYT = Path(sys.executable).parent / "bhyt"


def bhyt(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("BHYT_")} | (env or {})
    return subprocess.run([BHYT, *args], capture_output=True, text=True, cwd=cwd, env=full, timeout=300)


def assert_clear(done: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    for w in words:
        assert w in done.stderr, (w, done.stderr)


def test_ingest_exit_codes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert_clear(bhyt("ingest", str(tmp_path / "nowhere"), "--db", db, cwd=tmp_path), 2, "no such file or folder")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.xml").write_text("<not closed", encoding="utf-8")
    (bad / "b.xml").write_bytes(b"\xff\xfe garbage")
    assert_clear(bhyt("ingest", str(bad), "--db", db, cwd=tmp_path), 1, "claims.nothing_ingested")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_clear(bhyt("ingest", str(empty), "--db", db, cwd=tmp_path), 1, "no claim files")


def test_reading_commands_refuse_a_database_that_does_not_exist(tmp_path: Path) -> None:
    for args in (["registry", "check", "--card", "DN4797912345678"], ["registry", "show", "--citizen-id", "0" * 12],
                 ["audit"], ["export", "--out", str(tmp_path / "lake")]):  # fmt: skip
        done = bhyt(*args, "--db", f"sqlite:///{tmp_path / 'none.db'}", cwd=tmp_path)
        assert_clear(done, 2, "db.missing", "does not exist")
        assert not (tmp_path / "none.db").exists()
        assert not (tmp_path / "bhyt.db").exists()
    # the default database (sqlite:///bhyt.db in the working folder) is not created by a read either
    assert_clear(bhyt("registry", "check", "--card", "DN4797912345678", cwd=tmp_path), 2, "db.missing")
    assert not (tmp_path / "bhyt.db").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["registry", "check", "--date", "2025-13-01", "--card", "DN4797912345678"],
        ["registry", "check", "--date", "2025-02-30", "--card", "DN4797912345678"],
        ["registry", "changes", "--month", "2025-13"],
        ["registry", "card", "lapse", "--citizen-id", "079123456789", "--on", "someday"],
        ["audit", "--since", "yesterday"],
        ["policy", "show", "--date", "2026-02-30"],
        ["assess", ".", "--policy-date", "2026-99-01"],
        ["assess", ".", "--lang", "fr"],
    ],
)
def test_a_malformed_date_or_code_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    done = bhyt(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "Invalid value" in done.stderr


def test_every_command_reads_the_database_from_bhyt_db_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    done = bhyt("policy", "publish", cwd=tmp_path, env={"BHYT_DB_URL": url})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "shared.db").exists()
    assert not (tmp_path / "bhyt.db").exists()
    # a reader finds it through the same variable (it exists now, with the schema)
    done = bhyt("audit", cwd=tmp_path, env={"BHYT_DB_URL": url})
    assert done.returncode == 0, done.stderr


def test_serve_and_token_need_the_secret(tmp_path: Path) -> None:
    assert_clear(bhyt("token", "--role", "admin", cwd=tmp_path), 2, "settings.invalid", "BHYT_TOKEN_SECRET")
    assert_clear(bhyt("serve", "--port", "0", cwd=tmp_path), 2, "BHYT_TOKEN_SECRET")


def test_detect_train_is_a_subcommand(tmp_path: Path) -> None:
    done = bhyt("detect", "--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "train" in done.stdout
    assert "run" in done.stdout
    done = bhyt("detect", "train", "--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "--validation-seed" in done.stdout
    assert_clear(bhyt("detect", str(tmp_path / "nowhere"), cwd=tmp_path), 2, "fraud.input")


def test_tables_fit_a_100_column_terminal_by_wrapping(tmp_path: Path) -> None:
    from bhyt.assessment.catalogue import ALL

    for args in (["rules", "list"], ["rules", "list", "--lang", "en"]):
        done = bhyt(*args, cwd=tmp_path, env={"COLUMNS": "100"})
        assert done.returncode == 0, done.stderr
        assert max(len(line) for line in done.stdout.splitlines()) <= 100
        for rule in ALL:
            assert rule.code in done.stdout  # whole: cells wrap at words, codes are never cut
        assert "…" not in done.stdout
