"""Code lists the intake checks fields against, as in force on the day the episode began.

The lists are policy parameters (``codes.*``, ``visit.types``, ``route.rates``, …), so a list that changes
on a date (QĐ 4750 adding outcome 8, QĐ 1804 adding visit types 10–16) is read as at the claim's day.
ICD-10 codes come from the Ministry's list (QĐ 4469) the package ships. An unknown code is a warning kept
with the claim: the assessment decides what it costs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from functools import cache, lru_cache

from bhyt.errors import BhytError
from bhyt.policy.params import default_parameters
from bhyt.refdata import icd10_rows

# (table, field) -> the parameter listing its codes.
CODE_LISTS: dict[tuple[str, str], str] = {
    ("XML1", "GIOI_TINH"): "codes.sex",
    ("XML1", "KET_QUA_DTRI"): "codes.outcome",
    ("XML1", "MA_LOAI_RV"): "codes.discharge_type",
    ("XML1", "MA_LOAI_KCB"): "visit.types",
    ("XML1", "MA_KHUVUC"): "benefit.living_area_codes",
    ("XML2", "MA_NHOM"): "codes.cost_group",
    ("XML3", "MA_NHOM"): "codes.cost_group",
    ("XML2", "PHAM_VI"): "codes.scope",
    ("XML3", "PHAM_VI"): "codes.scope",
    ("XML2", "MA_PTTT"): "codes.payment_method",
    ("XML3", "MA_PTTT"): "codes.payment_method",
}
ROUTE = ("XML1", "MA_DOITUONG_KCB")
WITHDRAWAL = "8"  # not a route: the code that withdraws a claim (bhyt-spec §1.13.3)


@lru_cache(maxsize=4096)
def codes_in_force(name: str, day: date) -> frozenset[str] | None:
    """The codes of list ``name`` on ``day``; None when no list is in force then (nothing to check)."""
    params = default_parameters()
    try:
        if name == "route.rates":
            return frozenset(params.route_rates(name, day)) | {WITHDRAWAL}
        return frozenset(params.code_list(name, day))
    except BhytError:
        return None


@cache
def _icd10() -> dict[str, bool]:
    """ICD-10 key (the code without its dot) -> allowed as a main diagnosis."""
    return {row["key"]: row["main_allowed"] == "1" for row in icd10_rows()}


def icd_problem(code: str, main: bool) -> str | None:
    """``unknown`` when ``code`` is not in the Ministry's ICD-10 list, ``not_main`` when it may not be the
    main diagnosis, else None."""
    allowed = _icd10().get(code.replace(".", "").strip().upper())
    if allowed is None:
        return "unknown"
    return "not_main" if main and not allowed else None


def code_problems(tables: dict[str, list[dict[str, str]]], day: date) -> Iterator[tuple[str, int, str, str, str]]:
    """(table, row, field, value, list) for every coded value not in its list on ``day``; row counts from 1."""
    for (table, name), list_name in (*CODE_LISTS.items(), (ROUTE, "route.rates")):
        rows = tables.get(table)
        if not rows:
            continue
        allowed = codes_in_force(list_name, day)
        if allowed is None:
            continue
        values = [record.get(name, "") for record in rows]
        if allowed.issuperset(filter(None, values)):
            continue  # the usual case, tested in one pass
        for i, value in enumerate(values, start=1):
            if value and value not in allowed:
                yield table, i, name, value, list_name
