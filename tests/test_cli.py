"""The command line, as a user runs it: exact outputs for scripts, clear errors, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bhyt.cli.app import app

runner = CliRunner()
BHYT = Path(sys.executable).parent / "bhyt"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})  # error boxes on one line
    return result.exit_code, result.output


def test_help_lists_every_command_with_one_line() -> None:
    code, out = run("--help")
    assert code == 0
    for command in ("demo", "policy", "version"):
        assert command in out
    code, out = run("policy", "--help")
    for command in ("show", "diff", "explain", "check-card", "check-id", "contribution"):
        assert command in out


@pytest.mark.parametrize(
    ("day", "salary", "threshold"),
    [("2026-07-01", "2,530,000", "379,500"), ("2026-06-30", "2,340,000", "351,000")],
)
def test_policy_show_through_the_installed_script(day: str, salary: str, threshold: str) -> None:
    # The check: `.venv/bin/bhyt policy show --date D`, piped (not a terminal).
    out = subprocess.run([BHYT, "policy", "show", "--date", day], capture_output=True, text=True, check=True).stdout
    rows = {line.split("\t")[0]: line.split("\t") for line in out.splitlines()}
    assert rows["general.base_salary"][1] == salary
    assert rows["general.reference_amount"][1] == salary
    assert rows["benefit.small_visit_threshold"][1] == f"15% (= {threshold} VND)"
    assert all(len(r) == 6 for r in rows.values())  # name, value, unit, status, since, source


def test_policy_show_prints_one_line_per_parameter_in_force() -> None:
    code, out = run("policy", "show", "--date", "2026-07-01")
    assert code == 0
    names = [line.split("\t")[0] for line in out.splitlines()]
    assert len(names) == len(set(names)) >= 25
    assert "route.rates" in names


def test_policy_show_status_and_source() -> None:
    _, out = run("policy", "show", "--date", "2026-07-01", "--name", "benefit.primary_level_full_rate")
    _name, value, _unit, status, since, source = out.strip().split("\t")
    assert (value, status, since) == ("yes", "unverified", "2025-07-01")
    assert "Law 51/2024" in source


def test_policy_show_bad_date_is_a_clear_error() -> None:
    code, out = run("policy", "show", "--date", "2026-13-01")
    assert code == 2
    assert "takes a date YYYY-MM-DD" in out
    assert "Traceback" not in out


def test_policy_diff_shows_the_july_2026_changes() -> None:
    code, out = run("policy", "diff", "2026-06-30", "2026-07-01")
    assert code == 0
    assert "general.base_salary" in out
    assert "2,530,000" in out
    assert "route.rates" in out
    assert "contribution.rate" not in out
    assert "1.13: in n/a / out 50%" in out  # only the route codes that changed
    assert "other entries unchanged" in out


def test_policy_diff_with_nothing_changed() -> None:
    code, out = run("policy", "diff", "2026-07-02", "2026-07-03")
    assert code == 0
    assert "No parameter changed" in out


def test_policy_explain_prices_a_visit_with_its_sources() -> None:
    code, out = run(
        "policy",
        "explain",
        "--card",
        "GD4380112345678",
        "--route",
        "1.18",
        "--level",
        "specialised",
        "--date",
        "2026-07-01",
        "--line",
        "13:1:45000",
        "--line",
        "2:1:520000",
    )
    assert code == 0, out
    assert "MUC_HUONG 40%" in out
    assert "ND 188" in out
    assert "226,000" in out  # fund: 565,000 × 40%


def test_policy_explain_what_if_override() -> None:
    code, out = run(
        "policy",
        "explain",
        "--card",
        "DN4797912345678",
        "--route",
        "1.1",
        "--date",
        "2026-07-01",
        "--line",
        "13:1:400000",
        "--override",
        "general.reference_amount=3000000",
    )
    assert code == 0, out
    assert "small" in out
    assert "what-if override" in out
    assert "MUC_HUONG 100%" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--card", "DN9797912345678", "--route", "1.1", "--line", "13:1:45000"], "card"),
        (["--card", "DN4797912345678", "--route", "8", "--line", "13:1:45000"], "withdraws a claim"),
        (["--card", "DN4797912345678", "--route", "1.1", "--line", "13:x:45000"], "must be numbers"),
        (
            ["--card", "DN4797912345678", "--route", "1.1", "--line", "13:1:45000", "--override", "nope=1"],
            "known parameter",
        ),
    ],
)
def test_policy_explain_bad_input(args: list[str], message: str) -> None:
    code, out = run("policy", "explain", "--date", "2026-07-01", *args)
    assert code == 2
    assert message in out
    assert "Traceback" not in out


def test_explain_line_fields_are_positional() -> None:
    # 4:2:100::50 is a group-4 line of 2 at 100 with no BHYT price given and item rate 50 (not applied: group 4)
    code, out = run("policy", "explain", "--card", "DN4797912345678", "--route", "1.1", "--date", "2026-07-01",
                    "--line", "6:2:100000::50")  # fmt: skip
    assert code == 0, out
    assert "100,000" in out  # in scope: 2 × 100,000 × 50%


def test_check_card_and_id() -> None:
    assert run("policy", "check-card", "CN3940112345678", "--date", "2026-01-01") == (
        0,
        "000 valid: group CN, benefit digit 3, province 94, BHXH number 0112345678; group CN usually carries 2\n",
    )
    code, out = run("policy", "check-card", "DN4997912345678", "--date", "2026-01-01")
    assert code == 1
    assert out.startswith("052")
    code, out = run("policy", "check-id", "079203001234", "--date", "2026-01-01")
    assert code == 0
    assert "born 2003" in out


def test_contribution_command() -> None:
    code, out = run("policy", "contribution", "--group", "GD", "--start", "2026-01-01", "--position", "2")
    assert code == 0
    assert "920,430" in out  # 6 × 73,710 + 6 × 79,695
    code, out = run("policy", "contribution", "--group", "DN", "--start", "2026-01-01")
    assert code == 2
    assert "give it" in out


def test_demo_prices_examples_and_households(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the demo writes its province under ./out/demo
    code, out = run("demo")
    assert code == 0, out
    assert "Example visits" in out
    assert "Contributions for 2026" in out
    assert "1,314,900" in out  # a household's first member over 2026
    assert (tmp_path / "out" / "demo" / "nation" / "summary.json").exists()
