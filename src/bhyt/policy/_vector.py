"""Helpers shared by the vectorised forms of the policy functions.

A vectorised function receives one date per row. Parameters change on a handful of dates, so rows
are grouped into epochs between consecutive change dates and each epoch reads one snapshot of the
parameters, exactly as the scalar form would for any of its dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from bhyt.policy.params import ParameterSet

Days = npt.NDArray[np.datetime64]
Index = npt.NDArray[np.intp]

# Exact money columns: wide enough that quantity × price × rates never overflows before rounding.
QUANTITY = pa.decimal256(16, 3)
PRICE = pa.decimal256(21, 3)
MONEY = pa.decimal256(30, 2)
PERCENT = pa.decimal256(12, 6)


def as_days(dates: object, n: int) -> Days:
    """Dates as numpy ``datetime64[D]``: an array-like of dates, or one date for all ``n`` rows."""
    if isinstance(dates, date):
        return np.full(n, np.datetime64(dates, "D"))
    if isinstance(dates, pa.ChunkedArray | pa.Array):
        dates = dates.to_numpy(zero_copy_only=False)
    out = np.asarray(dates, dtype="datetime64[D]")
    if out.shape != (n,):
        raise ValueError(f"expected {n} dates, got shape {out.shape}")
    return out


def by_epoch(params: ParameterSet, names: Iterable[str], days: Days) -> Iterator[tuple[date, Index]]:
    """(a date of the epoch, the row indices in it) for every epoch that has rows."""
    edges = np.array(params.change_dates(names), dtype="datetime64[D]")
    epoch = np.searchsorted(edges, days, side="right")
    order = np.argsort(epoch, kind="stable")
    bounds = np.flatnonzero(np.diff(epoch[order])) + 1
    for rows in np.split(order, bounds):
        if rows.size:
            yield days[rows[0]].astype(date), rows


def strings(values: object) -> pa.Array:
    """A string Arrow array from a list, numpy array or Arrow array (chunked arrays are combined)."""
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.string())


def objects(values: object) -> npt.NDArray[np.object_]:
    """Codes as a numpy object array (no copy for one already), None for nulls."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    return np.asarray(strings(values).to_pylist(), dtype=object)


def decimal_from_int64(values: npt.NDArray[Any], scale: int, precision: int = 38) -> pa.Array:
    """A decimal128 column whose unscaled values are ``values``, built without a cast."""
    words = np.empty(2 * values.size, np.int64)
    words[0::2] = values
    words[1::2] = values >> 63
    return pa.Array.from_buffers(pa.decimal128(precision, scale), values.size, [None, pa.py_buffer(words)])


def unscaled_int64(col: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """The unscaled values of a decimal128 column whose values fit in int64 (raises otherwise)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if not pa.types.is_decimal128(col.type):
        col = pc.cast(col, pa.decimal128(38, col.type.scale))
    words = np.frombuffer(col.buffers()[1], dtype=np.int64)[2 * col.offset : 2 * (col.offset + len(col))]
    low, high = words[0::2], words[1::2]
    if not np.array_equal(high, low >> 63):
        raise OverflowError("a decimal value does not fit in int64")
    return low.copy()


def decimals(values: object, type_: pa.DataType) -> pa.Array:
    """An exact decimal Arrow array of ``type_`` from Decimals, ints or an Arrow array."""
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_floating(arr.type):
        raise TypeError("money and rates must be exact (Decimal or integer), not float")
    if pa.types.is_integer(arr.type):  # via a decimal wide enough for any integer, then checked by value
        arr = pc.cast(arr, pa.decimal256(20, 0))
    return pc.cast(arr, type_)


def exact(values: object) -> pa.Array:
    """Any exact column (Arrow array, numpy integers, list of Decimals or ints) as an Arrow array."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return pa.array(values)
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    arr = pa.array(values)
    if pa.types.is_floating(arr.type):
        raise TypeError("money and rates must be exact (Decimal or integer), not float")
    return arr


def mantissas(values: object) -> tuple[npt.NDArray[np.int64], int] | None:
    """(int64 mantissas, scale) of an exact column at the smallest scale that keeps every value,
    or None when a value does not fit in int64 or is null."""
    arr = exact(values)
    if arr.null_count:
        return None
    if pa.types.is_integer(arr.type):
        return np.asarray(arr.cast(pa.int64())), 0
    if not pa.types.is_decimal(arr.type):
        raise TypeError(f"expected exact numbers, got {arr.type}")
    try:
        low = unscaled_int64(arr)
    except (OverflowError, pa.ArrowInvalid):
        return None
    scale = arr.type.scale
    while scale > 0 and low.size and not (low % 10).any():
        low, scale = low // 10, scale - 1
    return low, scale
