"""Typed records: the text of XML1-XML5 as Arrow columns with English names and real types.

Codes and free text stay strings (leading zeros kept); whole numbers become int64; amounts, prices,
quantities and rates exact decimals with the scale the standard gives them; ``yyyyMMddHHmm`` points in
time timestamps and ``yyyyMMdd`` dates dates. A field holding several values (cards joined by ";") is
typed from its first value, the whole text staying in the card column. A value that does not parse is
null here: intake has already kept a finding saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache

import pyarrow as pa

from bhyt.claims import schema

TYPED_TABLES = ("XML1", "XML2", "XML3", "XML4", "XML5")


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _decimal(scale: int) -> Callable[[str], Decimal | None]:
    quantum = Decimal(1).scaleb(-scale)

    def parse(text: str) -> Decimal | None:
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None
        return value if value == value.quantize(quantum) and abs(value) < 10**18 / 10**scale else None

    return parse


def _timestamp(text: str) -> datetime | None:
    """Facility-local wall time, as the standard writes it (no zone)."""
    try:
        return datetime.strptime(text[:12], "%Y%m%d%H%M")  # noqa: DTZ007
    except ValueError:
        return None


def _date(text: str) -> date | None:
    try:
        return datetime.strptime(text.split(";")[0][:8], "%Y%m%d").date()  # noqa: DTZ007
    except ValueError:
        return None


def _text(text: str) -> str:
    return text


@cache
def columns(table: str) -> tuple[tuple[str, str, pa.DataType, Callable[[str], object]], ...]:
    """(standard name, English name, Arrow type, parser of non-empty text) for each field of ``table``."""
    out: list[tuple[str, str, pa.DataType, Callable[[str], object]]] = []
    for named in schema.english(table):
        f = schema.field(table, named.field)
        if named.kind == "int":
            out.append((named.field, named.english, pa.int64(), _int))
        elif named.kind == "decimal":
            scale = (f.scale or 0) if f.type == "number" else 3  # CAN_NANG: a weight written as text
            out.append((named.field, named.english, pa.decimal128(18, scale), _decimal(scale)))
        elif named.kind == "timestamp":
            out.append((named.field, named.english, pa.timestamp("s"), _timestamp))
        elif named.kind == "date":
            out.append((named.field, named.english, pa.date32(), _date))
        else:
            out.append((named.field, named.english, pa.string(), _text))
    return tuple(out)


def schema_of(table: str) -> pa.Schema:
    return pa.schema([(english, kind) for _, english, kind, _ in columns(table)])


def typed(table: str, records: Sequence[dict[str, str]]) -> pa.Table:
    """The records of ``table`` (text by the standard's names) as a typed Arrow table with English names."""
    arrays = []
    for name, _, kind, parse in columns(table):
        values = [record.get(name, "") for record in records]
        arrays.append(pa.array([parse(v) if v else None for v in values], kind))
    return pa.Table.from_arrays(arrays, schema=schema_of(table))
