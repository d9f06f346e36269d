"""Published parameters read back by SQL as at a date, and the migrations against the models, on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

import bhyt.assessment.models
import bhyt.claims.models
import bhyt.fraud.models
import bhyt.registry.models  # noqa: F401 - every table on Base.metadata
from bhyt.db import connect
from bhyt.db.models import Base
from bhyt.db.policy_store import publish, value_as_at
from bhyt.policy.params import ParameterSet
from tests.test_cli import run


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = connect(db_url)
    yield engine
    engine.dispose()


def test_connect_creates_and_migrates_a_new_database(db_url: str, engine: Engine) -> None:
    assert "policy_parameter_value" in inspect(engine).get_table_names()
    connect(db_url).dispose()  # idempotent on an existing database


def test_sql_as_at_matches_the_parameter_set(engine: Engine, params: ParameterSet) -> None:
    count = publish(engine, params)
    assert count == sum(len(params.parameter(n).entries) for n in params.names())
    for name in params.names():
        for entry in params.parameter(name).entries:
            for day in (entry.start, params.parameter(name).end_of(entry) or date(2030, 1, 1)):
                row = value_as_at(engine, name, day)
                assert row is not None
                assert row.valid_from == params.entry(name, day).start
                assert row.status == params.entry(name, day).status.value
    assert value_as_at(engine, "general.base_salary", date(2013, 6, 30)) is None


def test_thresholds_computed_in_sql(engine: Engine, params: ParameterSet) -> None:
    publish(engine, params)
    query = text(
        "select r.value_numeric * s.value_numeric / 100"
        " from policy_parameter_value r, policy_parameter_value s"
        " where r.name = 'general.reference_amount' and s.name = 'benefit.small_visit_threshold'"
        " and :d between r.valid_from and coalesce(r.valid_to, '9999-12-31')"
        " and :d between s.valid_from and coalesce(s.valid_to, '9999-12-31')"
    )
    with engine.connect() as conn:
        for day, expected in ((date(2026, 6, 30), 351_000), (date(2026, 7, 1), 379_500)):
            assert Decimal(str(conn.execute(query, {"d": day}).scalar_one())) == expected


def test_structured_values_round_trip_as_json(engine: Engine, params: ParameterSet) -> None:
    publish(engine, params)
    row = value_as_at(engine, "route.rates", date(2026, 7, 1))
    assert row is not None
    assert json.loads(row.value_json)["1.13"] == {"inpatient": None, "outpatient": "50"}
    publish(engine, params)  # republishing replaces, never duplicates
    assert value_as_at(engine, "route.rates", date(2026, 7, 1)) is not None


def test_publish_command(db_url: str) -> None:
    code, out = run("policy", "publish", "--db", db_url)
    assert code == 0, out
    assert "published" in out


def test_publish_to_an_unreachable_database_is_a_clear_error() -> None:
    code, out = run("policy", "publish", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert code == 2
    assert "cannot open the database" in out
    assert "Traceback" not in out


def test_the_migrations_build_exactly_the_models(engine: Engine) -> None:
    """Alembic's comparison of the migrated database with the models finds nothing to change: a model
    edited without its migration (or the reverse) fails here, on both databases."""
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
