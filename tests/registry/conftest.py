"""Fixtures of the registry's tests: each module names its synthetic ``nation``; these load its
registry into a fresh database on each backend and serve it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bhyt.api.app import create_app
from bhyt.db import connect
from bhyt.policy.params import ParameterSet
from bhyt.registry.load import load_registry
from tests.api_support import SETTINGS


@pytest.fixture
def engine(db_url: str, nation: Path, params: ParameterSet) -> Iterator[Engine]:
    e = connect(db_url)
    load_registry(e, nation / "registry", params)
    yield e
    e.dispose()


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, SETTINGS), raise_server_exceptions=False) as c:
        yield c
