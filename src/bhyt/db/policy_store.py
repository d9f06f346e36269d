"""Publish the policy parameters to the database and read them back "as at" a date in SQL."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import Engine, delete, insert, select

from bhyt.db import in_force
from bhyt.db.models import PolicyParameterValue
from bhyt.policy.params import Kind, ParameterSet, RouteRate, Value

NUMERIC_KINDS = {Kind.MONEY, Kind.INTEGER, Kind.PERCENT}


def _plain(value: object) -> object:
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Decimal | Fraction):
        return str(value)
    if isinstance(value, RouteRate):
        return {"inpatient": _plain(value.inpatient), "outpatient": _plain(value.outpatient)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    assert isinstance(value, Mapping)
    return {k: _plain(v) for k, v in value.items()}


def encode(value: Value) -> str:
    """A value as JSON text (amounts and rates as exact decimal strings)."""
    return json.dumps(_plain(value), ensure_ascii=False, sort_keys=True)


def publish(engine: Engine, params: ParameterSet) -> int:
    """Replace the published values with ``params``' full history, in one transaction."""
    rows = [
        {
            "name": p.name,
            "valid_from": e.start,
            "valid_to": p.end_of(e),
            "kind": p.kind.value,
            "unit": p.unit,
            "value_numeric": Decimal(str(e.value)) if p.kind in NUMERIC_KINDS else None,
            "value_json": encode(e.value),
            "status": e.status.value,
            "reference": e.reference,
        }
        for p in (params.parameter(n) for n in params.names())
        for e in p.entries
    ]
    with engine.begin() as conn:
        conn.execute(delete(PolicyParameterValue))
        conn.execute(insert(PolicyParameterValue), rows)
    return len(rows)


def value_as_at(engine: Engine, name: str, at: date) -> PolicyParameterValue | None:
    """The published row of ``name`` in force on ``at``, or None."""
    t = PolicyParameterValue
    query = select(t).where(t.name == name, in_force(t.valid_from, t.valid_to, at))
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return PolicyParameterValue(**row._mapping) if row else None
