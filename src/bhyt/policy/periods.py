"""Validity periods read "as at" a date, in one place: a period from ``valid_from`` to ``valid_to``
(both days included; ``valid_to`` None is open-ended) covers ``at`` when ``valid_from <= at <= valid_to``.
Cards, participations, contracts and published parameters all follow it. The same test over database
columns is :func:`bhyt.db.in_force`."""

from __future__ import annotations

from datetime import date
from typing import Protocol


class Period(Protocol):
    @property
    def valid_from(self) -> date: ...

    @property
    def valid_to(self) -> date | None: ...


def in_force(valid_from: date, valid_to: date | None, at: date) -> bool:
    """Whether the period covers ``at``.

    >>> in_force(date(2025, 1, 1), None, date(2030, 1, 1))
    True
    >>> in_force(date(2025, 1, 1), date(2025, 12, 31), date(2026, 1, 1))
    False
    """
    return valid_from <= at and (valid_to is None or at <= valid_to)


def covers(period: Period, at: date) -> bool:
    """Whether ``period`` (anything with ``valid_from`` and ``valid_to``) covers ``at``."""
    return in_force(period.valid_from, period.valid_to, at)
