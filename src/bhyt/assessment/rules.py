"""What a rule is: a declarative check with a stable code, its legal basis and a severity.

A rule never changes a claim. It names the rows of a view (one row per claim, or one per line)
that break it, once as an Ibis expression for the columnar engines and once as a plain Python
predicate for the reference evaluator; the two are held equal by property tests. A separate step
(:mod:`bhyt.assessment.engine`, :mod:`bhyt.assessment.outcome`) turns the findings into amounts and a status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir

from bhyt.policy.params import ParameterSet


class Severity(StrEnum):
    """What a finding costs (ordered from the heaviest)."""

    REJECT_CLAIM = "reject_claim"  # nothing of the claim is paid
    REJECT_LINE = "reject_line"  # the line is not paid
    ADJUST = "adjust"  # paid, but less than claimed: the amounts step recomputes it
    REVIEW = "review"  # a human decides; amounts are what would be paid if they agree
    INFO = "info"  # recorded, costs nothing


class Scope(StrEnum):
    CLAIM = "claim"
    LINE = "line"


class Needs(StrEnum):
    """Inputs beyond the claim, the policy parameters and the shipped reference lists."""

    CATALOGUE = "catalogue"  # drug/service catalogue and each facility's approved price list
    REGISTRY = "registry"  # facilities (technical level); people and cards
    DB = "db"  # claims assessed in earlier runs (the database of --db)


Row = Mapping[str, Any]


@dataclass(frozen=True)
class Ctx:
    """What a rule may read besides its row: the parameters and the date they are read at."""

    params: ParameterSet
    at: Callable[[Row], date]  # the parameter date of a row (its admission day, or --policy-date)


EngineCondition = Callable[[ir.Table, "EngineCtx"], ir.BooleanValue]
ReferenceCondition = Callable[[Row, Ctx], bool]


class EngineCtx:
    """Parameters for Ibis expressions: a value per parameter epoch, chosen by the row's ``epoch``.

    Parameters change on known dates; every claim of a batch falls in one of a few epochs, and an
    expression built for each epoch's date is selected by a CASE on the row's epoch number."""

    def __init__(self, params: ParameterSet, epoch_dates: list[date]) -> None:
        self.params = params
        self.dates = epoch_dates

    def per_epoch(self, view: ir.Table, build: Callable[[date], ir.Value]) -> Any:
        if len(self.dates) == 1:
            return build(self.dates[0])
        branches = [(view.epoch == i, build(d)) for i, d in enumerate(self.dates)]
        return ibis.cases(*branches)


@dataclass(frozen=True)
class Rule:
    code: str  # stable: reports, appeals and the fraud models refer to it
    title: str  # English
    title_vi: str
    basis: str  # legal basis, with the evidence label of assessment-rules.md
    severity: Severity
    scope: Scope
    message: str  # English, with {column} placeholders filled from the view row
    message_vi: str
    engine: EngineCondition
    reference: ReferenceCondition
    args: tuple[str, ...] = ()  # view columns the message quotes
    needs: frozenset[Needs] = field(default_factory=frozenset)
    reason_code: str | None = None  # BHXH's S.xxx.yyy code where one is known

    def text(self, values: Mapping[str, Any], lang: str = "vi") -> str:
        template = self.message_vi if lang == "vi" else self.message
        return template.format(**{k: _show(values.get(k)) for k in self.args})


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
