"""Helpers shared by the vectorised forms of the policy functions.

A vectorised function receives one date per row. Parameters change on a handful of dates, so rows
are grouped into epochs between consecutive change dates and each epoch reads one snapshot of the
parameters, exactly as the scalar form would for any of its dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

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
    scale = arr.type.scale
    try:
        arr = pc.cast(arr, pa.decimal128(38, scale))
    except pa.ArrowInvalid:
        return None
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)[2 * arr.offset : 2 * (arr.offset + len(arr))]
    low, high = words[0::2], words[1::2]
    if not np.array_equal(high, low >> 63):
        return None
    while scale > 0 and low.size and not (low % 10).any():
        low, scale = low // 10, scale - 1
    return low.copy(), scale
