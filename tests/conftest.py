"""Shared fixtures, the scenario-file collector and database URLs for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bhyt.policy.params import ParameterSet, default_parameters
from tests.scenarios.runner import check

SCENARIOS = Path(__file__).parent / "scenarios"


@pytest.fixture(scope="session")
def params() -> ParameterSet:
    return default_parameters()


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        cases = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        for case in cases:
            yield ScenarioItem.from_parent(self, name=case["name"], case=case)


class ScenarioItem(pytest.Item):
    def __init__(self, *, case: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        problems = check(default_parameters(), self.case)
        if problems:
            raise ScenarioError(problems)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioError):
            lines = [f"{self.path.name} › {self.name} ({self.case['kind']})", *excinfo.value.args[0]]
            return "\n  ".join(lines)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario: {self.name}"


class ScenarioError(Exception):
    pass


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".yaml" and file_path.parent == SCENARIOS:
        return ScenarioFile.from_parent(parent, path=file_path)
    return None
