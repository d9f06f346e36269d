"""Typed records: the text of XML1-XML5 as Arrow columns with English names and real types.

Codes and free text stay strings (leading zeros kept); whole numbers become int64; amounts, prices,
quantities and rates exact decimals with the scale the standard gives them; ``yyyyMMddHHmm`` points in
time timestamps and ``yyyyMMdd`` dates dates. A field holding several values (cards joined by ";") is
typed from its first value, the whole text staying in the card column.

A number types only when it is finite, exact at the field's scale and within the standard's size (the
digits the 4750 appendix gives it, and what an int64 or a decimal(18) holds); a date or time only when
it exists. Anything else is not typed: :func:`typed` gives null (intake has kept a finding saying why)
and :func:`untyped` names it, so that the assessment refuses the claim instead of failing on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache

import pyarrow as pa

from bhyt.claims import schema

TYPED_TABLES = ("XML1", "XML2", "XML3", "XML4", "XML5")


INT64_DIGITS = 18  # 10**18 - 1 is the largest run of nines an int64 holds
DECIMAL_DIGITS = 18  # the digits of the decimal128(18, scale) amounts


def _int(digits: int | None) -> Callable[[str], int | None]:
    bound = 10 ** min(digits or INT64_DIGITS, INT64_DIGITS)

    def parse(text: str) -> int | None:
        if len(text) > INT64_DIGITS + 2:  # longer than any value that fits: never parsed
            return None
        try:
            value = int(text)
        except ValueError:
            return None
        return value if -bound < value < bound else None

    return parse


def _decimal(scale: int, digits: int | None) -> Callable[[str], Decimal | None]:
    """A parser of decimals with ``scale`` places and at most ``digits`` whole digits."""
    quantum = Decimal(1).scaleb(-scale)
    bound = Decimal(10) ** min(digits or DECIMAL_DIGITS - scale, DECIMAL_DIGITS - scale)

    def parse(text: str) -> Decimal | None:
        if len(text) > 64:  # no value of the standard is this long: never parsed
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None
        if not value.is_finite() or abs(value) >= bound:  # 1e308, Infinity, NaN, forty nines
            return None
        try:
            exact = value.quantize(quantum)
        except InvalidOperation:
            return None
        return exact if value == exact else None  # at the scale: 0E20 is 0.00

    return parse


YEARS = range(1900, 2200)  # a date of this scheme (births from 1900, cards and visits to come)


def _timestamp(text: str) -> datetime | None:
    """Facility-local wall time, as the standard writes it (``yyyyMMddHHmm``, no zone)."""
    point = text[:12]
    if len(point) != 12 or not point.isascii() or not point.isdigit() or int(point[:4]) not in YEARS:
        return None
    try:
        return datetime.strptime(point, "%Y%m%d%H%M")  # noqa: DTZ007
    except ValueError:
        return None


def _date(text: str) -> date | None:
    day = text.split(";")[0][:8]
    if len(day) != 8 or not day.isascii() or not day.isdigit() or int(day[:4]) not in YEARS:
        return None
    try:
        return datetime.strptime(day, "%Y%m%d").date()  # noqa: DTZ007
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
            out.append((named.field, named.english, pa.int64(), _int(f.size if f.type == "number" else None)))
        elif named.kind == "decimal":
            scale = (f.scale or 0) if f.type == "number" else 3  # CAN_NANG: a weight written as text
            digits = f.size if f.type == "number" else None
            out.append((named.field, named.english, pa.decimal128(18, scale), _decimal(scale, digits)))
        elif named.kind == "timestamp":
            out.append((named.field, named.english, pa.timestamp("s"), _timestamp))
        elif named.kind == "date":
            out.append((named.field, named.english, pa.date32(), _date))
        else:
            out.append((named.field, named.english, pa.string(), _text))
    return tuple(out)


def schema_of(table: str) -> pa.Schema:
    return pa.schema([(english, kind) for _, english, kind, _ in columns(table)])


def untyped(table: str, records: Sequence[dict[str, str]]) -> list[tuple[int, str, str]]:
    """(row from 1, field, value) of each non-empty value of ``table`` that does not type: what
    :func:`typed` would make null."""
    out = []
    for name, _, kind, parse in columns(table):
        if kind == pa.string():
            continue
        for row, record in enumerate(records, start=1):
            value = record.get(name, "")
            if value and parse(value) is None:
                out.append((row, name, value))
    return sorted(out)


ENGINE_TABLES = ("XML1", "XML2", "XML3")  # the tables whose values the assessment reads


def untyped_claim(tables: dict[str, list[dict[str, str]]]) -> str | None:
    """Where a claim holds values that do not type, as ``XML3 row 2 SO_LUONG='1e308'`` (the first three,
    then how many more); None when every value of the tables the assessment reads types."""
    found = [(name, *u) for name in ENGINE_TABLES for u in untyped(name, tables.get(name, []))]
    if not found:
        return None
    where = "; ".join(f"{t} row {row} {field}={value[:24]!r}" for t, row, field, value in found[:3])
    return where + (f" (+{len(found) - 3})" if len(found) > 3 else "")


def typed(table: str, records: Sequence[dict[str, str]]) -> pa.Table:
    """The records of ``table`` (text by the standard's names) as a typed Arrow table with English names."""
    arrays = []
    for name, _, kind, parse in columns(table):
        values = [record.get(name, "") for record in records]
        arrays.append(pa.array([parse(v) if v else None for v in values], kind))
    return pa.Table.from_arrays(arrays, schema=schema_of(table))
