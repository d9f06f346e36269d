"""The reading pool gives results in input order, and says so when a worker fails or dies."""

from __future__ import annotations

import os
import signal
import time

import pytest

from bhyt.claims.pool import ReadingPool, WorkerError


def squares(part: list[int], offset: int) -> list[int]:
    return [n * n + offset for n in part]


def slow_first(part: list[int]) -> list[int]:
    if part[0] == 0:
        time.sleep(0.2)  # the first part ends last: its results must still come first
    return part


def fails_on_seven(part: list[int]) -> list[int]:
    if 7 in part:
        raise ValueError("seven")
    return part


def dies(part: list[int]) -> list[int]:
    os.kill(os.getpid(), signal.SIGKILL)
    return part


def big(part: list[int]) -> list[bytes]:
    return [bytes([n % 256]) * 300_000 for n in part]  # more than a pipe holds


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_come_in_input_order(workers: int) -> None:
    with ReadingPool(workers) as pool:
        assert list(pool.map(squares, range(1000), 5, chunk=7, ahead=3)) == [n * n + 5 for n in range(1000)]
        assert list(pool.map(slow_first, range(50), chunk=4)) == list(range(50))
        assert list(pool.map(squares, [], 0)) == []


def test_large_results_cross_whole() -> None:
    with ReadingPool(2) as pool:
        out = list(pool.map(big, range(40), chunk=3, ahead=2))
    assert [len(b) for b in out] == [300_000] * 40
    assert [b[0] for b in out] == list(range(40))


def test_a_failing_worker_raises_with_its_traceback() -> None:
    with ReadingPool(2) as pool, pytest.raises(WorkerError, match="ValueError: seven"):
        list(pool.map(fails_on_seven, range(20), chunk=2))


def test_a_dead_worker_raises() -> None:
    with ReadingPool(1) as pool, pytest.raises(WorkerError, match="died"):
        list(pool.map(dies, range(4)))


def test_leaving_early_then_shutting_down_does_not_hang() -> None:
    start = time.monotonic()
    with ReadingPool(2) as pool:
        results = pool.map(big, range(200), chunk=2, ahead=8)
        assert next(results)[0] == 0
    assert time.monotonic() - start < 5
